package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

// obj is a JSON object, as statements are built and read by the checks.
type obj = map[string]any

// The fixtures below mint data no other check (and no other run) uses.

// unique returns a name unique to this client: kind-runID-n.
func (c *Client) unique(kind string) string {
	return fmt.Sprintf("%s-%s-%d", kind, c.runID, c.seq.Add(1))
}

func (c *Client) mbox() string { return "mailto:" + c.unique("agent") + "@conformance.example.com" }

func (c *Client) agent() obj { return obj{"objectType": "Agent", "mbox": c.mbox()} }

func (c *Client) group() obj {
	return obj{"objectType": "Group", "mbox": c.mbox(), "member": []any{c.agent()}}
}

func (c *Client) verbID() string { return "http://conformance.example.com/verbs/" + c.unique("verb") }

func (c *Client) verb() obj { return obj{"id": c.verbID(), "display": obj{"en-US": "experienced"}} }

func (c *Client) activityID() string {
	return "http://conformance.example.com/activities/" + c.unique("activity")
}

func (c *Client) activity() obj {
	return obj{"objectType": "Activity", "id": c.activityID(), "definition": obj{"name": obj{"en-US": "Conformance activity"}}}
}

// statement returns a new valid statement with its own id, actor, verb and
// activity; edits change it before it is returned.
func (c *Client) statement(edits ...func(s obj)) obj {
	s := obj{"id": newUUID(), "actor": c.agent(), "verb": c.verb(), "object": c.activity()}
	for _, e := range edits {
		e(s)
	}
	return s
}

// set sets the value at a slash-separated path, creating objects on the way.
func set(o obj, path string, v any) {
	keys := strings.Split(path, "/")
	for _, k := range keys[:len(keys)-1] {
		next, ok := o[k].(obj)
		if !ok {
			next = obj{}
			o[k] = next
		}
		o = next
	}
	o[keys[len(keys)-1]] = v
}

// get returns the value at a slash-separated path, or nil.
func get(o any, path string) any {
	for _, k := range strings.Split(path, "/") {
		m, ok := o.(obj)
		if !ok {
			return nil
		}
		o = m[k]
	}
	return o
}

// clone returns a deep copy of a JSON value.
func clone(o obj) obj {
	var out obj
	data, _ := json.Marshal(o)
	_ = json.Unmarshal(data, &out)
	return out
}

// sameJSON reports whether two JSON values are equal after normalization.
func sameJSON(a, b any) bool {
	var na, nb any
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	_ = json.Unmarshal(da, &na)
	_ = json.Unmarshal(db, &nb)
	return reflect.DeepEqual(na, nb)
}

func jsonString(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func str(v any) string { s, _ := v.(string); return s }

func idOf(s obj) string { return str(s["id"]) }

func ids(stmts []obj) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = idOf(s)
	}
	return out
}

// postStatements POSTs the statements (one as an object, more as an array).
func (c *Client) postStatements(ctx context.Context, stmts ...obj) (*response, error) {
	var body any = stmts
	if len(stmts) == 1 {
		body = stmts[0]
	}
	return c.do(ctx, request{method: http.MethodPost, path: "statements", body: body})
}

// store POSTs the statements, expecting 200 and their ids in order.
func (c *Client) store(ctx context.Context, stmts ...obj) ([]string, error) {
	r, err := c.postStatements(ctx, stmts...)
	if err != nil {
		return nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, err
	}
	var got []string
	if err := r.decode(&got); err != nil {
		return nil, err
	}
	if len(got) != len(stmts) {
		return nil, fmt.Errorf("POST of %d statements returned %d ids: %s", len(stmts), len(got), r.body)
	}
	for i, s := range stmts {
		if id := idOf(s); id != "" && got[i] != id {
			return nil, fmt.Errorf("POST returned id %q at position %d, want %q", got[i], i, id)
		}
	}
	return got, nil
}

// storeAndFetch POSTs the statement and returns it as the LRS gives it back.
func (c *Client) storeAndFetch(ctx context.Context, stmt obj) (obj, error) {
	if _, err := c.store(ctx, stmt); err != nil {
		return nil, err
	}
	got, _, err := c.fetch(ctx, idOf(stmt), nil, nil)
	return got, err
}

