package lrs

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// DefaultPageBytes is the default Config.PageBytes: 16 MiB, the size of
// the largest statement a request may carry.
const DefaultPageBytes = 16 << 20

// statementQuery is a parsed GET /xapi/statements request.
type statementQuery struct {
	StatementID string
	VoidedID    string
	Filter      statements.Filter
	Format      string
	Attachments bool
}

// moreToken is what a "more" URL carries: the query to continue.
type moreToken struct {
	Filter      statements.Filter `json:"f"`
	Format      string            `json:"fmt,omitempty"`
	Attachments bool              `json:"att,omitempty"`
}

// handleGetStatements serves GET and HEAD /xapi/statements: one statement
// by statementId or voidedStatementId, or a page of a query. A page holds
// at most Config.PageBytes of statements (readPage) and is written out one
// statement at a time (writeResult), so a GET holds about that much in
// memory, whatever its limit.
func (s *Server) handleGetStatements(c *gin.Context) {
	ctx := c.Request.Context()
	cred := credentialOf(c)
	q, err := parseStatementQuery(c.Request.URL.Query(), versionOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	// A credential that may read only its own statements sees the others'
	// as if they did not exist.
	mine := !grants(cred.Scopes, scopeStatementsRead)
	q.Filter.Credential, q.Filter.MaxBytes = "", 0
	if mine {
		q.Filter.Credential = cred.Key
	}
	if l := limitsOf(c).QueryLimit; l > 0 && (q.Filter.Limit == 0 || q.Filter.Limit > l) {
		q.Filter.Limit = l
	}
	langs := statements.ParseAcceptLanguage(c.GetHeader("Accept-Language"))
	defs := &definitions{} // canonical activity definitions read so far

	if q.StatementID != "" || q.VoidedID != "" {
		rec, err := s.oneStatement(ctx, cred, q, mine)
		if err != nil {
			s.fail(c, err)
			return
		}
		out, err := s.formatStatement(ctx, cred.Tenant, rec, q.Format, langs, defs)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.setLastModified(c, rec.Stored)
		if q.Attachments {
			atts, err := attachmentsToSend([]*statements.Record{rec}, mine)
			if err != nil {
				s.fail(c, err)
				return
			}
			s.respondWithAttachments(c, atts, func(w io.Writer) error {
				_, err := w.Write(out)
				return err
			})
			return
		}
		c.Data(http.StatusOK, "application/json", out)
		return
	}

	recs, more, err := s.readPage(ctx, cred, q.Filter, mine)
	if err != nil {
		s.fail(c, err)
		return
	}
	var last time.Time
	for _, rec := range recs {
		if rec.Stored.After(last) {
			last = rec.Stored
		}
	}
	s.setLastModified(c, last)
	moreURL := ""
	if more {
		next := q.Filter
		next.After, next.Credential, next.MaxBytes = recs[len(recs)-1].Position, "", 0
		moreURL = "/xapi/statements?more=" + encodeMore(moreToken{Filter: next, Format: q.Format, Attachments: q.Attachments})
	}
	write := func(w io.Writer) error {
		return s.writeResult(ctx, w, cred.Tenant, recs, moreURL, q.Format, langs, defs)
	}
	if q.Attachments {
		atts, err := attachmentsToSend(recs, mine)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.respondWithAttachments(c, atts, write)
		return
	}
	c.Header("Content-Type", "application/json")
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	// The page goes out through a buffer: a few large writes instead of
	// one per 2 KB chunk, and a page that fits in it has a Content-Length.
	bw := responseBuffers.Get().(*bufio.Writer)
	defer func() {
		bw.Reset(nil)
		responseBuffers.Put(bw)
	}()
	bw.Reset(c.Writer)
	err = write(bw)
	if err == nil {
		if !c.Writer.Written() {
			c.Header("Content-Length", strconv.Itoa(bw.Buffered()))
		}
		err = bw.Flush()
	}
	if err != nil {
		if !c.Writer.Written() {
			s.fail(c, err)
			return
		}
		s.cutShort(c, err)
	}
}

// responseBuffers are the buffers pages of statements are written through.
var responseBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// oneStatement returns the statement a statementId or voidedStatementId
// query asks for. A credential that reads only its own statements gets,
// for another's statement, the very answer of a statement that does not
// exist.
func (s *Server) oneStatement(ctx context.Context, cred *statements.Credential, q *statementQuery, mine bool) (*statements.Record, error) {
	id, voided, what := strings.ToLower(q.StatementID), false, "statement"
	if q.VoidedID != "" {
		id, voided, what = strings.ToLower(q.VoidedID), true, "voided statement"
	}
	rec, err := s.store.Statement(ctx, cred.Tenant, id, voided)
	if err == nil && mine && rec.Credential != cred.Key {
		err = statements.Errorf(statements.ENotFound, "not this credential's")
	}
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, statements.Errorf(statements.ENotFound, "no %s %s", what, id)
	}
	return rec, err
}

