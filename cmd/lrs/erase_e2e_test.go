package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// TestErasure_EndToEnd runs lrs serve with Kafka on each store, posts a
// learner's statements and a teacher's naming them, erases the learner
// through the admin API, and checks the store's answers, the log, and the
// topic: the erasure event follows the learner's last statement on their
// partition, and nothing delivered after it names the learner.
func TestErasure_EndToEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		c := startKafka(t)
		cfg, err := parseServeConfig(append(storeArgs(t, store), "--addr", "127.0.0.1:0", "--log-level", "disabled",
			"--kafka-brokers", strings.Join(c.ListenAddrs(), ",")),
			env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret", "LRS_ADMIN_TOKEN": "admin-token-0123456789"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		a := startApp(t, cfg, io.Discard)
		p := poster{base: "http://" + a.Addr(), key: "k", secret: "s3cret-s3cret"}
		consumer := newConsumer(t, c.ListenAddrs())

		own, err := p.post(1, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		others, err := p.post(2, 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		taught := newUUID()
		if err := p.postRaw(`{"id":"` + taught + `","actor":{"mbox":"mailto:teacher@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
			"object":{"id":"https://oppimateriaali.example.fi/t/1"},"context":{"instructor":{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}}}`); err != nil {
			t.Fatal(err)
		}
		all := map[string]bool{taught: true}
		for _, id := range append(own, others...) {
			all[id] = true
		}
		consumer.waitFor(t, all, 20*time.Second)

		admin := func(method, path, body string, want int) []byte {
			t.Helper()
			return call(t, p.base, method, path, "admin-token-0123456789", body, want)
		}
		const learner = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`
		var rc statements.ErasureReceipt
		json.Unmarshal(admin("POST", "/admin/tenants/"+lrs.DefaultTenant+"/erasures", `{"agent":`+learner+`}`, http.StatusAccepted), &rc)
		for deadline := time.Now().Add(20 * time.Second); rc.Status != statements.ErasureCompleted; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the erasure did not complete: %+v", rc)
			}
			json.Unmarshal(admin("GET", "/admin/tenants/"+lrs.DefaultTenant+"/erasures/"+rc.ID, "", http.StatusOK), &rc)
		}
		if rc.StatementsDeleted != 3 || rc.StatementsPseudonymised != 1 {
			t.Errorf("receipt %+v", rc)
		}

		read := func(query string) (int, string) {
			req, _ := http.NewRequest("GET", p.base+"/xapi/statements?"+query, nil)
			req.SetBasicAuth(p.key, p.secret)
			req.Header.Set("X-Experience-API-Version", "1.0.3")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, id := range own {
			if code, _ := read("statementId=" + id); code != http.StatusNotFound {
				t.Errorf("the learner's statement %s: %d, want 404", id, code)
			}
		}
		for _, format := range []string{"exact", "ids", "canonical"} {
			code, b := read("format=" + format + "&related_agents=true&agent=" + url.QueryEscape(learner))
			var page struct{ Statements []json.RawMessage }
			if json.Unmarshal([]byte(b), &page); code != http.StatusOK || len(page.Statements) != 0 {
				t.Errorf("query by the learner, format %s: %d %s", format, code, b)
			}
			if _, b := read("format=" + format + "&statementId=" + taught); strings.Contains(b, "learner-1") || !strings.Contains(b, statements.ErasedHomePage) {
				t.Errorf("the teacher's statement, format %s: %s", format, b)
			}
		}
		es, err := a.store.ReadLog(t.Context(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Record != nil && strings.Contains(string(e.Record.Statement), "learner-1") {
				t.Errorf("the log still delivers %s: %s", e.Record.ID, e.Record.Statement)
			}
		}

		// Then a statement of another learner: the relay goes on.
		later, err := p.post(2, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		consumer.waitFor(t, map[string]bool{later[0]: true}, 20*time.Second)
		var erasure *message
		lastOwn := -1
		consumer.mu.Lock()
		msgs := append([]message(nil), consumer.all...)
		consumer.mu.Unlock()
		for i := range msgs {
			m := &msgs[i]
			switch {
			case m.headers["ce_type"] == kafkasink.ErasureType:
				erasure = m
				if lastOwn < 0 {
					t.Errorf("the erasure event comes before the learner's statements")
				}
			case slices.Contains(own, m.headers["ce_id"]):
				if erasure != nil {
					t.Errorf("the learner's statement %s comes after the erasure event", m.headers["ce_id"])
				}
				lastOwn = i
			case erasure != nil && strings.Contains(string(m.value), "learner-1"):
				t.Errorf("after the erasure event, a message names the learner: %s", m.value)
			}
		}
		if erasure == nil {
			t.Fatal("no erasure event on the topic")
		}
		if erasure.key != kafkasink.Key(lrs.DefaultTenant, "Agent|account|https://mpass-proxy.csc.fi|learner-1") ||
			erasure.partition != msgs[lastOwn].partition {
			t.Errorf("erasure event key %s partition %d; the learner's last statement partition %d", erasure.key, erasure.partition, msgs[lastOwn].partition)
		}
		var v kafkasink.Erased
		if err := json.Unmarshal(erasure.value, &v); err != nil || len(v.Statements) != 3 || len(v.Pseudonymised) != 1 || v.Pseudonymised[0] != taught {
			t.Errorf("erasure event value %s (%v)", erasure.value, err)
		}
	})
}
