package conformance

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// docResource is one of the document resources (Communication 2.2): where
// it lives and which parameters address its documents.
type docResource struct {
	name         string
	path         string
	idParam      string
	activity     bool // addressed by activityId
	agent        bool // addressed by agent
	registration bool // takes a registration
	scope        string
}

var (
	stateDocs = docResource{name: "State Resource", path: "activities/state", idParam: "stateId",
		activity: true, agent: true, registration: true, scope: ScopeState}
	activityProfileDocs = docResource{name: "Activity Profile Resource", path: "activities/profile", idParam: "profileId",
		activity: true, scope: ScopeProfile}
	agentProfileDocs = docResource{name: "Agent Profile Resource", path: "agents/profile", idParam: "profileId",
		agent: true, scope: ScopeProfile}
	docResources     = []docResource{stateDocs, activityProfileDocs, agentProfileDocs}
	profileResources = []docResource{activityProfileDocs, agentProfileDocs}
)

// doc addresses one document: its resource and its parameters, id
// included.
type doc struct {
	res docResource
	q   url.Values
}

// docContext returns the parameters of a new context of res: an activity
// and an agent no other check uses.
func (c *Client) docContext(res docResource) url.Values {
	q := url.Values{}
	if res.activity {
		q.Set("activityId", c.activityID())
	}
	if res.agent {
		q.Set("agent", agentParam(c.agent()))
	}
	return q
}

// newDoc addresses a document of res that does not exist yet.
func (c *Client) newDoc(res docResource) doc {
	q := c.docContext(res)
	q.Set(res.idParam, c.unique("doc"))
	return doc{res, q}
}

// sibling addresses another new document in the context of d.
func (c *Client) sibling(d doc) doc {
	q := d.context()
	q.Set(d.res.idParam, c.unique("doc"))
	return doc{d.res, q}
}

// context returns the parameters of d without its id.
func (d doc) context() url.Values {
	q := url.Values{}
	for k, v := range d.q {
		if k != d.res.idParam {
			q[k] = slices.Clone(v)
		}
	}
	return q
}

func (d doc) String() string { return d.res.name + " document " + d.q.Get(d.res.idParam) }

// with returns d with the parameter k set to v.
func (d doc) with(k, v string) doc {
	q := d.context()
	q.Set(d.res.idParam, d.q.Get(d.res.idParam))
	q.Set(k, v)
	return doc{d.res, q}
}

// docRequest sends a request to a document resource. A non-nil content is
// sent with contentType ("" = application/json). Header pairs are added.
func (c *Client) docRequest(ctx context.Context, method string, res docResource, q url.Values, content []byte, contentType string, header ...string) (*response, error) {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	req := request{method: method, path: res.path, query: q, header: h}
	if content != nil {
		req.body = content
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
	}
	return c.do(ctx, req)
}

func (c *Client) docPut(ctx context.Context, d doc, content []byte, contentType string, header ...string) (*response, error) {
	return c.docRequest(ctx, http.MethodPut, d.res, d.q, content, contentType, header...)
}

func (c *Client) docPost(ctx context.Context, d doc, content []byte, contentType string, header ...string) (*response, error) {
	return c.docRequest(ctx, http.MethodPost, d.res, d.q, content, contentType, header...)
}

func (c *Client) docGet(ctx context.Context, d doc, header ...string) (*response, error) {
	return c.docRequest(ctx, http.MethodGet, d.res, d.q, nil, "", header...)
}

func (c *Client) docDelete(ctx context.Context, d doc, header ...string) (*response, error) {
	return c.docRequest(ctx, http.MethodDelete, d.res, d.q, nil, "", header...)
}

// createDoc stores a new document (If-None-Match: *, which every document
// resource accepts) and wants 204.
func (c *Client) createDoc(ctx context.Context, d doc, content []byte, contentType string) error {
	r, err := c.docPut(ctx, d, content, contentType, "If-None-Match", "*")
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusNoContent); err != nil {
		return fmt.Errorf("storing %s: %w", d, err)
	}
	return nil
}

// wantDoc wants d to hold exactly content.
func (c *Client) wantDoc(ctx context.Context, d doc, content []byte) error {
	r, err := c.docGet(ctx, d)
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	if !bytes.Equal(r.body, content) {
		return fmt.Errorf("%s: GET returned %q, want %q", d, clip(r.body), clip(content))
	}
	return nil
}

