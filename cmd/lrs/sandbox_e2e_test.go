package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/validation/profile/digione"
)

// TestSandbox_EndToEnd does what the README tells a new vendor, on each
// store: `lrs sandbox create` prints a credential and the test learners;
// with the LRS serving, a good statement is accepted and its result
// reaches the sandbox gradebook, a bad one is refused naming the template
// and the rule; the report says so; nothing of the sandbox reaches Kafka
// while another tenant's statement does; a reset empties the sandbox and
// the credential still works.
func TestSandbox_EndToEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		c := startKafka(t)
		serveArgs := storeArgs(t, store)
		var args []string // the store flags of the admin commands
		for i := 0; i < len(serveArgs); i++ {
			if serveArgs[i] == "--mongo-lease" {
				i++
				continue
			}
			args = append(args, serveArgs[i])
		}
		const adminToken = "admin-token-0123456789"
		vars := env(map[string]string{"LRS_ADMIN_TOKEN": adminToken})

		var out, errb strings.Builder
		if err := run(context.Background(), append([]string{"sandbox", "create", "acme", "--xapi-version", "2.0.0", "--json"}, args...), vars, &out, &errb); err != nil {
			t.Fatalf("lrs sandbox create: %v %s", err, errb.String())
		}
		var sb lrs.SandboxJSON
		if err := json.Unmarshal([]byte(out.String()), &sb); err != nil || len(sb.Credentials) != 1 || sb.Credentials[0].Secret == "" {
			t.Fatalf("lrs sandbox create --json: %v %s", err, out.String())
		}
		// A real tenant, whose statements go to Kafka.
		out.Reset()
		if err := run(context.Background(), append([]string{"tenant", "create", "espoo"}, args...), vars, &out, &errb); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if err := run(context.Background(), append([]string{"credential", "create", "--tenant", "espoo", "--scopes", "all", "--json"}, args...), vars, &out, &errb); err != nil {
			t.Fatal(err)
		}
		var espoo lrs.CredentialJSON
		json.Unmarshal([]byte(out.String()), &espoo)
		out.Reset()
		if err := run(context.Background(), append([]string{"sandbox", "show", "acme"}, args...), vars, &out, &errb); err != nil ||
			!strings.Contains(out.String(), sb.School.Learners[0].Account.Name) || !strings.Contains(out.String(), "1.2.246.562.98.10000000001") {
			t.Fatalf("lrs sandbox show: %v\n%s", err, out.String())
		}

		cfg, err := parseServeConfig(append(serveArgs, "--addr", "127.0.0.1:0", "--log-level", "disabled",
			"--kafka-brokers", strings.Join(c.ListenAddrs(), ",")), vars, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		a := startApp(t, cfg, io.Discard)
		base := "http://" + a.Addr()
		consumer := newConsumer(t, c.ListenAddrs())
		do := func(method, path, auth, body string, want int) []byte {
			t.Helper()
			return call(t, base, method, path, auth, body, want)
		}
		cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
		learner, li := sb.School.Learners[1], sb.School.LineItems[0]
		good, bad := newUUID(), newUUID()
		do("POST", "/xapi/statements", cred, lrstest.SandboxStatement(good, learner, li, 8, nil), http.StatusOK)
		b := do("POST", "/xapi/statements", cred, lrstest.SandboxStatement(bad, learner, li, 8, func(s string) string {
			return strings.Replace(s, `"timestamp":"2026-12-01T08:15:00+02:00"`, `"stored":"2026-12-01T08:15:00+02:00"`, 1)
		}), http.StatusBadRequest)
		if !strings.Contains(string(b), "template "+digione.Template("scored")+" rule 3 ($.timestamp): missing; must be included") {
			t.Errorf("the statement without a timestamp: %s, want the scored template's rule 3 named", b)
		}

		// Another tenant's statement goes to Kafka; the sandbox's never.
		other := newUUID()
		do("POST", "/xapi/statements", espoo.Key+":"+espoo.Secret, `{"id":"`+other+`","actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://example.fi/a"}}`, http.StatusOK)
		consumer.waitFor(t, map[string]bool{other: true}, 20*time.Second)
		consumer.mu.Lock()
		leaked := consumer.ids[good]
		consumer.mu.Unlock()
		if leaked != 0 {
			t.Errorf("the sandbox's statement %s reached Kafka", good)
		}

		var res lrs.SandboxResultsJSON
		json.Unmarshal(do("GET", "/admin/sandboxes/acme/results", adminToken, "", http.StatusOK), &res)
		if len(res.Results) != 1 || res.Results[0].Student.SourcedID != learner.SourcedID || *res.Results[0].Score != 8 {
			t.Fatalf("sandbox gradebook: %+v, want learner %s scored 8", res.Results, learner.SourcedID)
		}
		// The same result, read the OneRoster way from the sandbox's provider.
		treq, _ := http.NewRequest("POST", base+"/sandbox/oneroster/token", strings.NewReader("grant_type=client_credentials"))
		treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		treq.SetBasicAuth(sb.Credentials[0].Key, sb.Credentials[0].Secret)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp, err := http.DefaultClient.Do(treq); err != nil || json.NewDecoder(resp.Body).Decode(&tok) != nil || tok.AccessToken == "" {
			t.Fatalf("sandbox OneRoster token: %v", err)
		}
		var orRes struct {
			Results []oneroster.Result `json:"results"`
		}
		json.Unmarshal(do("GET", "/sandbox/oneroster/ims/oneroster/gradebook/v1p2/results", tok.AccessToken, "", http.StatusOK), &orRes)
		if len(orRes.Results) != 1 || orRes.Results[0].SourcedID != res.Results[0].SourcedID || *orRes.Results[0].Score != 8 {
			t.Errorf("sandbox OneRoster results: %+v, want the gradebook's result scored 8", orRes.Results)
		}
		var rep lrs.SandboxReportJSON
		json.Unmarshal(do("GET", "/admin/sandboxes/acme/report", adminToken, "", http.StatusOK), &rep)
		if len(rep.Credentials) != 1 || len(rep.Credentials[0].Days) != 1 || rep.Credentials[0].Days[0].Accepted != 1 ||
			len(rep.Credentials[0].Days[0].Rows) != 1 || rep.Credentials[0].Days[0].Rows[0].Example != bad ||
			len(rep.Gradebook) != 1 || rep.Gradebook[0].Results != 1 {
			t.Errorf("report: %+v", rep)
		}

		// The teacher view, on this LRS with no identity provider: the
		// vendor page opens it as the learner's test teacher, whose class
		// overview counts the good statement.
		var teacher lrs.SandboxPerson
		for _, tp := range sb.School.Teachers {
			if tp.Classes[0] == learner.Classes[0] {
				teacher = tp
			}
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		form := url.Values{"person": {teacher.SourcedID}}
		req, _ := http.NewRequest("POST", base+"/ui/sandbox/open", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		k, sec, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(k, sec)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/ui/classes" || !strings.Contains(string(page), learner.Classes[0]) {
			t.Fatalf("open the teacher view: %d at %s: %s", resp.StatusCode, resp.Request.URL, page)
		}
		resp, err = browser.Get(base + "/api/classes/" + learner.Classes[0] + "/overview")
		if err != nil {
			t.Fatal(err)
		}
		var ov struct {
			Students []struct {
				SourcedID  string `json:"sourcedId"`
				Statements int    `json:"statements"`
			} `json:"students"`
		}
		json.NewDecoder(resp.Body).Decode(&ov)
		resp.Body.Close()
		counted := false
		for _, st := range ov.Students {
			counted = counted || (st.SourcedID == learner.SourcedID && st.Statements == 1)
		}
		if resp.StatusCode != http.StatusOK || !counted {
			t.Errorf("the test teacher's overview: %d %+v, want %s with 1 statement", resp.StatusCode, ov, learner.SourcedID)
		}

		do("POST", "/admin/sandboxes/acme/reset", adminToken, "", http.StatusOK)
		json.Unmarshal(do("GET", "/admin/sandboxes/acme/results", adminToken, "", http.StatusOK), &res)
		if len(res.Results) != 0 {
			t.Errorf("gradebook after reset: %+v, want empty", res.Results)
		}
		json.Unmarshal(do("GET", "/admin/sandboxes/acme/report", adminToken, "", http.StatusOK), &rep)
		if len(rep.Gradebook) != 0 || len(rep.Results) != 0 {
			t.Errorf("report after reset: %+v, want no gradebook-bound statements", rep)
		}
		// The credential survives the reset (its cache is forgotten on
		// another process's reset within a minute; this one's at once).
		do("GET", "/xapi/statements?statementId="+good, cred, "", http.StatusNotFound)
	})
}

