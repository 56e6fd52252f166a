// Package lrstest holds HTTP-level behaviour tests of the LRS that every
// store must pass, run over lrs.New with a store from the caller: the
// store adapters' tests call them with their own constructor. It imports
// lrs and statements, never a store adapter.
package lrstest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// markerExt is the context extension each statement carries: the tenant
// that wrote it.
const markerExt = "https://lrs.test.digione.fi/extensions/tenant"

// Seed returns the seed of a randomized isolation test: LRS_ISOLATION_SEED
// when set, to repeat a run, otherwise a random one. It logs the seed.
func Seed(tb testing.TB) uint64 {
	tb.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LRS_ISOLATION_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			tb.Fatalf("LRS_ISOLATION_SEED: %v", err)
		}
		seed = n
	}
	tb.Logf("seed %d (LRS_ISOLATION_SEED=%d repeats this run)", seed, seed)
	return seed
}

// Isolation proves that tenants are hard walls. Several tenants write, in
// a random interleaving, statements with the same ids, agents, activities
// and registrations, void some of them, and post state, activity profile
// and agent profile documents with the same ids. Then every read resource
// (statements by id, voided id and every filter, paging with "more"
// tokens, even a token another tenant got; activities; agents; the three
// document resources, single and id lists) must show each tenant exactly
// what it wrote itself.
//
// newStore returns a fresh, empty store and registers its cleanup with t.
// The seed is random and logged; LRS_ISOLATION_SEED repeats a run.
func Isolation(t *testing.T, newStore func(t *testing.T) statements.Store) {
	seed := Seed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	store := newStore(t)
	w, tenants := workload(t, store, rng, "iso")

	for _, tm := range tenants {
		t.Run(tm.id, func(t *testing.T) {
			tm.c.t = t
			w.checkStatementsByID(t, tm)
			w.checkQueries(t, tm)
			w.checkActivities(t, tm)
			w.checkAgents(t, tm)
			w.checkDocuments(t, tm)
		})
	}
	t.Run("ForeignMoreToken", func(t *testing.T) {
		a, b := tenants[0], tenants[1]
		a.c.t, b.c.t = t, t
		var page statementResult
		a.c.getJSON("/xapi/statements", url.Values{"limit": {"1"}}, &page)
		if page.More == "" {
			t.Skip("tenant has fewer than two statements with this seed")
		}
		var foreign statementResult
		b.c.getJSON(page.More, nil, &foreign)
		for _, s := range foreign.Statements {
			if got := markerOf(s); got != b.id {
				t.Errorf("tenant %s following tenant %s's more URL got a statement of %q", b.id, a.id, got)
			}
		}
	})
}

// world is the pool of identifiers every tenant draws from.
type world struct {
	ids        []string // statement ids
	agents     []string // mbox IRIs
	activities []string
	verbs      []string
	docIDs     []string
	regs       []string
}

func newWorld(rng *rand.Rand) *world {
	w := &world{}
	for i := range 10 {
		w.ids = append(w.ids, uuid(rng))
		if i < 4 {
			w.agents = append(w.agents, fmt.Sprintf("mailto:learner%d@school.example.fi", i))
			w.activities = append(w.activities, fmt.Sprintf("https://content.example.fi/activities/%d", i))
			w.docIDs = append(w.docIDs, fmt.Sprintf("doc-%d", i))
		}
		if i < 2 {
			w.verbs = append(w.verbs, fmt.Sprintf("https://verbs.example.fi/v%d", i))
			w.regs = append(w.regs, uuid(rng))
		}
	}
	return w
}

func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tenantModel is what one tenant wrote.
type tenantModel struct {
	id, key, secret string
	c               *client
	stmts           map[string]*stmtModel // by id
	docs            map[string]*docModel  // by resource + "|" + parameters
	actNames        map[string][]string   // activity id → names its statements gave
	agentNames      map[string][]string   // mbox → names its statements gave
}

type stmtModel struct {
	id, agent, activity, verb, reg string
	voided, voiding                bool
}

type docModel struct {
	resource string // "activities/state", "activities/profile", "agents/profile"
	params   url.Values
	keys     []string
}

