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
		if chk.Section == "" {
			t.Errorf("%s: no section", req.ID)
		}
		if chk.Needs == nil {
			t.Errorf("%s: Needs is nil, want the scopes it needs (or none)", req.ID)
		}
		for _, n := range chk.Needs {
			if !validScope(n) {
				t.Errorf("%s: needs unknown scope %q", req.ID, n)
			}
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
	rep := Report{
		Endpoint: "http://lrs.test/xapi/", Key: "k",
		Capabilities: &Capabilities{Versions: both, Scopes: []string{ScopeStatementsWrite, ScopeStatementsReadMine},
			Authority: obj{"objectType": "Group"}},
		Results: []Result{
			{Requirement: req("Data 2.2.s2.b3"), Section: "Statement POST", Version: V103},
			{Requirement: req("Communication 2.1.1.s1"), Section: "Statement POST", Version: V200, Err: errors.New("status 500, want 204"),
				Exchange: &Exchange{Request: Message{Method: "PUT", URL: "http://lrs.test/xapi/statements"}, Response: &Message{Status: 500}}},
			{Requirement: req("Communication 2.3.s3"), Section: "Document resources", Version: V200, NotRun: "needs scope state"},
		},
		Written: []Written{
			{Kind: WrittenStatement, ID: "6f1f3f4e-0000-4000-8000-000000000001", Version: V103, Check: "Data 2.2.s2.b3"},
			{Kind: WrittenState, ID: "doc-1", ActivityID: "http://a.test", Agent: `{"mbox":"mailto:a@b.test"}`, Version: V200, Check: "Communication 2.3.s3", Deleted: true},
		},
	}
	if got, want := len(rep.Passed()), 1; got != want {
		t.Errorf("len(Passed()) = %d, want %d", got, want)
	}
	if got, want := len(rep.Failed()), 1; got != want {
		t.Errorf("len(Failed()) = %d, want %d", got, want)
	}
	if got, want := len(rep.NotRun()), 1; got != want {
		t.Errorf("len(NotRun()) = %d, want %d", got, want)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"credential k: scopes statements/write, statements/read/mine (seen by the preflight); lacks state, profile, define",
		`authority the LRS sets on its statements: {"objectType":"Group"}`,
		"# xAPI 1.0.3 Statement POST\n",
		"ok      1.0.3 Data 2.2.s2.b3: text of Data 2.2.s2.b3\n",
		"FAIL    2.0.0 Communication 2.1.1.s1: text of Communication 2.1.1.s1\n",
		"        status 500, want 204\n",
		"        last exchange: PUT http://lrs.test/xapi/statements -> 500\n",
		"not run 2.0.0 Communication 2.3.s3 (needs scope state): text of Communication 2.3.s3\n",
		"statement 6f1f3f4e-0000-4000-8000-000000000001 (1.0.3 Data 2.2.s2.b3)\n",
		`state doc-1 activityId=http://a.test agent={"mbox":"mailto:a@b.test"} (2.0.0 Communication 2.3.s3) deleted again`,
		"2.0.0 Document resources                      0      0       1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n1 passed, 1 failed, 1 not run\n") {
		t.Errorf("report does not end with the summary line:\n%s", out)
	}
	t.Run("Preflight", func(t *testing.T) {
		var buf bytes.Buffer
		rep := Report{PreflightErr: &PreflightError{Msg: "the LRS refused the credential"}}
		if err := rep.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		if got, want := buf.String(), "preflight failed, no check ran: the LRS refused the credential\n"; got != want {
			t.Errorf("report = %q, want %q", got, want)
		}
	})
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
