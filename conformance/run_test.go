package conformance

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRun_AppCredential runs every check with the credential the README
// tells operators to give a vendor app: an --app credential of scopes
// statements/write and statements/read/mine. The LRS sets its statements'
// authority to a Group; no check fails, and the checks its scopes cannot
// run are reported as not run, with the scope they need.
func TestRun_AppCredential(t *testing.T) {
	l := startTestLRS(t, nil)
	cfg := l.appCredential(t, ScopeStatementsWrite, ScopeStatementsReadMine)
	rep := Run(t.Context(), cfg)
	if rep.PreflightErr != nil {
		t.Fatalf("preflight: %v", rep.PreflightErr)
	}
	caps := rep.Capabilities
	if got, want := caps.Scopes, []string{ScopeStatementsWrite, ScopeStatementsReadMine}; !slices.Equal(got, want) {
		t.Errorf("Scopes = %v, want %v (probes %v)", got, want, caps.Probes)
	}
	if got := str(caps.Authority["objectType"]); got != "Group" {
		t.Errorf("Authority = %s, want the app's Group", jsonString(caps.Authority))
	}
	for _, res := range rep.Failed() {
		t.Errorf("FAIL %s %s: %s\n%v", res.Version, res.Requirement.ID, res.Requirement.Text, res.Err)
	}
	wantReasons := map[string]string{
		"Communication 2.3.s3":    "needs scope state",
		"Communication 2.7.s3":    "needs scope profile",
		"Communication 2.2.s4.b2": "needs scopes state, profile",
		"Data 2.4.4.1.s4.b3":      "needs scope define",
		"Communication 2.8.s5.b1": "", // runs
		"Data 2.4.9.s3.b2":        "", // the authority is the app's Group
		"Communication 3.2.s2.b2": "",
		"Communication 2.1.2.s1":  "",
	}
	seen := map[string]bool{}
	for _, res := range rep.Results {
		if res.Status() == StatusNotRun && !regexp.MustCompile(`^needs scopes? (state|profile|define)(, (state|profile|define))*$`).MatchString(res.NotRun) {
			t.Errorf("%s %s not run: %q, want it to need state, profile or define", res.Version, res.Requirement.ID, res.NotRun)
		}
		if want, ok := wantReasons[res.Requirement.ID]; ok {
			seen[res.Requirement.ID] = true
			if res.NotRun != want {
				t.Errorf("%s %s: not run %q, want %q", res.Version, res.Requirement.ID, res.NotRun, want)
			}
		}
	}
	for id := range wantReasons {
		if !seen[id] {
			t.Errorf("no result for %s", id)
		}
	}
	if len(rep.NotRun()) == 0 || len(rep.Passed()) < 250 {
		t.Errorf("%d passed, %d not run; want most checks to run and some not", len(rep.Passed()), len(rep.NotRun()))
	}
	if i := slices.IndexFunc(rep.Written, func(w Written) bool { return w.Check == "preflight" && w.Kind == WrittenStatement }); i < 0 {
		t.Error("Written does not list the preflight's statement")
	}
	if i := slices.IndexFunc(rep.Written, func(w Written) bool { return w.Kind != WrittenStatement }); i >= 0 {
		t.Errorf("Written lists a document, %+v, that the credential cannot write", rep.Written[i])
	}
	tot := rep.Totals()
	t.Logf("app credential: %d passed, %d failed, %d not run; %d statements written", tot.Passed, tot.Failed, tot.NotRun, len(rep.Written))
}

