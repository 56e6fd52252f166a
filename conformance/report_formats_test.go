package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// brokenAbout wraps an LRS so that its /about has a property xAPI does not
// allow: Communication 2.8.s5.b2 fails.
func brokenAbout(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/xapi/about" || r.Method != http.MethodGet {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var about map[string]any
		json.Unmarshal(rec.Body.Bytes(), &about)
		about["corrupted"] = "by the test"
		body, _ := json.Marshal(about)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// brokenRun runs the About checks, which fail on brokenAbout once per
// version, and a State Resource check, which an app credential without
// state does not run: 6 passed, 2 failed and 2 not run.
func brokenRun(t *testing.T) (Report, Config) {
	t.Helper()
	l := startTestLRS(t, brokenAbout)
	cfg := l.appCredential(t, ScopeStatementsWrite, ScopeStatementsReadMine)
	cfg.Match = regexp.MustCompile(`^Communication (2\.8\.s5\.b\d|2\.3\.s3) `)
	rep := Run(t.Context(), cfg)
	if rep.PreflightErr != nil {
		t.Fatalf("preflight: %v", rep.PreflightErr)
	}
	if tot := rep.Totals(); tot.Passed != 6 || tot.Failed != 2 || tot.NotRun != 2 {
		t.Fatalf("%d passed, %d failed, %d not run; want 6, 2, 2", tot.Passed, tot.Failed, tot.NotRun)
	}
	return rep, cfg
}

func TestReport_WriteJSON(t *testing.T) {
	rep, cfg := brokenRun(t)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), cfg.Secret) {
		t.Error("the JSON report holds the secret")
	}
	var got struct {
		Endpoint  string `json:"endpoint"`
		OK        *bool  `json:"ok"`
		Preflight struct {
			Scopes    []string       `json:"scopes"`
			Authority map[string]any `json:"authority"`
		} `json:"preflight"`
		Summary struct {
			Passed, Failed, NotRun int
			Versions               []struct {
				Version                string
				Passed, Failed, NotRun int
				Sections               []struct {
					Section                string
					Passed, Failed, NotRun int
				}
			}
		} `json:"summary"`
		Checks []struct {
			ID              string   `json:"id"`
			Requirement     string   `json:"requirement"`
			Version         string   `json:"version"`
			Section         string   `json:"section"`
			Status          string   `json:"status"`
			Needs           []string `json:"needs"`
			Reason          string   `json:"reason"`
			DurationSeconds *float64 `json:"durationSeconds"`
			Error           string   `json:"error"`
			Exchange        *struct {
				Request struct {
					Method  string              `json:"method"`
					URL     string              `json:"url"`
					Headers map[string][]string `json:"headers"`
				} `json:"request"`
				Response *struct {
					Status    int                 `json:"status"`
					Headers   map[string][]string `json:"headers"`
					Body      string              `json:"body"`
					BodyBytes int                 `json:"bodyBytes"`
				} `json:"response"`
			} `json:"exchange"`
		} `json:"checks"`
		Written struct {
			Statements []struct{ ID, Version, Check string } `json:"statements"`
			Documents  []any                                 `json:"documents"`
		} `json:"written"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, buf.String())
	}
	if got.Endpoint != cfg.Endpoint || got.OK == nil || *got.OK {
		t.Errorf("endpoint %q, ok %v; want %q and false", got.Endpoint, got.OK, cfg.Endpoint)
	}
	if str(got.Preflight.Authority["objectType"]) != "Group" || len(got.Preflight.Scopes) != 2 {
		t.Errorf("preflight = %+v", got.Preflight)
	}
	if s := got.Summary; s.Passed != 6 || s.Failed != 2 || s.NotRun != 2 || len(s.Versions) != 2 {
		t.Errorf("summary = %+v", s)
	}
	for _, v := range got.Summary.Versions {
		var sections []string
		for _, s := range v.Sections {
			sections = append(sections, s.Section)
		}
		if !slices.Equal(sections, []string{"About resource", "Document resources"}) || v.Passed != 3 || v.Failed != 1 || v.NotRun != 1 {
			t.Errorf("summary of %s = %+v", v.Version, v)
		}
	}
	if len(got.Checks) != 10 {
		t.Fatalf("%d checks, want 10", len(got.Checks))
	}
	for _, c := range got.Checks {
		if c.ID == "" || c.Requirement == "" || c.Section == "" || c.DurationSeconds == nil || c.Needs == nil {
			t.Errorf("check %+v lacks a field", c)
		}
		switch c.Status {
		case "fail":
			if c.ID != "Communication 2.8.s5.b2" || !strings.Contains(c.Error, "corrupted") || c.Exchange == nil || c.Exchange.Response == nil {
				t.Errorf("failed check %+v, want 2.8.s5.b2 with its error and exchange", c)
				continue
			}
			req, resp := c.Exchange.Request, c.Exchange.Response
			if req.Method != "GET" || !strings.HasSuffix(req.URL, "/xapi/about") || req.Headers["X-Experience-Api-Version"][0] != c.Version {
				t.Errorf("failed check's request = %+v", req)
			}
			if a := req.Headers["Authorization"]; len(a) != 1 || a[0] != "Basic [redacted]" {
				t.Errorf("request Authorization = %q, want it redacted", a)
			}
			if resp.Status != 200 || !strings.Contains(resp.Body, `"corrupted":"by the test"`) || resp.BodyBytes != len(resp.Body) ||
				!strings.HasPrefix(resp.Headers["Content-Type"][0], "application/json") {
				t.Errorf("failed check's response = %+v", resp)
			}
		case "not-run":
			if c.ID != "Communication 2.3.s3" || c.Reason != "needs scope state" || !slices.Equal(c.Needs, []string{"state"}) {
				t.Errorf("not-run check %+v, want 2.3.s3 needing state", c)
			}
		case "pass":
			if c.Error != "" || c.Exchange != nil || c.Reason != "" {
				t.Errorf("passed check %+v has an error, exchange or reason", c)
			}
		default:
			t.Errorf("check %s has status %q", c.ID, c.Status)
		}
	}
	if w := got.Written; len(w.Statements) != 1 || w.Statements[0].Check != "preflight" || len(w.Documents) != 0 {
		t.Errorf("written = %+v, want the preflight's statement", w)
	}
}

func TestReport_WriteJUnit(t *testing.T) {
	rep, _ := brokenRun(t)
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	type problem struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	var got struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name      string   `xml:"name,attr"`
				ClassName string   `xml:"classname,attr"`
				Failure   *problem `xml:"failure"`
				Skipped   *problem `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("report is not XML: %v\n%s", err, buf.String())
	}
	if got.Tests != 10 || got.Failures != 2 || got.Skipped != 2 || got.Errors != 0 {
		t.Errorf("testsuites: tests %d, failures %d, skipped %d, errors %d; want 10, 2, 2, 0", got.Tests, got.Failures, got.Skipped, got.Errors)
	}
	var names []string
	for _, s := range got.Suites {
		names = append(names, s.Name)
		failures, skipped := 0, 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures++
				if !strings.HasPrefix(c.Name, "Communication 2.8.s5.b2: ") || !strings.Contains(c.Failure.Text, "GET http") || c.Failure.Message == "" {
					t.Errorf("failure %+v", c)
				}
			}
			if c.Skipped != nil {
				skipped++
				if c.Skipped.Message != "needs scope state" {
					t.Errorf("skipped %+v", c)
				}
			}
		}
		if len(s.Cases) != s.Tests || failures != s.Failures || skipped != s.Skipped {
			t.Errorf("suite %s: tests %d, failures %d, skipped %d; has %d cases, %d failures, %d skipped",
				s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases), failures, skipped)
		}
	}
	if want := []string{"xAPI 1.0.3 About resource", "xAPI 1.0.3 Document resources", "xAPI 2.0.0 About resource", "xAPI 2.0.0 Document resources"}; !slices.Equal(names, want) {
		t.Errorf("suites %q, want %q", names, want)
	}

	t.Run("Preflight", func(t *testing.T) {
		var buf bytes.Buffer
		rep := Report{PreflightErr: &PreflightError{Msg: "cannot reach the LRS"}}
		if err := rep.WriteJUnit(&buf); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Tests  int `xml:"tests,attr"`
			Errors int `xml:"errors,attr"`
		}
		if err := xml.Unmarshal(buf.Bytes(), &got); err != nil || got.Tests != 1 || got.Errors != 1 {
			t.Errorf("preflight JUnit: %+v, %v\n%s", got, err, buf.String())
		}
	})
}