// readPage reads a page of the query f: at most f.PageLimit() statements
// the credential may see, of at most Config.PageBytes as stored (and at
// least one), and whether statements past them match too. It asks the
// store for the page in steps bounded by the bytes left, so it never holds
// much more than PageBytes of statements. For a credential that reads only
// its own statements (mine), it passes over the statements it may not see
// (mineMatches) and reads on, so a page is never cut short, or its more
// link set, by a statement it does not show.
func (s *Server) readPage(ctx context.Context, cred *statements.Credential, f statements.Filter, mine bool) ([]*statements.Record, bool, error) {
	want := f.PageLimit()
	var recs []*statements.Record
	var size int64
	for {
		// One more than the page needs: a statement past the page is
		// what sets more.
		f.Limit = min(want-len(recs)+1, statements.MaxLimit)
		f.MaxBytes = max(1, s.pageBytes-size)
		p, err := s.store.QueryStatements(ctx, cred.Tenant, f)
		if err != nil {
			return nil, false, err
		}
		for _, r := range p.Records {
			if mine {
				ok, err := s.mineMatches(ctx, cred, f, r)
				if err != nil {
					return nil, false, err
				}
				if !ok {
					continue
				}
			}
			n := int64(len(r.Statement))
			if len(recs) == want || (len(recs) > 0 && size+n > s.pageBytes) {
				return recs, true, nil
			}
			recs = append(recs, r)
			size += n
		}
		if !p.More || len(p.Records) == 0 {
			return recs, false, nil
		}
		f.After = p.Records[len(p.Records)-1].Position
	}
}

// maxRefChain bounds the chain of StatementRefs mineMatches follows.
const maxRefChain = 16

// mineMatches reports whether a credential that reads only its own
// statements sees r as a match of f: r is its own, and matches f's terms
// by itself or through references to statements the credential stored
// too. A StatementRef matches its target's terms (Store.InsertStatements);
// through another credential's statement that would tell whether that
// statement has them.
func (s *Server) mineMatches(ctx context.Context, cred *statements.Credential, f statements.Filter, r *statements.Record) (bool, error) {
	if r.Credential != cred.Key {
		return false, nil
	}
	f.Credential = ""
	need := f.Terms()
	if r.RefTarget == "" || len(need) == 0 {
		return true, nil
	}
	have := map[string]bool{}
	for range maxRefChain {
		var st statements.Statement
		if err := json.Unmarshal(r.Statement, &st); err != nil {
			return false, statements.Internal(err, "stored statement is not JSON")
		}
		for _, t := range st.Terms() {
			have[t] = true
		}
		if !slices.ContainsFunc(need, func(t string) bool { return !have[t] }) {
			return true, nil
		}
		if r.RefTarget == "" {
			return false, nil
		}
		next, err := s.store.Statement(ctx, cred.Tenant, r.RefTarget, false)
		if statements.ErrorCode(err) == statements.ENotFound {
			next, err = s.store.Statement(ctx, cred.Tenant, r.RefTarget, true)
		}
		if statements.ErrorCode(err) == statements.ENotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if next.Credential != cred.Key {
			return false, nil
		}
		r = next
	}
	return false, nil
}

