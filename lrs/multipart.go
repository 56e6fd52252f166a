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

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

const (
	hashHeader = "X-Experience-API-Hash"
	cteHeader  = "Content-Transfer-Encoding"
)

// attachmentPart is the content of one attachment part of a request,
// spooled to a temporary file while it was hashed, so that large content
// never sits in memory whole.
type attachmentPart struct {
	sha2        string // lower-case hex, checked against the content
	contentType string
	size        int64
	file        *os.File
}

// open returns a reader of the part's content from its start.
func (p *attachmentPart) open() (io.Reader, error) {
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return nil, statements.Internal(err, "cannot read a spooled attachment")
	}
	return io.LimitReader(p.file, p.size), nil
}

// attachmentParts are the attachment parts of a multipart/mixed request:
// unread behind the statements part until the statements are validated,
// then by their hash, in the order received. A nil *attachmentParts (a
// JSON request) has none.
type attachmentParts struct {
	mr     *multipart.Reader // the parts not yet received; nil once they are
	bySHA2 map[string]*attachmentPart
	order  []*attachmentPart
}

func (ps *attachmentParts) get(sha2 string) *attachmentPart {
	if ps == nil {
		return nil
	}
	return ps.bySHA2[strings.ToLower(sha2)]
}

// Close removes the spooled files.
func (ps *attachmentParts) Close() {
	if ps == nil {
		return
	}
	for _, p := range ps.order {
		p.file.Close()
		os.Remove(p.file.Name())
	}
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
// that does not is refused before its content is read.
func (ps *attachmentParts) receive(stmts []validation.Parsed) error {
	if ps == nil || ps.mr == nil {
		return nil
	}
	mr := ps.mr
	ps.mr = nil
	declared := map[string]bool{}
	for _, st := range stmts {
		for _, a := range attachmentsIn(st.Doc) {
			declared[strings.ToLower(a.SHA2)] = true
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
		if err := ps.spool(n, p, declared); err != nil {
			return err
		}
	}
}

// spool hashes part n to a temporary file and adds it, once per hash;
// a part whose hash is not declared is refused unread.
func (ps *attachmentParts) spool(n int, p *multipart.Part, want map[string]bool) error {
	declared := strings.ToLower(strings.TrimSpace(p.Header.Get(hashHeader)))
	if declared == "" {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: an attachment part must have an %s header (Communication 1.5.2.s2.b2.b3)", n, hashHeader)
	}
	h := statements.NewSHA2(declared)
	if h == nil {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: %s must be a hex SHA-2 hash (56, 64, 96 or 128 hex digits)", n, hashHeader)
	}
	// Binary is assumed when the header is missing (Communication 1.5.2.s3.b6).
	if cte := strings.TrimSpace(p.Header.Get(cteHeader)); cte != "" && !strings.EqualFold(cte, "binary") {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: %s must be binary, not %q (Communication 1.5.2.s2.b2.b4)", n, cteHeader, cte)
	}
	if !want[declared] {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: no attachment of the statements has the sha2 %s of its %s header", n, declared, hashHeader)
	}
	f, err := os.CreateTemp("", "lrs-attachment-*")
	if err != nil {
		return statements.Internal(err, "cannot spool an attachment")
	}
	part := &attachmentPart{sha2: declared, contentType: p.Header.Get("Content-Type"), file: f}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	part.size, err = io.Copy(io.MultiWriter(f, h), p)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return statements.Internal(err, "cannot spool an attachment")
		}
		return multipartError(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != declared {
		return statements.Errorf(statements.EInvalid,
			"multipart part %d: the content's SHA-2 is %s, not the %s %s", n, got, hashHeader, declared)
	}
	if _, dup := ps.bySHA2[declared]; dup {
		return nil // the same content twice: keep one copy
	}
	keep = true
	ps.bySHA2[declared] = part
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
