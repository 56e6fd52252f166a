package lrs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

const (
	hashHeader = "X-Experience-API-Hash"
	cteHeader  = "Content-Transfer-Encoding"
)

// The attachment parts of one request. Their bytes together are bounded
// by the body limit (Server.bodyLimit).
const (
	// maxAttachmentParts bounds the attachment parts of a request,
	// whatever its statements declare.
	maxAttachmentParts = 1000
	// memoryPart is the largest part content kept in memory; larger
	// content goes to the request's spool file.
	memoryPart = 64 << 10
	// memoryParts bounds the part content a request keeps in memory.
	memoryParts = 1 << 20
)

// attachmentPart is the content of one attachment part of a request: in
// memory when small, else in the request's spool file.
type attachmentPart struct {
	sha2        string // lower-case hex, checked against the content
	contentType string
	size        int64
	mem         []byte   // the content, when in memory
	file        *os.File // else the spool file that holds it at off
	off         int64
}

// open returns a reader of the part's content from its start.
func (p *attachmentPart) open() io.Reader {
	if p.file == nil {
		return bytes.NewReader(p.mem)
	}
	return io.NewSectionReader(p.file, p.off, p.size)
}

// attachmentParts are the attachment parts of a multipart/mixed request:
// unread behind the statements part until the statements are validated,
// then by their hash, in the order received. A nil *attachmentParts (a
// JSON request) has none.
//
// Whatever a request sends, it holds at most memoryParts bytes of content
// in memory and one temporary file: the spool file, which holds the rest
// of the parts one after another.
type attachmentParts struct {
	mr     *multipart.Reader // the parts not yet received; nil once they are
	bySHA2 map[string]*attachmentPart
	order  []*attachmentPart
	mem    int64 // bytes of content in memory

	file     *os.File // the spool file; nil until a part needs it
	fileSize int64
	removed  bool // the spool file is gone from its directory already
}

func (ps *attachmentParts) get(sha2 string) *attachmentPart {
	if ps == nil {
		return nil
	}
	return ps.bySHA2[strings.ToLower(sha2)]
}

// Close removes the spool file.
func (ps *attachmentParts) Close() {
	if ps == nil || ps.file == nil {
		return
	}
	ps.file.Close()
	if !ps.removed {
		os.Remove(ps.file.Name())
	}
	ps.file = nil
}

// spoolFile returns the spool file, created at the first call.
func (ps *attachmentParts) spoolFile() (*os.File, error) {
	if ps.file != nil {
		return ps.file, nil
	}
	f, err := os.CreateTemp("", "lrs-attachments-*")
	if err != nil {
		return nil, spoolError(err)
	}
	// Removed from its directory at once (where the system allows it), the
	// file is gone when it is closed, even by the end of the process.
	ps.removed = os.Remove(f.Name()) == nil
	ps.file = f
	return f, nil
}

// readStatementsBody reads the statements of PUT or POST /statements: the
// body as JSON, or the first part of a multipart/mixed body, whose other
// parts hold the attachments' content (Communication 1.5.2). With batch >
// 0, the statements are at most batch. For multipart/mixed the attachment
// parts are left unread: the caller validates the statements, then
// receives the parts, and closes them.
func (s *Server) readStatementsBody(c *gin.Context, batch int) ([]byte, *attachmentParts, error) {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		body, err := s.readJSONBody(c, batch)
		return body, nil, err
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, nil, statements.Errorf(statements.EInvalid, "Content-Type: %v", err)
	}
	if mt != "multipart/mixed" {
		body, err := s.readJSONBody(c, batch)
		return body, nil, err
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, nil, statements.Errorf(statements.EInvalid, "Content-Type: multipart/mixed needs a boundary parameter")
	}
	// The whole body, attachments and all, has the body limit of the
	// credential; the statements part is also held to Config.MaxBodyBytes.
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.bodyLimit(limitsOf(c)))
	mr := multipart.NewReader(body, boundary)
	stmts, err := s.readStatementsPart(mr, batch)
	if err != nil {
		return nil, nil, err
	}
	return stmts, &attachmentParts{mr: mr, bySHA2: map[string]*attachmentPart{}}, nil
}

// readStatementsPart reads the first part of a multipart/mixed body.
func (s *Server) readStatementsPart(mr *multipart.Reader, batch int) ([]byte, error) {
	first, err := mr.NextRawPart()
	if err == io.EOF {
		return nil, statements.Errorf(statements.EInvalid, "body: a multipart/mixed request needs a first part with the statements")
	}
	if err != nil {
		return nil, multipartError(err)
	}
	mt, _, err := mime.ParseMediaType(first.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, statements.Errorf(statements.EInvalid,
			"multipart part 1: the statements part must have Content-Type application/json (Communication 1.5.2.s2.b2.b6)")
	}
	stmts, err := readBody(first, s.maxBody, batch)
	if err == errOverLimit {
		return nil, statements.Errorf(statements.ETooLarge, "multipart part 1: statements larger than %d bytes", s.maxBody)
	}
	if err != nil {
		return nil, multipartError(err)
	}
	if len(bytes.TrimSpace(stmts)) == 0 {
		return nil, statements.Errorf(statements.EInvalid, "multipart part 1: a statement is required")
	}
	return stmts, nil
}