// wantJSONDoc wants d to hold a JSON object equal to want.
func (c *Client) wantJSONDoc(ctx context.Context, d doc, want obj) error {
	r, err := c.docGet(ctx, d)
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	var got obj
	if err := r.decode(&got); err != nil {
		return err
	}
	if jsonString(got) != jsonString(want) {
		return fmt.Errorf("%s: GET returned %s, want %s", d, jsonString(got), jsonString(want))
	}
	return nil
}

// wantNoDoc wants a GET of d to be 404 Not Found.
func (c *Client) wantNoDoc(ctx context.Context, d doc) error {
	r, err := c.docGet(ctx, d)
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusNotFound); err != nil {
		return fmt.Errorf("%s should not exist: %w", d, err)
	}
	return nil
}

// docIDs returns the ids a multiple document GET of res with q returns.
func (c *Client) docIDs(ctx context.Context, res docResource, q url.Values) ([]string, *response, error) {
	r, err := c.docRequest(ctx, http.MethodGet, res, q, nil, "")
	if err != nil {
		return nil, nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, r, err
	}
	var ids []string
	if err := r.decode(&ids); err != nil {
		return nil, r, err
	}
	slices.Sort(ids)
	return ids, r, nil
}

// wantIDs wants the multiple document GET of res with q to return want.
func (c *Client) wantIDs(ctx context.Context, res docResource, q url.Values, want ...string) error {
	got, _, err := c.docIDs(ctx, res, q)
	if err != nil {
		return err
	}
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		return fmt.Errorf("%s ids with %s: got %q, want %q", res.name, q.Encode(), got, want)
	}
	return nil
}

// sha1ETag is the ETag an LRS computes for content (Communication
// 3.1.s4.b2), quoted.
func sha1ETag(content []byte) string {
	sum := sha1.Sum(content)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// lrsTime returns the LRS's clock, from the Date header of a response.
func (c *Client) lrsTime(ctx context.Context) (time.Time, error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "about"})
	if err != nil {
		return time.Time{}, err
	}
	t, err := http.ParseTime(r.header.Get("Date"))
	if err != nil {
		return time.Time{}, skip("the LRS sends no usable Date header, so its clock is unknown: %v", err)
	}
	return t, nil
}

// waitPast waits until the LRS's clock (to the second) is after t.
func (c *Client) waitPast(ctx context.Context, t time.Time) error {
	for {
		now, err := c.lrsTime(ctx)
		if err != nil {
			return err
		}
		if now.After(t) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sinceSplit stores old, then new documents of one context so that a
// timestamp lies between them, and returns it: a since filter with it
// returns only the new ones.
func (c *Client) sinceSplit(ctx context.Context, old, new []doc) (string, error) {
	for _, d := range old {
		if err := c.createDoc(ctx, d, []byte(`{"v":"old"}`), ""); err != nil {
			return "", err
		}
	}
	// Every old document was updated at or before the LRS's time now,
	// which lies before the next whole second.
	now, err := c.lrsTime(ctx)
	if err != nil {
		return "", err
	}
	split := now.Add(time.Second)
	if err := c.waitPast(ctx, split); err != nil {
		return "", err
	}
	for _, d := range new {
		if err := c.createDoc(ctx, d, []byte(`{"v":"new"}`), ""); err != nil {
			return "", err
		}
	}
	return split.UTC().Format(time.RFC3339), nil
}

func idsOf(ds ...doc) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.q.Get(d.res.idParam)
	}
	return out
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// jsonObjectOf parses b as a JSON object.
func jsonObjectOf(b []byte) (obj, error) {
	var o obj
	if err := json.Unmarshal(b, &o); err != nil || o == nil {
		return nil, fmt.Errorf("not a JSON object: %q", clip(b))
	}
	return o, nil
}

// explains reports whether an error body mentions one of the words.
func explains(body []byte, words ...string) bool {
	b := strings.ToLower(string(body))
	for _, w := range words {
		if strings.Contains(b, strings.ToLower(w)) {
			return true
		}
	}
	return false
}