// writeResult writes the StatementResult of recs to w, one statement at a
// time, letting go of each record once it is written. It writes nothing
// before the first statement is formatted, so that an error there can
// still be answered as one.
func (s *Server) writeResult(ctx context.Context, w io.Writer, tenant string, recs []*statements.Record, more, format string, langs []string, defs *definitions) error {
	sep := `{"statements":[`
	for i, rec := range recs {
		out, err := s.formatStatement(ctx, tenant, rec, format, langs, defs)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
		sep, recs[i] = ",", nil
	}
	if len(recs) > 0 {
		sep = ""
	}
	m, _ := json.Marshal(more)
	_, err := fmt.Fprintf(w, `%s],"more":%s}`, sep, m)
	return err
}

// cutShort ends a response whose body is under way when err stops it: the
// error is logged, and the connection is dropped so that the client sees
// a broken response rather than a complete one that lacks statements.
func (s *Server) cutShort(c *gin.Context, err error) {
	de, _ := asDomainError(err)
	s.log.Error().Err(de).Str("request_id", requestIDOf(c)).Str("method", c.Request.Method).
		Str("path", c.Request.URL.Path).Msg("response cut short")
	panic(http.ErrAbortHandler)
}

// formatStatement returns a stored statement in format; the canonical
// format first puts in the LRS's canonical activity definitions, cached in
// defs, then filters languages.
func (s *Server) formatStatement(ctx context.Context, tenant string, rec *statements.Record, format string, langs []string, defs *definitions) ([]byte, error) {
	stmt := rec.JSON()
	if format == statements.FormatCanonical {
		var err error
		if stmt, err = s.canonicalDefinitions(ctx, tenant, stmt, defs); err != nil {
			return nil, err
		}
	}
	return statements.Format(stmt, format, langs)
}

// setLastModified sets Last-Modified to the stored time of the newest
// statement of the response (Communication 2.1.3.s2.b8); for an empty
// result, to the consistent-through time.
func (s *Server) setLastModified(c *gin.Context, lastStored time.Time) {
	if lastStored.IsZero() {
		lastStored = c.GetTime(ctxConsistent)
	}
	c.Header("Last-Modified", lastStored.UTC().Format(http.TimeFormat))
}

func encodeMore(t moreToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeMore(s string) (moreToken, error) {
	var t moreToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return t, statements.Errorf(statements.EInvalid, "more: not a continuation token issued by this LRS")
	}
	return t, nil
}

// statementGetParams are the parameters GET /xapi/statements accepts.
var statementGetParams = []string{"statementId", "voidedStatementId", "agent", "verb", "activity",
	"registration", "related_activities", "related_agents", "since", "until", "limit", "format",
	"attachments", "ascending", "more"}