// receive reads the attachment parts once the statements stmts are
// validated. A part must carry the hash of an attachment of stmts; one
// that does not is refused before its content is read, as is a part
// beyond the attachments of stmts or beyond maxAttachmentParts.
func (ps *attachmentParts) receive(stmts []validation.Parsed) error {
	if ps == nil || ps.mr == nil {
		return nil
	}
	mr := ps.mr
	ps.mr = nil
	declared := map[string]bool{}
	count := 0
	for _, st := range stmts {
		for _, a := range attachmentsIn(st.Doc) {
			declared[strings.ToLower(a.SHA2)] = true
			count++
		}
	}
	for n := 2; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return multipartError(err)
		}
		if n-1 > maxAttachmentParts {
			return statements.Errorf(statements.ETooLarge,
				"body: more than %d attachment parts in one request; send the statements in smaller batches", maxAttachmentParts)
		}
		sha2, err := partHash(n, p, declared)
		if err != nil {
			return err
		}
		if n-1 > count {
			return statements.Errorf(statements.EInvalid,
				"multipart part %d: the statements have %d attachment(s), and at most one part each", n, count)
		}
		if err := ps.spool(n, p, sha2); err != nil {
			return err
		}
	}
}

// partHash checks the headers of attachment part n and returns its hash,
// which must be in want.
func partHash(n int, p *multipart.Part, want map[string]bool) (string, error) {
	sha2 := strings.ToLower(strings.TrimSpace(p.Header.Get(hashHeader)))
	if sha2 == "" {
		return "", statements.Errorf(statements.EInvalid,
			"multipart part %d: an attachment part must have an %s header (Communication 1.5.2.s2.b2.b3)", n, hashHeader)
	}
	if statements.NewSHA2(sha2) == nil {
		return "", statements.Errorf(statements.EInvalid,
			"multipart part %d: %s must be a hex SHA-2 hash (56, 64, 96 or 128 hex digits)", n, hashHeader)
	}
	// Binary is assumed when the header is missing (Communication 1.5.2.s3.b6).
	if cte := strings.TrimSpace(p.Header.Get(cteHeader)); cte != "" && !strings.EqualFold(cte, "binary") {
		return "", statements.Errorf(statements.EInvalid,
			"multipart part %d: %s must be binary, not %q (Communication 1.5.2.s2.b2.b4)", n, cteHeader, cte)
	}
	if !want[sha2] {
		return "", statements.Errorf(statements.EInvalid,
			"multipart part %d: no attachment of the statements has the sha2 %s of its %s header", n, sha2, hashHeader)
	}
	return sha2, nil
}

// spool hashes the content of part n, whose headers say sha2, into memory
// or the spool file and adds it, once per hash. The body limit bounds what
// it reads. An attachment's "length" is not checked against the part: the
// ADL conformance suite sends parts whose length differs from the one
// declared and requires them accepted, and the hash already ties the
// content to the statement.
func (ps *attachmentParts) spool(n int, p *multipart.Part, sha2 string) error {
	h := statements.NewSHA2(sha2)
	_, dup := ps.bySHA2[sha2]
	part := &attachmentPart{sha2: sha2, contentType: p.Header.Get("Content-Type")}
	r := io.TeeReader(p, h)
	head, err := io.ReadAll(io.LimitReader(r, memoryPart+1))
	if err != nil {
		return multipartError(err)
	}
	part.size = int64(len(head))
	switch {
	case dup:
		// The same content twice: hashed, and one copy kept.
		k, err := io.Copy(io.Discard, r)
		if err != nil {
			return multipartError(err)
		}
		part.size += k
	case part.size <= memoryPart && ps.mem+part.size <= memoryParts:
		part.mem = head
		ps.mem += part.size
	default:
		f, err := ps.spoolFile()
		if err != nil {
			return err
		}
		part.file, part.off = f, ps.fileSize
		_, err = f.Write(head)
		if err == nil {
			var k int64
			k, err = io.Copy(f, r)
			part.size += k
		}
		ps.fileSize += part.size
		var pe *os.PathError
		if errors.As(err, &pe) {
			return spoolError(err)
		}
		if err != nil {
			return multipartError(err)
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha2 {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: the content's SHA-2 is %s, not the %s %s", n, got, hashHeader, sha2)
	}
	if dup {
		return nil
	}
	ps.bySHA2[sha2] = part
	ps.order = append(ps.order, part)
	return nil
}

// multipartError is the error of a multipart/mixed body that could not be
// read: ETooLarge over the body limit, else EInvalid.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	var de *statements.Error
	switch {
	case errors.As(err, &mbe):
		return statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", mbe.Limit)
	case errors.As(err, &de):
		return err
	}
	return statements.Errorf(statements.EInvalid, "body: not a valid multipart/mixed body: %v", err)
}

// spoolError is the error of a spool file that cannot be created or
// written: a full or failing temporary directory cannot take the request
// now (503, retried later); anything else is a fault of the LRS.
func spoolError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO) {
		return &statements.Error{Code: statements.EUnavailable, Message: "cannot spool an attachment: the temporary directory is full or failing", Err: err}
	}
	return statements.Internal(err, "cannot spool an attachment")
}