// TestRun_DocumentScopes runs the document checks with a credential of
// scopes statements/write, statements/read/mine and state: the state
// checks run and pass, and the written documents are listed.
func TestRun_DocumentScopes(t *testing.T) {
	l := startTestLRS(t, nil)
	cfg := l.appCredential(t, ScopeStatementsWrite, ScopeStatementsReadMine, ScopeState)
	cfg.Version = V200
	cfg.Match = regexp.MustCompile(`^Communication (2\.3\.s3|2\.3\.s5|2\.7\.s3|2\.2\.s4\.b2) `)
	rep := Run(t.Context(), cfg)
	if rep.PreflightErr != nil {
		t.Fatalf("preflight: %v", rep.PreflightErr)
	}
	status := map[string]string{}
	for _, res := range rep.Results {
		status[res.Requirement.ID] = res.Status() + " " + res.NotRun
		if res.Err != nil {
			t.Errorf("FAIL %s: %v", res.Requirement.ID, res.Err)
		}
	}
	want := map[string]string{
		"Communication 2.3.s3":    "pass ",
		"Communication 2.3.s5":    "pass ",
		"Communication 2.7.s3":    "not-run needs scope profile",
		"Communication 2.2.s4.b2": "not-run needs scope profile",
	}
	for id, w := range want {
		if status[id] != w {
			t.Errorf("%s: %q, want %q", id, status[id], w)
		}
	}
	var docs []Written
	for _, w := range rep.Written {
		if w.Kind == WrittenState {
			docs = append(docs, w)
		}
	}
	if len(docs) == 0 {
		t.Fatal("Written lists no state documents")
	}
	kept := 0
	for _, d := range docs {
		if d.ID == "" || d.ActivityID == "" || d.Agent == "" {
			t.Errorf("written state %+v: want its id, activity and agent", d)
		}
		if !d.Deleted {
			kept++
		}
	}
	// Of the documents both checks store, only the one of 2.3.s5 for
	// another agent outlives the check's DELETEs.
	if kept != 1 {
		t.Errorf("%d written states are not deleted, want 1: %+v", kept, docs)
	}
}

// TestPreflight checks that a run that cannot start stops with one clear
// error and no check results.
func TestPreflight(t *testing.T) {
	var authenticated atomic.Int64
	l := startTestLRS(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				authenticated.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nothing := "http://" + ln.Addr().String() + "/xapi/"
	ln.Close()
	notLRS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>a web site</html>"))
	}))
	defer notLRS.Close()

	for _, tc := range []struct {
		name string
		edit func(t *testing.T, cfg *Config)
		want string
	}{
		{"NothingListening", func(t *testing.T, cfg *Config) { cfg.Endpoint = nothing }, "cannot reach the LRS"},
		{"WrongEndpoint", func(t *testing.T, cfg *Config) { cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "xapi/") }, "is not the endpoint of an xAPI LRS: GET"},
		{"NotAnLRS", func(t *testing.T, cfg *Config) { cfg.Endpoint = notLRS.URL + "/xapi/" }, `did not return a JSON object with a "version" list`},
		{"WrongSecret", func(t *testing.T, cfg *Config) { cfg.Secret += "-wrong" }, "the LRS refused the credential"},
		{"UnknownKey", func(t *testing.T, cfg *Config) { cfg.Key = "no-such-key" }, "the LRS refused the credential"},
		{"DeclaredScopeDenied", func(t *testing.T, cfg *Config) {
			*cfg = l.appCredential(t, ScopeStatementsWrite, ScopeStatementsReadMine)
			cfg.Scopes = []string{ScopeStatementsWrite, ScopeStatementsReadMine, ScopeState}
		}, "the declared scopes grant state, but the LRS refused it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := l.Config
			tc.edit(t, &cfg)
			before := authenticated.Load()
			rep := Run(t.Context(), cfg)
			if rep.PreflightErr == nil {
				t.Fatalf("PreflightErr = nil, want an error (%d results)", len(rep.Results))
			}
			msg := rep.PreflightErr.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("PreflightErr = %q, want one line with %q", msg, tc.want)
			}
			if len(rep.Results) != 0 || rep.OK() {
				t.Errorf("%d results, OK %t; want none, and not OK", len(rep.Results), rep.OK())
			}
			if n := authenticated.Load() - before; strings.HasPrefix(tc.want, "the LRS refused") && n > 2 {
				t.Errorf("%d authenticated requests, want at most 2", n)
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\n"); n != 1 {
				t.Errorf("text report has %d lines, want 1:\n%s", n, buf.String())
			}
		})
	}
}
