package lrs

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"runtime"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// handlePutStatement serves PUT /xapi/statements?statementId=: stores one
// statement under the given id, with the content of its attachments when
// the body is multipart/mixed.
func (s *Server) handlePutStatement(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	if err := allowParams(q, "statementId"); err != nil {
		s.fail(c, err)
		return
	}
	id := q.Get("statementId")
	if id == "" {
		s.fail(c, statements.Errorf(statements.EInvalid, "statementId: required parameter"))
		return
	}
	if !isUUID(id) {
		s.fail(c, statements.Errorf(statements.EInvalid, "statementId: must be a UUID"))
		return
	}
	body, parts, err := s.readStatementsBody(c, 0)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer parts.Close()
	st, err := validation.ParseStatement(versionOf(c), body)
	if err != nil {
		s.recordRejectedXAPI(ctx, credentialOf(c), versionOf(c), body, err)
		s.fail(c, err)
		return
	}
	rec, err := s.newRecord(c, st, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if rec.ID != strings.ToLower(id) {
		s.fail(c, statements.Errorf(statements.EInvalid, "/id: %q does not match the statementId parameter %q", rec.ID, id))
		return
	}
	if err := parts.receive([]validation.Parsed{st}); err != nil {
		s.fail(c, err)
		return
	}
	if err := acceptAttachments([]validation.Parsed{st}, parts, false); err != nil {
		s.fail(c, err)
		return
	}
	cred := credentialOf(c)
	recs := []*statements.Record{rec}
	if err := s.limitVoiding(ctx, cred, recs); err != nil {
		s.fail(c, err)
		return
	}
	flags, err := s.checkProfile(ctx, cred, []validation.Parsed{st}, recs)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.storeAttachments(ctx, cred.Tenant, parts); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.InsertStatements(ctx, cred.Tenant, recs); err != nil {
		s.fail(c, err)
		return
	}
	s.prom.stored.WithLabelValues(cred.Tenant).Add(float64(len(recs)))
	s.recordProfile(ctx, cred, len(recs), flags)
	s.mergeDefinitions(c, recs)
	c.Status(http.StatusNoContent)
}

// handlePostStatements serves POST /xapi/statements: stores one statement
// or an array of statements, all or none, with the content of their
// attachments when the body is multipart/mixed, and returns their ids.
func (s *Server) handlePostStatements(c *gin.Context) {
	ctx := c.Request.Context()
	if err := allowParams(c.Request.URL.Query()); err != nil {
		s.fail(c, err)
		return
	}
	body, parts, err := s.readStatementsBody(c, limitsOf(c).Batch)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer parts.Close()
	raws, recs, err := s.parseBatch(c, body)
	if err != nil {
		s.recordRejectedXAPI(ctx, credentialOf(c), versionOf(c), body, err)
		s.fail(c, err)
		return
	}
	if err := parts.receive(raws); err != nil {
		s.fail(c, err)
		return
	}
	if err := acceptAttachments(raws, parts, len(raws) > 1); err != nil {
		s.fail(c, err)
		return
	}
	cred := credentialOf(c)
	if err := s.limitVoiding(ctx, cred, recs); err != nil {
		s.fail(c, err)
		return
	}
	flags, err := s.checkProfile(ctx, cred, raws, recs)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.storeAttachments(ctx, cred.Tenant, parts); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.InsertStatements(ctx, cred.Tenant, recs); err != nil {
		s.fail(c, err)
		return
	}
	s.prom.stored.WithLabelValues(cred.Tenant).Add(float64(len(recs)))
	s.recordProfile(ctx, cred, len(recs), flags)
	s.mergeDefinitions(c, recs)
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	c.JSON(http.StatusOK, ids)
}

// parseBatch validates a POST body and makes the records of its
// statements, in a parsing slot.
func (s *Server) parseBatch(c *gin.Context, body []byte) ([]validation.Parsed, []*statements.Record, error) {
	release, err := s.parseSlot(c)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	raws, _, err := validation.ParseStatements(versionOf(c), body)
	if err != nil {
		return nil, nil, err
	}
	if max := limitsOf(c).Batch; max > 0 && len(raws) > max {
		return nil, nil, statements.Errorf(statements.ETooLarge, "body: %d statements, over this credential's limit of %d statements per request", len(raws), max)
	}
	recs := make([]*statements.Record, len(raws))
	seen := make(map[string]int, len(raws))
	for i, raw := range raws {
		rec, err := s.newRecord(c, raw, "")
		if err != nil {
			return nil, nil, prefixPath(err, len(raws) > 1, i)
		}
		if j, dup := seen[rec.ID]; dup {
			return nil, nil, statements.Errorf(statements.EInvalid, "/%d/id: statement id %s is also used by statement %d of the batch", i, rec.ID, j)
		}
		seen[rec.ID] = i
		recs[i] = rec
	}
	return raws, recs, nil
}

// limitVoiding makes the voiding statements of a credential that cannot
// read every statement (it lacks statements/read) void only statements it
// stored itself, before or in recs. A voiding statement whose target
// another credential stored, or that is not stored, is kept as an
// ordinary StatementRef (Record.Voids = ""): it voids nothing, now or when
// the target comes, and the forwarders see no voiding. The request
// succeeds either way, as xAPI asks for a target that is not present (Data
// 2.3.2.s2.b5), so voiding tells such a credential nothing of the
// statements it cannot read.
func (s *Server) limitVoiding(ctx context.Context, cred *statements.Credential, recs []*statements.Record) error {
	if grants(cred.Scopes, scopeStatementsRead) {
		return nil
	}
	var inBatch map[string]bool
	for _, r := range recs {
		if r.Voids == "" {
			continue
		}
		t, err := s.store.Statement(ctx, cred.Tenant, r.Voids, false)
		if statements.ErrorCode(err) == statements.ENotFound {
			t, err = s.store.Statement(ctx, cred.Tenant, r.Voids, true)
		}
		switch {
		case err == nil && t.Credential == cred.Key:
			continue
		case err == nil:
		case statements.ErrorCode(err) != statements.ENotFound:
			return err
		default:
			if inBatch == nil {
				inBatch = map[string]bool{}
				for _, r := range recs {
					inBatch[r.ID] = true
				}
			}
			if inBatch[r.Voids] {
				continue
			}
		}
		r.Voids = ""
	}
	return nil
}

// parseSlots is how many requests parse statements at once: one fewer
// than the processors Go runs on, and at least one. Parsing is the part of
// a write that runs in parallel; the store's writer, the part that does
// not, then always finds a processor free instead of queueing behind
// parsers for a scheduling slice after each of its system calls.
func parseSlots() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// parseSlot waits for a parsing slot and returns its release; it gives up
// when the request ends.
func (s *Server) parseSlot(c *gin.Context) (func(), error) {
	select {
	case s.parsing <- struct{}{}:
		return func() { <-s.parsing }, nil
	case <-c.Request.Context().Done():
		return nil, statements.Internal(c.Request.Context().Err(), "the request ended before its statements were read")
	}
}

// newRecord turns a validated statement into the record the store keeps.
// id is used when the statement has none; "" means a new one.
func (s *Server) newRecord(c *gin.Context, p validation.Parsed, id string) (*statements.Record, error) {
	fp := statements.FingerprintDoc(p.Doc)
	if id == "" {
		id = s.newID()
	}
	cred := credentialOf(c)
	version := "1.0.0"
	if versionOf(c) == Version200 {
		version = Version200
	}
	stmt, st, err := statements.AssignDoc(p.Raw, p.Doc, statements.Assigned{
		ID: strings.ToLower(id), Authority: cred.Authority, Version: version, UTC: versionOf(c) == Version200,
	})
	if err != nil {
		return nil, err
	}
	return &statements.Record{
		ID:             strings.ToLower(st.ID),
		Statement:      stmt,
		StampTimestamp: st.Timestamp == "",
		Fingerprint:    fp,
		Terms:          statements.MergeTerms(st.Terms(), []string{statements.CredentialTerm(cred.Key)}),
		RefTarget:      st.RefTarget(),
		Voids:          st.Voids(),
		Credential:     cred.Key,
	}, nil
}

// prefixPath puts the index of a batch member in front of the JSON path of
// an invalid-statement error.
func prefixPath(err error, batch bool, i int) error {
	de, _ := asDomainError(err)
	if !batch || de.Code != statements.EInvalid || !strings.HasPrefix(de.Message, "/") {
		return err
	}
	return statements.Errorf(statements.EInvalid, "/%d%s", i, de.Message)
}

// readJSONBody reads a request body that must be JSON, of at most
// Config.MaxBodyBytes; with batch > 0, of at most batch statements.
func (s *Server) readJSONBody(c *gin.Context, batch int) ([]byte, error) {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, statements.Errorf(statements.EInvalid, "Content-Type: %v", err)
		}
		switch mt {
		case "application/json":
		default:
			return nil, statements.Errorf(statements.EInvalid, "Content-Type: must be application/json or multipart/mixed, not %s", mt)
		}
	}
	if c.Request.ContentLength > s.maxBody {
		return nil, statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", s.maxBody)
	}
	body, err := readBody(c.Request.Body, s.maxBody, batch)
	if err != nil {
		return nil, bodyError(err, s.maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, statements.Errorf(statements.EInvalid, "body: a statement is required")
	}
	return body, nil
}

// bodyError is the error of a body that could not be read: ETooLarge
// when it is over limit or the request's body limit, else EInvalid.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	var de *statements.Error
	switch {
	case errors.As(err, &mbe):
		return statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", mbe.Limit)
	case err == errOverLimit:
		return statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", limit)
	case errors.As(err, &de):
		return err
	}
	return statements.Errorf(statements.EInvalid, "body: %v", err)
}

// consistentThrough sets X-Experience-API-Consistent-Through on every
// response of the statements resource. The watermark is read before the
// handler runs, so everything stored through it is in what a GET returns.
func (s *Server) consistentThrough(c *gin.Context) {
	t, err := s.store.ConsistentThrough(c.Request.Context(), credentialOf(c).Tenant)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("X-Experience-API-Consistent-Through", statements.FormatTime(t))
	c.Set(ctxConsistent, t)
	c.Next()
}