func parseStatementQuery(q url.Values, version string) (*statementQuery, error) {
	if err := allowParams(q, statementGetParams...); err != nil {
		return nil, err
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, statements.Errorf(statements.EInvalid, "%s: given more than once", k)
		}
	}
	out := &statementQuery{Format: statements.FormatExact}
	if more := q.Get("more"); q.Has("more") {
		if len(q) > 1 {
			return nil, statements.Errorf(statements.EInvalid, "more: cannot be combined with other parameters")
		}
		t, err := decodeMore(more)
		if err != nil {
			return nil, err
		}
		out.Filter, out.Format, out.Attachments = t.Filter, t.Format, t.Attachments
		if out.Format == "" {
			out.Format = statements.FormatExact
		}
		return out, nil
	}

	var err error
	if q.Has("format") {
		out.Format = q.Get("format")
		switch out.Format {
		case statements.FormatExact, statements.FormatIDs, statements.FormatCanonical:
		default:
			return nil, statements.Errorf(statements.EInvalid, "format: must be one of ids, exact, canonical")
		}
	}
	if out.Attachments, err = boolParam(q, "attachments"); err != nil {
		return nil, err
	}

	out.StatementID, out.VoidedID = q.Get("statementId"), q.Get("voidedStatementId")
	if q.Has("statementId") || q.Has("voidedStatementId") {
		if q.Has("statementId") && q.Has("voidedStatementId") {
			return nil, statements.Errorf(statements.EInvalid, "statementId, voidedStatementId: only one of them may be given")
		}
		for k := range q {
			switch k {
			case "statementId", "voidedStatementId", "format", "attachments":
			default:
				return nil, statements.Errorf(statements.EInvalid, "%s: not allowed with statementId or voidedStatementId", k)
			}
		}
		name, id := "statementId", out.StatementID
		if out.VoidedID != "" || q.Has("voidedStatementId") {
			name, id = "voidedStatementId", out.VoidedID
		}
		if !isUUID(id) {
			return nil, statements.Errorf(statements.EInvalid, "%s: must be a UUID", name)
		}
		return out, nil
	}

	f := &out.Filter
	if q.Has("agent") {
		a := []byte(q.Get("agent"))
		if err := validation.Agent(version, a); err != nil {
			return nil, paramError("agent", err)
		}
		if f.Agent, err = statements.AgentKey(a); err != nil {
			return nil, err
		}
	}
	if q.Has("verb") {
		if f.Verb = q.Get("verb"); !isIRI(f.Verb) {
			return nil, statements.Errorf(statements.EInvalid, "verb: must be an IRI")
		}
	}
	if q.Has("activity") {
		if f.Activity = q.Get("activity"); !isIRI(f.Activity) {
			return nil, statements.Errorf(statements.EInvalid, "activity: must be an IRI")
		}
	}
	if q.Has("registration") {
		if f.Registration = strings.ToLower(q.Get("registration")); !isUUID(f.Registration) {
			return nil, statements.Errorf(statements.EInvalid, "registration: must be a UUID")
		}
	}
	if f.RelatedAgents, err = boolParam(q, "related_agents"); err != nil {
		return nil, err
	}
	if f.RelatedActivities, err = boolParam(q, "related_activities"); err != nil {
		return nil, err
	}
	if f.Ascending, err = boolParam(q, "ascending"); err != nil {
		return nil, err
	}
	if f.Since, err = timeParam(q, "since"); err != nil {
		return nil, err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return nil, err
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 0 {
			return nil, statements.Errorf(statements.EInvalid, "limit: must be a non-negative integer")
		}
		f.Limit = n
	}
	return out, nil
}

// paramError names the parameter in front of a validation error.
func paramError(name string, err error) error {
	de, _ := asDomainError(err)
	if de.Code != statements.EInvalid {
		return err
	}
	return statements.Errorf(statements.EInvalid, "%s: %s", name, de.Message)
}

// allowParams rejects a query string with parameters not in allowed.
func allowParams(q url.Values, allowed ...string) error {
	var unknown []string
	for k := range q {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return statements.Errorf(statements.EInvalid, "%s: unknown parameter (allowed: %s)", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	switch q.Get(name) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, statements.Errorf(statements.EInvalid, "%s: must be true or false", name)
}

func timeParam(q url.Values, name string) (time.Time, error) {
	if !q.Has(name) {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, q.Get(name))
	if err != nil {
		return time.Time{}, statements.Errorf(statements.EInvalid, "%s: must be an RFC 3339 timestamp with a time zone", name)
	}
	return t, nil
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// isIRI reports whether s looks like an absolute IRI: a scheme, a colon and
// no white space.
func isIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 {
		return false
	}
	for i, r := range s[:colon] {
		alpha := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !alpha && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return !strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`")
}