// storeEach POSTs the statements one by one, a little apart, so that their
// "stored" times differ and follow the order given.
func (c *Client) storeEach(ctx context.Context, stmts ...obj) error {
	for i, s := range stmts {
		if i > 0 {
			time.Sleep(15 * time.Millisecond)
		}
		if _, err := c.store(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// put PUTs the statement under id.
func (c *Client) put(ctx context.Context, id string, stmt any) (*response, error) {
	return c.do(ctx, request{method: http.MethodPut, path: "statements", query: url.Values{"statementId": {id}}, body: stmt})
}

// getStatements sends GET /statements with the query.
func (c *Client) getStatements(ctx context.Context, q url.Values) (*response, error) {
	return c.do(ctx, request{method: http.MethodGet, path: "statements", query: q})
}

// fetch returns the statement with the id, waiting until it is retrievable.
// extra adds parameters (format, attachments) and header request headers.
func (c *Client) fetch(ctx context.Context, id string, extra url.Values, header http.Header) (obj, *response, error) {
	return c.fetchBy(ctx, "statementId", id, extra, header)
}

// fetchVoided returns the voided statement with the id.
func (c *Client) fetchVoided(ctx context.Context, id string) (obj, *response, error) {
	return c.fetchBy(ctx, "voidedStatementId", id, nil, nil)
}

func (c *Client) fetchBy(ctx context.Context, param, id string, extra url.Values, header http.Header) (obj, *response, error) {
	q := url.Values{param: {id}}
	for k, v := range extra {
		q[k] = v
	}
	var (
		stmt obj
		last *response
	)
	err := c.eventually(ctx, func() error {
		r, err := c.do(ctx, request{method: http.MethodGet, path: "statements", query: q, header: header})
		if err != nil {
			return err
		}
		last = r
		if err := r.wantStatus(http.StatusOK); err != nil {
			return err
		}
		stmt = nil
		if err := r.decode(&stmt); err != nil {
			return &fatalError{err}
		}
		if got := idOf(stmt); got != id {
			return &fatalError{fmt.Errorf("GET ?%s=%s returned statement with id %q", param, id, got)}
		}
		return nil
	})
	return stmt, last, err
}

// wantNotFound checks that GET ?param=id answers 404.
func (c *Client) wantNotFound(ctx context.Context, param, id string) error {
	r, err := c.getStatements(ctx, url.Values{param: {id}})
	if err != nil {
		return err
	}
	return r.wantStatus(http.StatusNotFound)
}

// statementResult is the body of a statements query (Data 2.5).
type statementResult struct {
	Statements []obj   `json:"statements"`
	More       *string `json:"more"`
}

// query sends a statements query and parses the StatementResult.
func (c *Client) query(ctx context.Context, q url.Values, header http.Header) (statementResult, *response, error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "statements", query: q, header: header})
	if err != nil {
		return statementResult{}, nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return statementResult{}, r, err
	}
	var res statementResult
	if err := r.decode(&res); err != nil {
		return statementResult{}, r, err
	}
	if res.Statements == nil {
		return res, r, fmt.Errorf("GET %s: StatementResult has no \"statements\" array%s", r.url, r.bodyHint())
	}
	return res, r, nil
}

// queryAll sends a query and follows "more" to the end, returning every
// statement in order.
func (c *Client) queryAll(ctx context.Context, q url.Values) ([]obj, error) {
	res, _, err := c.query(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	all := res.Statements
	for page := 0; res.More != nil && *res.More != ""; page++ {
		if page > 100 {
			return nil, fmt.Errorf("more than 100 pages following \"more\" of %v", q)
		}
		res, err = c.page(ctx, *res.More)
		if err != nil {
			return nil, err
		}
		all = append(all, res.Statements...)
	}
	return all, nil
}

// page fetches the StatementResult at a "more" IRL, relative or absolute.
func (c *Client) page(ctx context.Context, more string) (statementResult, error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: more})
	if err != nil {
		return statementResult{}, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return statementResult{}, fmt.Errorf("following \"more\" %q: %w", more, err)
	}
	var res statementResult
	if err := r.decode(&res); err != nil {
		return statementResult{}, err
	}
	if res.Statements == nil {
		return res, fmt.Errorf("following \"more\" %q: no \"statements\" array%s", more, r.bodyHint())
	}
	return res, nil
}

// queryExpect runs the query (following "more") until it returns exactly
// the statements with the wanted ids, in any order, or the settle time ends.
func (c *Client) queryExpect(ctx context.Context, q url.Values, want ...string) error {
	return c.eventually(ctx, func() error {
		got, err := c.queryAll(ctx, q)
		if err != nil {
			return err
		}
		return c.sameIDs(ids(got), want)
	})
}

// named records a name for the statement, used in error messages, and returns it.
func (c *Client) named(name string, s obj) obj {
	c.names.Store(idOf(s), name)
	return s
}

// describe returns the statement id with its recorded name, if any.
func (c *Client) describe(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if name, ok := c.names.Load(id); ok {
			out[i] = fmt.Sprintf("%s (%s)", id, name)
		}
	}
	return out
}

// sameIDs returns an error unless got and want hold the same ids, ignoring order.
func (c *Client) sameIDs(got, want []string) error {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if slices.Equal(g, w) {
		return nil
	}
	var missing, extra []string
	for _, id := range w {
		if !slices.Contains(g, id) {
			missing = append(missing, id)
		}
	}
	for _, id := range g {
		if !slices.Contains(w, id) {
			extra = append(extra, id)
		}
	}
	return fmt.Errorf("query returned %d statements, want %d (missing %v, unexpected %v)", len(got), len(want), c.describe(missing), c.describe(extra))
}

// agentParam returns the value of an "agent" query parameter for the agent.
func agentParam(a obj) string { return jsonString(a) }

// voiding returns a statement voiding the statement with the id.
func (c *Client) voiding(target string) obj {
	return obj{
		"id":     newUUID(),
		"actor":  c.agent(),
		"verb":   obj{"id": "http://adlnet.gov/expapi/verbs/voided", "display": obj{"en-US": "voided"}},
		"object": obj{"objectType": "StatementRef", "id": target},
	}
}

// parseTimestamp parses an ISO 8601 timestamp in the forms LRSs use.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 combined date and time with zone", s)
}
