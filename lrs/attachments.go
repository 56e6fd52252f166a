package lrs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// usageSignature is the usageType of a JWS signature attachment (Data 2.6.s4.b1).
const usageSignature = "http://adlnet.gov/expapi/attachments/signature"

// maxSignatureBytes bounds the JWS of a signed statement the LRS reads to
// verify it.
const maxSignatureBytes = 1 << 20

// attachment is the part of an Attachment object the LRS reads.
type attachment struct {
	UsageType   string `json:"usageType"`
	ContentType string `json:"contentType"`
	SHA2        string `json:"sha2"`
	FileURL     string `json:"fileUrl"`
	Length      int64  `json:"-"` // set by attachmentsIn only
}

// attachmentsOf returns the attachments of a statement.
func attachmentsOf(raw []byte) ([]attachment, error) {
	var st struct {
		Attachments []attachment `json:"attachments"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, statements.Errorf(statements.EInvalid, "statement: %v", err)
	}
	return st.Attachments, nil
}

// attachmentsIn returns the attachments of a decoded statement.
func attachmentsIn(doc map[string]any) []attachment {
	list, _ := doc["attachments"].([]any)
	out := make([]attachment, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		n, _ := m["length"].(json.Number)
		length, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			length = -1 // validation refuses that
		}
		out = append(out, attachment{UsageType: str("usageType"), ContentType: str("contentType"), SHA2: str("sha2"), FileURL: str("fileUrl"), Length: length})
	}
	return out
}

// acceptAttachments checks the attachments of the validated statements
// raws against the parts of the request: each attachment has a fileUrl or
// a part with its hash (Communication 1.5.2.s3.b5), a part has the
// attachment's length, and each signature attachment has a part holding a
// JWS that verifies against its statement (Data 2.6.s5). Paths name the
// batch member when batch. That each part belongs to an attachment,
// receive checked.
func acceptAttachments(stmts []validation.Parsed, parts *attachmentParts, batch bool) error {
	for i, st := range stmts {
		prefix := ""
		if batch {
			prefix = fmt.Sprintf("/%d", i)
		}
		raw := st.Raw
		for j, a := range attachmentsIn(st.Doc) {
			p := parts.get(a.SHA2)
			path := fmt.Sprintf("%s/attachments/%d", prefix, j)
			if a.UsageType == usageSignature {
				if p == nil {
					return statements.Errorf(statements.EInvalid,
						"%s: a signature attachment needs its JWS in a multipart/mixed part with %s %s, so the LRS can verify it (Data 2.6.s5.b3)",
						path, hashHeader, a.SHA2)
				}
				if err := verifyAttachedSignature(raw, p); err != nil {
					return atPath(path, err)
				}
				continue
			}
			if p == nil && a.FileURL == "" {
				return statements.Errorf(statements.EInvalid,
					"%s: an attachment without fileUrl needs its content in a multipart/mixed part with %s %s (Communication 1.5.2.s3.b5)",
					path, hashHeader, a.SHA2)
			}
		}
	}
	return nil
}

// verifyAttachedSignature reads the JWS of part p and verifies it against
// the received statement raw.
func verifyAttachedSignature(raw []byte, p *attachmentPart) error {
	if p.size > maxSignatureBytes {
		return statements.Errorf(statements.EInvalid, "the signature is larger than %d bytes", maxSignatureBytes)
	}
	jws, err := io.ReadAll(p.open())
	if err != nil {
		return statements.Internal(err, "cannot read a spooled attachment")
	}
	return verifySignature(raw, jws)
}

// atPath puts a JSON path in front of the message of an invalid-data error.
func atPath(path string, err error) error {
	de, _ := asDomainError(err)
	if de.Code != statements.EInvalid {
		return err
	}
	return statements.Errorf(statements.EInvalid, "%s: %s", path, de.Message)
}

// storeAttachments stores the content of every part, before the
// statements that refer to it, so a stored statement always has its
// attachments.
func (s *Server) storeAttachments(ctx context.Context, tenant string, parts *attachmentParts) error {
	if parts == nil {
		return nil
	}
	for _, p := range parts.order {
		if err := s.store.PutAttachment(ctx, tenant, p.sha2, p.open()); err != nil {
			return err
		}
	}
	return nil
}

// attachmentRef is an attachment whose content a response carries.
type attachmentRef struct{ sha2, contentType string }

// attachmentsToSend returns the distinct attachments of recs, in order,
// whose content a response with attachments=true carries. For a
// credential that reads only its own statements (mine) these are only the
// attachments whose content the credential must have sent itself: those
// without a fileUrl (Communication 1.5.2.s3.b5) and signatures (Data
// 2.6.s5.b3). Content is kept once per tenant and hash, so an attachment
// that names only a hash and a fileUrl could otherwise fetch the content
// another credential sent.
func attachmentsToSend(recs []*statements.Record, mine bool) ([]attachmentRef, error) {
	var out []attachmentRef
	seen := map[string]bool{}
	for _, rec := range recs {
		atts, err := attachmentsOf(rec.Statement)
		if err != nil {
			return nil, statements.Internal(err, "stored statement is not JSON")
		}
		for _, a := range atts {
			sha := strings.ToLower(a.SHA2)
			if sha == "" || seen[sha] || (mine && a.FileURL != "" && a.UsageType != usageSignature) {
				continue
			}
			seen[sha] = true
			out = append(out, attachmentRef{sha, a.ContentType})
		}
	}
	return out, nil
}

// respondWithAttachments answers with the multipart/mixed response format
// (Communication 1.5.2, 2.1.3.s2.b6): the JSON that body writes (a
// statement or a StatementResult) as the first part, then the content of
// each of atts that the LRS holds. Content is streamed from the store, one
// attachment open at a time; attachments known only by fileUrl have no
// part.
func (s *Server) respondWithAttachments(c *gin.Context, atts []attachmentRef, body func(io.Writer) error) {
	ctx := c.Request.Context()
	tenant := credentialOf(c).Tenant
	mw := multipart.NewWriter(c.Writer)
	var b [16]byte
	rand.Read(b[:])
	boundary := "xapi-" + hex.EncodeToString(b[:])
	mw.SetBoundary(boundary)
	c.Header("Content-Type", "multipart/mixed; boundary="+boundary)
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	if err == nil {
		err = body(w)
	}
	for _, a := range atts {
		if err != nil {
			break
		}
		err = s.writeAttachment(ctx, mw, tenant, a)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		s.cutShort(c, err)
	}
}

// writeAttachment writes the content of a as a part of mw, if the LRS
// holds it.
func (s *Server) writeAttachment(ctx context.Context, mw *multipart.Writer, tenant string, a attachmentRef) error {
	r, n, err := s.store.Attachment(ctx, tenant, a.sha2)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	ct := a.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {ct},
		"Content-Transfer-Encoding": {"binary"},
		hashHeader:                  {a.sha2},
		"Content-Length":            {fmt.Sprint(n)},
	})
	if err == nil {
		_, err = io.Copy(w, r)
	}
	return err
}
