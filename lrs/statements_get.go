package lrs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

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
// by statementId or voidedStatementId, or a page of a query.
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
	q.Filter.Credential = ""
	if mine {
		q.Filter.Credential = cred.Key
	}
	if l := limitsOf(c).QueryLimit; l > 0 && (q.Filter.Limit == 0 || q.Filter.Limit > l) {
		q.Filter.Limit = l
	}
	langs := statements.ParseAcceptLanguage(c.GetHeader("Accept-Language"))
	defs := map[string]json.RawMessage{} // canonical activity definitions read so far

	if q.StatementID != "" || q.VoidedID != "" {
		id, voided := q.StatementID, false
		if q.VoidedID != "" {
			id, voided = q.VoidedID, true
		}
		rec, err := s.store.Statement(ctx, cred.Tenant, strings.ToLower(id), voided)
		if err == nil && mine && rec.Credential != cred.Key {
			err = statements.Errorf(statements.ENotFound, "no statement %s", strings.ToLower(id))
		}
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
			s.respondWithAttachments(c, out, [][]byte{rec.Statement})
			return
		}
		c.Data(http.StatusOK, "application/json", out)
		return
	}

	page, err := s.store.QueryStatements(ctx, cred.Tenant, q.Filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	records := page.Records
	if mine {
		// A statement referring to one of this credential's has its terms
		// too (Store.InsertStatements): keep only the credential's own.
		records = ownRecords(records, cred.Key)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"statements":[`)
	var last time.Time
	for i, rec := range records {
		if i > 0 {
			buf.WriteByte(',')
		}
		out, err := s.formatStatement(ctx, cred.Tenant, rec, q.Format, langs, defs)
		if err != nil {
			s.fail(c, err)
			return
		}
		buf.Write(out)
		if rec.Stored.After(last) {
			last = rec.Stored
		}
	}
	buf.WriteString(`],"more":`)
	more := ""
	if page.More && len(page.Records) > 0 {
		next := q.Filter
		next.After = page.Records[len(page.Records)-1].Position
		more = "/xapi/statements?more=" + encodeMore(moreToken{Filter: next, Format: q.Format, Attachments: q.Attachments})
	}
	m, _ := json.Marshal(more)
	buf.Write(m)
	buf.WriteByte('}')
	s.setLastModified(c, last)
	if q.Attachments {
		stmts := make([][]byte, len(records))
		for i, rec := range records {
			stmts[i] = rec.Statement
		}
		s.respondWithAttachments(c, buf.Bytes(), stmts)
		return
	}
	c.Data(http.StatusOK, "application/json", buf.Bytes())
}

// ownRecords returns the records of recs that the credential key stored.
func ownRecords(recs []*statements.Record, key string) []*statements.Record {
	out := make([]*statements.Record, 0, len(recs))
	for _, r := range recs {
		if r.Credential == key {
			out = append(out, r)
		}
	}
	return out
}

// formatStatement returns a stored statement in format; the canonical
// format first puts in the LRS's canonical activity definitions, cached in
// defs, then filters languages.
func (s *Server) formatStatement(ctx context.Context, tenant string, rec *statements.Record, format string, langs []string, defs map[string]json.RawMessage) ([]byte, error) {
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
