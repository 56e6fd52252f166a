package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
)

// gradeApp is an LRS on store whose default tenant is connected, through
// the admin API, to a test gradebook.
type gradeApp struct {
	t     *testing.T
	base  string
	book  *onerostertest.Server
	post  poster
	admin string
}

func startGradeApp(t *testing.T, store string) *gradeApp {
	t.Helper()
	book := onerostertest.New("lrs-client", "or-secret-e2e")
	t.Cleanup(book.Close)
	cfg, err := parseServeConfig(append(storeArgs(t, store), "--addr", "127.0.0.1:0", "--log-level", "disabled"),
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret", "LRS_ADMIN_TOKEN": "admin-token"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	g := &gradeApp{t: t, base: "http://" + a.Addr(), book: book, admin: "admin-token"}
	g.post = poster{base: g.base, key: "k", secret: "s3cret-s3cret"}
	body := fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client","clientSecret":"or-secret-e2e"}`, book.BaseURL(), book.TokenURL())
	if code, resp := g.adminDo("PUT", "/admin/tenants/default/oneroster", body); code != 200 {
		t.Fatalf("PUT oneroster config: %d %s", code, resp)
	}
	return g
}

func (g *gradeApp) adminDo(method, path, body string) (int, string) {
	g.t.Helper()
	req, _ := http.NewRequest(method, g.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.admin)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// statement returns a statement of learner on line item li with verb and
// result, at timestamp ts.
func gradeStatement(id, learner, verb, li, result, ts string) string {
	return fmt.Sprintf(`{"id":%q,"actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":%q}},
		"verb":{"id":%q},"object":{"id":"https://oppimateriaali.example.fi/tehtava/1"},
		"result":%s,"timestamp":%q,
		"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":%q,"https://digione.fi/xapi/extensions/oneroster/class":"luokka-7b"}}}`,
		id, learner, verb, result, ts, li)
}

func voidStatement(id, target string) string {
	return fmt.Sprintf(`{"id":%q,"actor":{"objectType":"Agent","mbox":"mailto:opettaja@koulu.example.fi"},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":%q}}`, id, target)
}

func (g *gradeApp) mustPost(stmt string) {
	g.t.Helper()
	if err := g.post.postRaw(stmt); err != nil {
		g.t.Fatal(err)
	}
}

// waitHistory waits until the gradebook accepted n writes of result id, and
// returns them.
func (g *gradeApp) waitHistory(id string, n int) []map[string]any {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h := g.book.History(id)
		if len(h) >= n {
			return h
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("result %s: %d writes after 15 s, want %d: %v", id, len(h), n, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gradeApp) metric(name string) float64 {
	g.t.Helper()
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		g.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	g.t.Fatalf("/metrics has no %s", name)
	return 0
}

// waitMetric waits until the metric name is want: the counters follow
// the store's state by a moment.
func (g *gradeApp) waitMetric(name string, want float64) {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := g.metric(name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("%s: %g after 15 s, want %g", name, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const (
	passed = "http://adlnet.gov/expapi/verbs/passed"
	failed = "http://adlnet.gov/expapi/verbs/failed"
)

// TestOneRoster_EndToEnd: statements posted to the LRS become results in
// the gradebook, on each store: the newer statement wins whatever the order
// they arrive in, a void writes the next newest and then retracts the
// result, a gradebook failing for a while is retried, a refused result is a
// dead letter listed and replayed through the admin API, and statements
// without a student are skipped and counted.
func TestOneRoster_EndToEnd(t *testing.T) { eachStore(t, testOneRosterEndToEnd) }

func testOneRosterEndToEnd(t *testing.T, store string) {
	g := startGradeApp(t, store)
	id := oneroster.ResultID("default", "arviointi-1", "oppilas-1")

	// Out of order: the later attempt arrives first.
	newerID, olderID := "1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b01", "1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b02"
	g.mustPost(gradeStatement(newerID, "oppilas-1", passed, "arviointi-1", `{"score":{"raw":9,"min":4,"max":10}}`, "2026-03-02T10:00:00+02:00"))
	h := g.waitHistory(id, 1)
	g.mustPost(gradeStatement(olderID, "oppilas-1", failed, "arviointi-1", `{"score":{"raw":5,"min":4,"max":10}}`, "2026-03-01T10:00:00+02:00"))
	if h[0]["score"] != 9.0 || h[0]["scoreStatus"] != "fully graded" || h[0]["scoreDate"] != "2026-03-02T08:00:00.000Z" {
		t.Fatalf("first write: %v", h[0])
	}
	if md, _ := h[0]["metadata"].(map[string]any); md["xapiStatementId"] != newerID {
		t.Errorf("metadata: %v", h[0]["metadata"])
	}

	// Void the newer: the older is written; void that too: retracted.
	g.mustPost(voidStatement("1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b03", newerID))
	h = g.waitHistory(id, 2)
	if len(h) != 2 || h[1]["score"] != 5.0 || h[1]["status"] != "active" {
		t.Fatalf("after voiding the newer (the older must not have been written before): %v", h)
	}
	g.mustPost(voidStatement("1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b04", olderID))
	h = g.waitHistory(id, 3)
	if h[2]["status"] != "tobedeleted" {
		t.Fatalf("after voiding both: %v", h[2])
	}

	// The gradebook fails for a while: retried until written.
	g.book.FailNext(2, http.StatusServiceUnavailable)
	id2 := oneroster.ResultID("default", "arviointi-2", "oppilas-1")
	g.mustPost(gradeStatement("1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b05", "oppilas-1", "http://adlnet.gov/expapi/verbs/completed", "arviointi-2", `{"completion":true}`, "2026-03-03T10:00:00Z"))
	if h := g.waitHistory(id2, 1); h[0]["scoreStatus"] != "submitted" {
		t.Errorf("completion: %v", h[0])
	}
	if n := g.metric(`lrs_oneroster_retries_total{sink="oneroster"}`); n < 2 {
		t.Errorf("retries: %g, want at least 2", n)
	}

	// A student the gradebook does not know: a dead letter, replayed once
	// the gradebook knows them.
	g.book.KnowUsers("oppilas-1")
	id3 := oneroster.ResultID("default", "arviointi-1", "oppilas-2")
	g.mustPost(gradeStatement("1b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b06", "oppilas-2", passed, "arviointi-1", `{"score":{"scaled":0.8}}`, "2026-03-03T11:00:00Z"))
	var dead struct {
		Results []oneroster.ResultView `json:"results"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(dead.Results) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter after 15 s")
		}
		time.Sleep(20 * time.Millisecond)
		code, body := g.adminDo("GET", "/admin/tenants/default/oneroster/dead-letters", "")
		if code != 200 {
			t.Fatalf("GET dead-letters: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &dead); err != nil {
			t.Fatal(err)
		}
	}
	if d := dead.Results[0]; d.SourcedID != id3 || d.Status != 422 || !strings.Contains(d.Response, "oppilas-2") {
		t.Errorf("dead letter: %+v", d)
	}
	g.waitMetric(`lrs_oneroster_dead_letters_total{sink="oneroster"}`, 1)
	g.book.KnowUsers("oppilas-2")
	if code, body := g.adminDo("POST", "/admin/tenants/default/oneroster/dead-letters/"+id3+"/replay", ""); code != 200 || !strings.Contains(body, `"replayed":1`) {
		t.Fatalf("replay: %d %s", code, body)
	}
	if h := g.waitHistory(id3, 1); h[0]["score"] != 80.0 {
		t.Errorf("replayed result: %v", h[0])
	}

	// No MPASSid account: skipped and counted, nothing written.
	before := g.book.Results()
	g.mustPost(`{"actor":{"mbox":"mailto:vieras@example.org"},"verb":{"id":"` + passed + `"},"object":{"id":"https://oppimateriaali.example.fi/tehtava/1"},
		"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":"arviointi-1"}}}`)
	g.waitMetric(`lrs_oneroster_statements_skipped_total{sink="oneroster",reason="student"}`, 1)
	if got := g.book.Results(); got != before {
		t.Errorf("results: %d, want %d", got, before)
	}
}
