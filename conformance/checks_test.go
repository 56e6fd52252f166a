package conformance

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var idPattern = regexp.MustCompile(`^(Data|Communication) \d+(\.\d+)*(\.s\d+(\.(b|table)\d+)*(\.row\d+)?)?(\.(b|table)\d+)*$`)

func TestChecks(t *testing.T) {
	seen := map[string]bool{}
	for _, chk := range Checks() {
		req := chk.Requirement
		if !idPattern.MatchString(req.ID) {
			t.Errorf("requirement ID %q is not a spec anchor like \"Data 2.4.1.s2.b1\"", req.ID)
		}
		if strings.TrimSpace(req.Text) == "" {
			t.Errorf("%s: no text", req.ID)
		}
		if chk.Run == nil {
			t.Errorf("%s: no Run", req.ID)
		}
		if len(req.Versions) == 0 {
			t.Errorf("%s: no versions", req.ID)
		}
		for _, v := range req.Versions {
			if v != V103 && v != V200 {
				t.Errorf("%s: unknown version %q", req.ID, v)
			}
			key := v + " " + req.ID
			if seen[key] {
				t.Errorf("%s: two checks for the same requirement in %s", req.ID, v)
			}
			seen[key] = true
		}
	}
	for _, v := range Versions() {
		n := 0
		for k := range seen {
			if strings.HasPrefix(k, v+" ") {
				n++
			}
		}
		if n < 60 {
			t.Errorf("%s has %d checks, want at least 60", v, n)
		}
		t.Logf("%s: %d checks", v, n)
	}
}

func TestReport_WriteText(t *testing.T) {
	req := func(id string) Requirement { return Requirement{ID: id, Text: "text of " + id, Versions: both} }
	rep := Report{Results: []Result{
		{Requirement: req("Data 2.2.s2.b3"), Version: V103},
		{Requirement: req("Communication 2.1.1.s1"), Version: V200, Err: errors.New("status 500, want 204")},
		{Requirement: req("Communication 1.3"), Version: V200, Skipped: "not listed"},
	}}
	if got, want := len(rep.Passed()), 1; got != want {
		t.Errorf("len(Passed()) = %d, want %d", got, want)
	}
	if got, want := len(rep.Failed()), 1; got != want {
		t.Errorf("len(Failed()) = %d, want %d", got, want)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"ok   1.0.3 Data 2.2.s2.b3\n",
		"FAIL 2.0.0 Communication 2.1.1.s1\n",
		"requirement: text of Communication 2.1.1.s1\n",
		"status 500, want 204\n",
		"skip 2.0.0 Communication 1.3 (not listed)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n1 passed, 1 failed\n") {
		t.Errorf("report does not end with the summary line:\n%s", out)
	}
}

func TestNewClient(t *testing.T) {
	for _, cfg := range []Config{
		{Endpoint: "http://lrs.test/xapi/", Version: "1.0.2"},
		{Endpoint: "http://lrs.test/xapi/", Version: ""},
		{Endpoint: "lrs.test/xapi", Version: V103},
		{Endpoint: "ftp://lrs.test/xapi", Version: V103},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) = nil error, want an error", cfg)
		}
	}
	c, err := NewClient(Config{Endpoint: "http://lrs.test/xapi", Version: V200})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"statements":                      "http://lrs.test/xapi/statements",
		"/xapi/statements?more=1":         "http://lrs.test/xapi/statements?more=1",
		"https://other.test/statements?x": "https://other.test/statements?x",
	} {
		u, err := c.resolve(path)
		if err != nil || u.String() != want {
			t.Errorf("resolve(%q) = %v, %v; want %s", path, u, err, want)
		}
	}
}

func TestNewUUID(t *testing.T) {
	a, b := newUUID(), newUUID()
	if !uuidPattern.MatchString(a) || a == b {
		t.Errorf("newUUID() = %q, %q", a, b)
	}
	if a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("newUUID() = %q, want version 4 variant 2", a)
	}
}