// TestCLI_Sandbox: the sandbox commands offline: create prints the
// credential, endpoint and learners; a second create is refused; list,
// report, reset and delete.
func TestCLI_Sandbox(t *testing.T) {
	dir := t.TempDir()
	out := mustCLI(t, dir, nil, "sandbox", "create", "acme", "--sandbox-ttl", "2d", "--endpoint", "https://lrs.example.fi/xapi/")
	for _, want := range []string{"xAPI endpoint: https://lrs.example.fi/xapi/", "vendor page:   https://lrs.example.fi/ui/sandbox",
		"OneRoster 1.2 token URL: https://lrs.example.fi/sandbox/oneroster/token", "OneRoster gradebook:     https://lrs.example.fi/sandbox/oneroster/ims/oneroster/gradebook/v1p2", "secret:", "profile mode:  strict", "1.2.246.562.98.10000000006", "MPASSOID.test.", "sandbox-class-7a-lineitem-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("sandbox create lacks %q:\n%s", want, out)
		}
	}
	if _, err := cli(t, dir, nil, "sandbox", "create", "acme"); err == nil || !strings.Contains(err.Error(), "has a sandbox already") {
		t.Errorf("second create: %v", err)
	}
	if _, err := cli(t, dir, nil, "sandbox", "create", "other", "--sandbox-ttl", "soon"); err == nil || !strings.Contains(err.Error(), "--sandbox-ttl") {
		t.Errorf("--sandbox-ttl soon: %v", err)
	}
	var shown lrs.SandboxJSON
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "sandbox", "show", "acme", "--endpoint", "https://lrs.example.fi/xapi/", "--json")), &shown)
	if or := shown.OneRoster; or == nil || or.RosteringURL != "https://lrs.example.fi/sandbox/oneroster/ims/oneroster/rostering/v1p2" {
		t.Errorf("sandbox show --json: oneRoster %+v, want the provider's URLs", or)
	}
	var list []lrs.SandboxJSON
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "sandbox", "list", "--json")), &list)
	if len(list) != 1 || list[0].Expires.Sub(list[0].Created) != 48*time.Hour {
		t.Errorf("sandbox list: %+v, want acme expiring in 2 days", list)
	}
	if out := mustCLI(t, dir, nil, "sandbox", "report", "acme"); !strings.Contains(out, "profile mode strict") || !strings.Contains(out, "the sandbox gradebook's results") {
		t.Errorf("sandbox report:\n%s", out)
	}
	if out := mustCLI(t, dir, nil, "sandbox", "reset", "acme"); !strings.Contains(out, "reset the sandbox of acme") {
		t.Errorf("sandbox reset: %s", out)
	}
	mustCLI(t, dir, nil, "sandbox", "delete", "acme")
	if _, err := cli(t, dir, nil, "sandbox", "report", "acme"); err == nil || !strings.Contains(err.Error(), "no sandbox") {
		t.Errorf("report of a deleted sandbox: %v", err)
	}
}