func mustSetUpTenant(t *testing.T, store statements.Store, tm *tenantModel) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := store.CreateTenant(ctx, statements.Tenant{ID: tm.id, Name: tm.id, Created: now}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	hash, err := lrs.HashSecret(tm.secret)
	if err != nil {
		t.Fatal(err)
	}
	err = store.CreateCredential(ctx, statements.Credential{Key: tm.key, Tenant: tm.id, SecretHash: hash,
		Scopes: []string{"all"}, Authority: lrs.Authority(tm.key, tm.id), Created: now})
	if err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func (w *world) postStatement(tm *tenantModel, rng *rand.Rand) {
	var free []string
	for _, id := range w.ids {
		if tm.stmts[id] == nil {
			free = append(free, id)
		}
	}
	if len(free) == 0 {
		return
	}
	m := &stmtModel{id: pick(rng, free), agent: pick(rng, w.agents), activity: pick(rng, w.activities),
		verb: pick(rng, w.verbs), reg: pick(rng, w.regs)}
	agentName := "Learner of " + tm.id
	actName := "Activity of " + tm.id
	body := map[string]any{
		"id":     m.id,
		"actor":  map[string]any{"objectType": "Agent", "mbox": m.agent, "name": agentName},
		"verb":   map[string]any{"id": m.verb},
		"object": map[string]any{"objectType": "Activity", "id": m.activity, "definition": map[string]any{"name": map[string]string{"en-US": actName}}},
		"context": map[string]any{"registration": m.reg,
			"extensions": map[string]any{markerExt: tm.id}},
	}
	tm.c.mustDo("POST", "/xapi/statements", nil, body, http.StatusOK)
	tm.stmts[m.id] = m
	if tm.actNames == nil {
		tm.actNames, tm.agentNames = map[string][]string{}, map[string][]string{}
	}
	tm.actNames[m.activity] = appendNew(tm.actNames[m.activity], actName)
	tm.agentNames[m.agent] = appendNew(tm.agentNames[m.agent], agentName)
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// voidStatement voids one of the tenant's statements with a voiding
// statement whose id is new.
func (w *world) voidStatement(tm *tenantModel, rng *rand.Rand) {
	var targets []string
	for _, id := range w.ids {
		if m := tm.stmts[id]; m != nil && !m.voided && !m.voiding {
			targets = append(targets, id)
		}
	}
	if len(targets) == 0 {
		return
	}
	target := pick(rng, targets)
	id := uuid(rng)
	body := map[string]any{
		"id":      id,
		"actor":   map[string]any{"objectType": "Agent", "mbox": "mailto:admin@" + tm.id + ".example.fi"},
		"verb":    map[string]any{"id": statements.VerbVoided},
		"object":  map[string]any{"objectType": "StatementRef", "id": target},
		"context": map[string]any{"extensions": map[string]any{markerExt: tm.id}},
	}
	tm.c.mustDo("POST", "/xapi/statements", nil, body, http.StatusOK)
	t := tm.stmts[target]
	t.voided = true
	// A statement referring to another matches the filters its target
	// matches (Communication 2.1.3, StatementRef).
	tm.stmts[id] = &stmtModel{id: id, voiding: true, agent: t.agent, activity: t.activity, verb: t.verb, reg: t.reg}
}

func (w *world) postDocument(tm *tenantModel, rng *rand.Rand) {
	agent := `{"mbox":"` + pick(rng, w.agents) + `"}`
	var d docModel
	switch rng.IntN(3) {
	case 0:
		d = docModel{resource: "activities/state", params: url.Values{"activityId": {pick(rng, w.activities)},
			"agent": {agent}, "stateId": {pick(rng, w.docIDs)}}}
	case 1:
		d = docModel{resource: "activities/profile", params: url.Values{"activityId": {pick(rng, w.activities)},
			"profileId": {pick(rng, w.docIDs)}}}
	default:
		d = docModel{resource: "agents/profile", params: url.Values{"agent": {agent}, "profileId": {pick(rng, w.docIDs)}}}
	}
	k := d.resource + "|" + d.params.Encode()
	if old := tm.docs[k]; old != nil {
		d = *old
	}
	field := fmt.Sprintf("f%d", rng.IntN(5))
	tm.c.mustDo("POST", "/xapi/"+d.resource, d.params, map[string]any{"tenant": tm.id, field: rng.IntN(100)}, http.StatusNoContent)
	d.keys = appendNew(appendNew(d.keys, "tenant"), field)
	tm.docs[k] = &d
}

type statementResult struct {
	Statements []map[string]any `json:"statements"`
	More       string           `json:"more"`
}

func markerOf(s map[string]any) string {
	ctx, _ := s["context"].(map[string]any)
	ext, _ := ctx["extensions"].(map[string]any)
	m, _ := ext[markerExt].(string)
	return m
}

func (w *world) checkStatementsByID(t *testing.T, tm *tenantModel) {
	for _, id := range w.ids {
		m := tm.stmts[id]
		status, body := tm.c.do("GET", "/xapi/statements", url.Values{"statementId": {id}}, nil)
		switch {
		case m == nil || m.voided:
			if status != http.StatusNotFound {
				t.Errorf("GET statementId=%s: %d, want 404 (written: %t, voided: %t): %s", id, status, m != nil, m != nil && m.voided, body)
			}
		default:
			var s map[string]any
			if status != http.StatusOK || json.Unmarshal(body, &s) != nil {
				t.Errorf("GET statementId=%s: %d, want 200: %s", id, status, body)
				continue
			}
			if got := markerOf(s); got != tm.id {
				t.Errorf("GET statementId=%s: statement of tenant %q", id, got)
			}
		}
		status, body = tm.c.do("GET", "/xapi/statements", url.Values{"voidedStatementId": {id}}, nil)
		switch {
		case m != nil && m.voided:
			var s map[string]any
			if status != http.StatusOK || json.Unmarshal(body, &s) != nil || markerOf(s) != tm.id {
				t.Errorf("GET voidedStatementId=%s: %d, want 200 with the tenant's own: %s", id, status, body)
			}
		case status != http.StatusNotFound:
			t.Errorf("GET voidedStatementId=%s: %d, want 404: %s", id, status, body)
		}
	}
}

// query returns the ids of every statement of a query, following "more"
// with pages of 3, and checks each statement is the tenant's.
func (tm *tenantModel) query(t *testing.T, q url.Values) []string {
	t.Helper()
	q.Set("limit", "3")
	var ids []string
	path := "/xapi/statements"
	for range 100 {
		var page statementResult
		tm.c.getJSON(path, q, &page)
		for _, s := range page.Statements {
			id, _ := s["id"].(string)
			if got := markerOf(s); got != tm.id {
				t.Errorf("query %s: statement %s of tenant %q", q.Encode(), id, got)
			}
			ids = append(ids, id)
		}
		if page.More == "" {
			break
		}
		path, q = page.More, nil
	}
	slices.Sort(ids)
	return ids
}

func (w *world) checkQueries(t *testing.T, tm *tenantModel) {
	want := func(match func(m *stmtModel) bool) []string {
		var ids []string
		for id, m := range tm.stmts {
			if !m.voided && match(m) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	check := func(q url.Values, match func(m *stmtModel) bool) {
		t.Helper()
		desc := q.Encode()
		if got, want := tm.query(t, q), want(match); !slices.Equal(got, want) {
			t.Errorf("query %s:\n got %v\nwant %v", desc, got, want)
		}
	}
	check(url.Values{}, func(*stmtModel) bool { return true })
	for _, a := range w.agents {
		check(url.Values{"agent": {`{"mbox":"` + a + `"}`}}, func(m *stmtModel) bool { return m.agent == a })
	}
	for _, a := range w.activities {
		check(url.Values{"activity": {a}}, func(m *stmtModel) bool { return m.activity == a })
	}
	for _, v := range w.verbs {
		check(url.Values{"verb": {v}}, func(m *stmtModel) bool { return m.verb == v })
	}
	for _, r := range w.regs {
		check(url.Values{"registration": {r}}, func(m *stmtModel) bool { return m.reg == r })
	}
}

func (w *world) checkActivities(t *testing.T, tm *tenantModel) {
	for _, a := range w.activities {
		status, body := tm.c.do("GET", "/xapi/activities", url.Values{"activityId": {a}}, nil)
		if status != http.StatusOK {
			t.Errorf("GET activities %s: %d: %s", a, status, body)
			continue
		}
		var act struct {
			Definition struct {
				Name map[string]string `json:"name"`
			} `json:"definition"`
		}
		json.Unmarshal(body, &act)
		name := act.Definition.Name["en-US"]
		switch want := tm.actNames[a]; {
		case len(want) == 0 && name != "":
			t.Errorf("GET activities %s: definition %q, want none: the tenant never defined it", a, name)
		case len(want) > 0 && !slices.Contains(want, name):
			t.Errorf("GET activities %s: definition %q, want one of %q", a, name, want)
		}
	}
}

func (w *world) checkAgents(t *testing.T, tm *tenantModel) {
	for _, a := range w.agents {
		status, body := tm.c.do("GET", "/xapi/agents", url.Values{"agent": {`{"mbox":"` + a + `"}`}}, nil)
		if status != http.StatusOK {
			t.Errorf("GET agents %s: %d: %s", a, status, body)
			continue
		}
		var p struct {
			Name []string `json:"name"`
		}
		json.Unmarshal(body, &p)
		for _, n := range p.Name {
			if !slices.Contains(tm.agentNames[a], n) {
				t.Errorf("GET agents %s: name %q the tenant never gave (its names: %q)", a, n, tm.agentNames[a])
			}
		}
	}
}

func (w *world) checkDocuments(t *testing.T, tm *tenantModel) {
	// Every document the tenant wrote holds what it wrote, and only that.
	for k, d := range tm.docs {
		var doc map[string]any
		tm.c.getJSON("/xapi/"+d.resource, d.params, &doc)
		if doc["tenant"] != tm.id {
			t.Errorf("%s: document of tenant %v", k, doc["tenant"])
		}
		got := make([]string, 0, len(doc))
		for f := range doc {
			got = append(got, f)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(d.keys))
		if !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, want %v", k, got, want)
		}
	}
	// The id lists show exactly the tenant's documents, and a document id
	// only another tenant used is 404.
	for _, res := range []string{"activities/state", "activities/profile", "agents/profile"} {
		for _, a := range w.activities {
			for _, ag := range w.agents {
				params := url.Values{}
				switch res {
				case "activities/state":
					params = url.Values{"activityId": {a}, "agent": {`{"mbox":"` + ag + `"}`}}
				case "activities/profile":
					if ag != w.agents[0] {
						continue
					}
					params = url.Values{"activityId": {a}}
				case "agents/profile":
					if a != w.activities[0] {
						continue
					}
					params = url.Values{"agent": {`{"mbox":"` + ag + `"}`}}
				}
				var got []string
				tm.c.getJSON("/xapi/"+res, params, &got)
				slices.Sort(got)
				var want []string
				for _, id := range w.docIDs {
					p := cloneValues(params)
					p.Set(idParam(res), id)
					if tm.docs[res+"|"+p.Encode()] != nil {
						want = append(want, id)
					} else if status, body := tm.c.do("GET", "/xapi/"+res, p, nil); status != http.StatusNotFound {
						t.Errorf("GET %s %s: %d, want 404: %s", res, p.Encode(), status, body)
					}
				}
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("GET %s ids %s:\n got %v\nwant %v", res, params.Encode(), got, want)
				}
			}
		}
	}
}

func idParam(res string) string {
	if res == "activities/state" {
		return "stateId"
	}
	return "profileId"
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// client makes xAPI requests with one credential.
type client struct {
	t                 *testing.T
	base, key, secret string
}

func (c *client) do(method, path string, q url.Values, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = strings.NewReader(string(b))
	}
	u := c.base + path
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (c *client) mustDo(method, path string, q url.Values, body any, want int) []byte {
	c.t.Helper()
	status, b := c.do(method, path, q, body)
	if status != want {
		c.t.Fatalf("%s %s %s: %d, want %d: %s", method, path, q.Encode(), status, want, b)
	}
	return b
}

func (c *client) getJSON(path string, q url.Values, v any) {
	c.t.Helper()
	b := c.mustDo("GET", path, q, nil, http.StatusOK)
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// workload starts an LRS on store and has three tenants, whose ids start
// with prefix, write the randomized workload: statements with the same
// ids, agents and activities in every tenant, voiding statements and
// documents, in a random interleaving.
func workload(t *testing.T, store statements.Store, rng *rand.Rand, prefix string) (*world, []*tenantModel) {
	t.Helper()
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store, Admin: store}))
	t.Cleanup(srv.Close)
	w := newWorld(rng)
	var tenants []*tenantModel
	for i := range 3 {
		tm := &tenantModel{id: fmt.Sprintf("%s-%d", prefix, i), stmts: map[string]*stmtModel{}, docs: map[string]*docModel{}}
		tm.key, tm.secret = prefix+"-key-"+strconv.Itoa(i), fmt.Sprintf("%s-secret-%d-%d", prefix, i, rng.Uint64())
		mustSetUpTenant(t, store, tm)
		tm.c = &client{t: t, base: srv.URL, key: tm.key, secret: tm.secret}
		tenants = append(tenants, tm)
	}
	for range 150 {
		tm := tenants[rng.IntN(len(tenants))]
		switch op := rng.IntN(10); {
		case op < 5:
			w.postStatement(tm, rng)
		case op < 6:
			w.voidStatement(tm, rng)
		default:
			w.postDocument(tm, rng)
		}
	}
	return w, tenants
}
