package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/conformance"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseOptions(t *testing.T) {
	t.Run("Flags", func(t *testing.T) {
		opts, err := parseOptions([]string{"--endpoint", "http://lrs.test/xapi/", "--key", "k", "--secret", "s", "--version", "2.0.0", "--run", "^Data",
			"--scopes", "statements/write, statements/read/mine", "--json", "r.json", "--junit", "r.xml"}, &bytes.Buffer{}, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		cfg := opts.cfg
		if got, want := cfg.Endpoint, "http://lrs.test/xapi/"; got != want {
			t.Errorf("Endpoint = %q, want %q", got, want)
		}
		if cfg.Key != "k" || cfg.Secret != "s" || cfg.Version != "2.0.0" {
			t.Errorf("Key, Secret, Version = %q, %q, %q", cfg.Key, cfg.Secret, cfg.Version)
		}
		if cfg.Match == nil || !cfg.Match.MatchString("Data 2.2.s2.b3") || cfg.Match.MatchString("Communication 1.3") {
			t.Errorf("Match = %v", cfg.Match)
		}
		if cfg.Client == nil || cfg.Client.Timeout <= 0 {
			t.Errorf("Client = %v, want one with a timeout", cfg.Client)
		}
		if got, want := cfg.Scopes, []string{"statements/write", "statements/read/mine"}; !slices.Equal(got, want) {
			t.Errorf("Scopes = %q, want %q", got, want)
		}
		if opts.json != "r.json" || opts.junit != "r.xml" {
			t.Errorf("json, junit = %q, %q", opts.json, opts.junit)
		}
	})
	t.Run("Environment", func(t *testing.T) {
		opts, err := parseOptions(nil, &bytes.Buffer{}, env(map[string]string{
			"LRS_CONFORMANCE_ENDPOINT": "http://env.test/xapi",
			"LRS_CONFORMANCE_KEY":      "ek",
			"LRS_CONFORMANCE_SECRET":   "es",
			"LRS_CONFORMANCE_SCOPES":   "all",
			"LRS_CONFORMANCE_JSON":     "env.json",
			"LRS_CONFORMANCE_JUNIT":    "env.xml",
		}))
		if err != nil {
			t.Fatal(err)
		}
		cfg := opts.cfg
		if cfg.Endpoint != "http://env.test/xapi" || cfg.Key != "ek" || cfg.Secret != "es" || cfg.Version != "" {
			t.Errorf("cfg = %+v", cfg)
		}
		if !slices.Equal(cfg.Scopes, []string{"all"}) || opts.json != "env.json" || opts.junit != "env.xml" {
			t.Errorf("Scopes %q, json %q, junit %q", cfg.Scopes, opts.json, opts.junit)
		}
	})
	t.Run("FlagOverridesEnvironment", func(t *testing.T) {
		opts, err := parseOptions([]string{"--key", "flag", "--json", "flag.json"}, &bytes.Buffer{}, env(map[string]string{
			"LRS_CONFORMANCE_ENDPOINT": "http://env.test/xapi",
			"LRS_CONFORMANCE_KEY":      "ek",
			"LRS_CONFORMANCE_SECRET":   "es",
			"LRS_CONFORMANCE_JSON":     "env.json",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := opts.cfg.Key, "flag"; got != want {
			t.Errorf("Key = %q, want %q", got, want)
		}
		if got, want := opts.json, "flag.json"; got != want {
			t.Errorf("json = %q, want %q", got, want)
		}
	})
	t.Run("UsageErrors", func(t *testing.T) {
		full := []string{"--endpoint", "http://lrs.test/xapi/", "--key", "k", "--secret", "s"}
		for name, args := range map[string][]string{
			"no endpoint":      {"--key", "k", "--secret", "s"},
			"no key":           {"--endpoint", "http://lrs.test/xapi/", "--secret", "s"},
			"no secret":        {"--endpoint", "http://lrs.test/xapi/", "--key", "k"},
			"bad version":      append(full, "--version", "1.0.2"),
			"bad regexp":       append(full, "--run", "("),
			"not a URL":        {"--endpoint", "lrs.test", "--key", "k", "--secret", "s"},
			"unknown flag":     append(full, "--verbose"),
			"extra argument":   append(full, "extra"),
			"negative timeout": append(full, "--timeout", "-1s"),
			"unknown scope":    append(full, "--scopes", "statements/write,statements"),
			"same file":        append(full, "--json", "r", "--junit", "r"),
		} {
			t.Run(name, func(t *testing.T) {
				_, err := parseOptions(args, &bytes.Buffer{}, env(nil))
				var usage *usageError
				if !errors.As(err, &usage) {
					t.Errorf("err = %v, want a usage error", err)
				}
			})
		}
	})
	t.Run("Help", func(t *testing.T) {
		var out bytes.Buffer
		_, err := parseOptions([]string{"-h"}, &out, env(nil))
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("err = %v, want flag.ErrHelp", err)
		}
		if !strings.Contains(out.String(), "--endpoint") {
			t.Errorf("usage output %q does not mention --endpoint", out.String())
		}
	})
}

// TestRun_Reports runs checks with a vendor app's credential against an
// LRS whose /about is broken: the run fails, the text report names the
// requirement on every line and the JSON and JUnit reports (one file named
// by a flag, one by the environment) hold the same results.
func TestRun_Reports(t *testing.T) {
	l := startLRS(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/xapi/about" && r.Method == http.MethodGet {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"version":["1.0.3","2.0.0"],"corrupted":true}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	key, secret := l.appCredential(t, "statements/write", "statements/read/mine")
	dir := t.TempDir()
	jsonFile, junitFile := filepath.Join(dir, "report.json"), filepath.Join(dir, "report.xml")
	var out bytes.Buffer
	err := run(t.Context(), []string{"--endpoint", l.endpoint, "--key", key, "--secret", secret, "--json", jsonFile,
		"--run", `^Communication (2\.8\.s5\.b2|2\.3\.s3|2\.1\.2\.s1) `}, &out, env(map[string]string{"LRS_CONFORMANCE_JUNIT": junitFile}))
	if !errors.Is(err, errFailed) {
		t.Fatalf("err = %v, want errFailed\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"FAIL    1.0.3 Communication 2.8.s5.b2: /about has no properties other than",
		"ok      2.0.0 Communication 2.1.2.s1: ",
		"not run 2.0.0 Communication 2.3.s3 (needs scope state): the State Resource stores",
		"lacks state, profile, define",
		"(1.0.3 preflight)\n",
		"(2.0.0 Communication 2.1.2.s1)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasSuffix(text, "\n2 passed, 2 failed, 2 not run\n") {
		t.Errorf("text report does not end with the summary:\n%s", text)
	}

	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		OK      bool `json:"ok"`
		Summary struct {
			Passed, Failed, NotRun int
		} `json:"summary"`
		Checks []struct {
			ID       string `json:"id"`
			Status   string `json:"status"`
			Exchange *struct {
				Response struct {
					Body string `json:"body"`
				} `json:"response"`
			} `json:"exchange"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", jsonFile, err)
	}
	if rep.OK || rep.Summary.Passed != 2 || rep.Summary.Failed != 2 || rep.Summary.NotRun != 2 || len(rep.Checks) != 6 {
		t.Errorf("JSON report: ok %t, summary %+v, %d checks", rep.OK, rep.Summary, len(rep.Checks))
	}
	for _, c := range rep.Checks {
		if c.Status == "fail" && (c.Exchange == nil || !strings.Contains(c.Exchange.Response.Body, "corrupted")) {
			t.Errorf("failed check %s lacks the failing response", c.ID)
		}
	}

	data, err = os.ReadFile(junitFile)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("%s: %v", junitFile, err)
	}
	if suites.Tests != 6 || suites.Failures != 2 || suites.Skipped != 2 || len(suites.Suites) != 6 {
		t.Errorf("JUnit report: %+v", suites)
	}
}

// TestRun_Preflight checks that a run that cannot start says so once,
// prints no check, makes one failed login at most and still writes the
// JSON report.
func TestRun_Preflight(t *testing.T) {
	var authenticated atomic.Int64
	l := startLRS(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				authenticated.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	notLRS := httptest.NewServer(http.NotFoundHandler())
	defer notLRS.Close()
	for name, tc := range map[string]struct {
		endpoint, secret, want string
	}{
		"WrongSecret":   {l.endpoint, "wrong", "the LRS refused the credential"},
		"WrongEndpoint": {notLRS.URL + "/xapi/", l.secret, "is not the endpoint of an xAPI LRS"},
	} {
		t.Run(name, func(t *testing.T) {
			before := authenticated.Load()
			jsonFile := filepath.Join(t.TempDir(), "report.json")
			var out bytes.Buffer
			err := run(t.Context(), []string{"--endpoint", tc.endpoint, "--key", l.key, "--secret", tc.secret, "--json", jsonFile}, &out, env(nil))
			var pe *conformance.PreflightError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a preflight error saying %q", err, tc.want)
			}
			if out.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
			if n := authenticated.Load() - before; n > 1 {
				t.Errorf("%d authenticated requests, want at most 1", n)
			}
			data, err := os.ReadFile(jsonFile)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Preflight struct {
					Error string `json:"error"`
				} `json:"preflight"`
				Checks []any `json:"checks"`
			}
			if err := json.Unmarshal(data, &rep); err != nil || rep.Preflight.Error != pe.Error() || len(rep.Checks) != 0 {
				t.Errorf("JSON report: %+v, %v", rep, err)
			}
		})
	}
}

// testLRS is the LRS served in process for a test.
type testLRS struct {
	endpoint, key, secret string // a credential of scope "all"
	admin                 *lrs.Admin
}

// startLRS serves the LRS on the embedded store in a temporary directory,
// its handler wrapped by wrap.
func startLRS(t *testing.T, wrap func(http.Handler) http.Handler) *testLRS {
	t.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: "conformance", Secret: "conformance-secret"}, time.Now()); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewServer(wrap(lrs.New(lrs.Config{Store: store})))
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	return &testLRS{endpoint: srv.URL + "/xapi/", key: "conformance", secret: "conformance-secret",
		admin: &lrs.Admin{Store: store, Admin: store}}
}

// appCredential creates a vendor app's credential of the scopes, as
// `lrs credential create --app` does, and returns its key and secret.
func (l *testLRS) appCredential(t *testing.T, scopes ...string) (key, secret string) {
	t.Helper()
	cred, secret, err := l.admin.CreateCredential(context.Background(), "test",
		lrs.NewCredential{Tenant: lrs.DefaultTenant, Scopes: scopes, App: "Vendor A"})
	if err != nil {
		t.Fatalf("create credential: %v", err)
	}
	return cred.Key, secret
}