// TestSandbox_NoGradebook: even connected to a real gradebook by mistake,
// a sandbox writes nothing to it: the OneRoster write-back keeps no result
// of the sandbox and the gradebook receives none, while another tenant's
// result is written; the sandbox gradebook has the sandbox's.
func TestSandbox_NoGradebook(t *testing.T) {
	g := startGradeApp(t, "sqlite")
	code, body := g.adminDo("POST", "/admin/sandboxes", `{"vendor":"acme"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /admin/sandboxes: %d %s", code, body)
	}
	var sb lrs.SandboxJSON
	json.Unmarshal([]byte(body), &sb)
	cfg := fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client","clientSecret":"or-secret-e2e"}`, g.book.BaseURL(), g.book.TokenURL())
	if code, resp := g.adminDo("PUT", "/admin/tenants/sandbox-acme/oneroster", cfg); code != 200 {
		t.Fatalf("PUT the sandbox's oneroster config: %d %s", code, resp)
	}
	learner, li := sb.School.Learners[0], sb.School.LineItems[0]
	sandboxPost := poster{base: g.base, key: sb.Credentials[0].Key, secret: sb.Credentials[0].Secret}
	if err := sandboxPost.postRaw(lrstest.SandboxStatement(newUUID(), learner, li, 6, nil)); err != nil {
		t.Fatal(err)
	}
	g.mustPost(gradeStatement(newUUID(), "learner-9", passed, "li-1", `{"success":true}`, "2026-12-01T08:00:00Z"))
	g.waitHistory(oneroster.ResultID("default", "li-1", "learner-9"), 1)

	if h := g.book.History(oneroster.ResultID("sandbox-acme", li.SourcedID, learner.Account.Name)); len(h) != 0 {
		t.Errorf("the gradebook received the sandbox's result: %v", h)
	}
	if code, resp := g.adminDo("GET", "/admin/tenants/sandbox-acme/oneroster/results", ""); code != 200 || strings.Contains(resp, li.SourcedID) {
		t.Errorf("the write-back keeps sandbox results: %d %s", code, resp)
	}
	_, resp := g.adminDo("GET", "/admin/sandboxes/acme/results", "")
	var res lrs.SandboxResultsJSON
	if err := json.Unmarshal([]byte(resp), &res); err != nil || len(res.Results) != 1 {
		t.Errorf("sandbox gradebook: %s, want the one result", resp)
	}
}
