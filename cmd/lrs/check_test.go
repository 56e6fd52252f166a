package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digione/lrs/validation/profile/digione"
)

// check runs lrs check and returns its output and exit status.
func check(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	var out strings.Builder
	err := runCheck(args, strings.NewReader(stdin), &out, io.Discard)
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String() + errText(ee.err), ee.code
	}
	t.Fatalf("lrs check %v: %v", args, err)
	return "", 0
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

const (
	goodFile = "testdata/check/good.json"
	oneFile  = "testdata/check/one.json"
	badFile  = "testdata/check/bad.json"
)

func TestCheck_Good(t *testing.T) {
	out, code := check(t, "", goodFile, oneFile)
	if code != 0 || !strings.Contains(out, "6 statements in 2 files: 0 errors (xAPI 2.0.0, profile "+digione.ID+")") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var out2 strings.Builder
	if err := run(t.Context(), []string{"check", goodFile}, env(nil), &out2, io.Discard); err != nil || !strings.Contains(out2.String(), "0 errors") {
		t.Fatalf("lrs check through run: %v\n%s", err, out2.String())
	}
	one, err := os.ReadFile(oneFile)
	if err != nil {
		t.Fatal(err)
	}
	if out, code := check(t, string(one), "--xapi-version", "1.0.3", "-"); code != 0 || !strings.Contains(out, "1 statements in 1 files: 0 errors (xAPI 1.0.3") {
		t.Fatalf("stdin, 1.0.3: exit %d:\n%s", code, out)
	}
}

func TestCheck_Bad(t *testing.T) {
	out, code := check(t, "", goodFile, badFile)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		badFile + ":0 (id 7a1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c01): profile: template " + digione.Template("scored") + " rule 8 ($.result.score selector $.scaled | $.max): selector found nothing",
		badFile + ":1 (id 7a1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c02): xAPI 2.0.0: /actor/mbox: must be a mailto: IRI",
		badFile + ":1 (id 7a1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c02): profile: template " + digione.Template("completed") + " rule 2 ($.actor.mbox | $.actor.mbox_sha1sum | $.actor.openid): found \"oppilas@koulu.example\"; must be excluded",
		badFile + ":2 (id 7a1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c03): profile: template " + digione.Template("launched") + " rule 3 ($.timestamp): missing; must be included",
		"8 statements in 2 files: 6 errors",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, goodFile+":") {
		t.Errorf("a good file's statement is reported:\n%s", out)
	}
}

func TestCheck_JSON(t *testing.T) {
	out, code := check(t, "", "--json", badFile, goodFile)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.OK || rep.Files != 2 || rep.Statements != 8 || len(rep.Errors) != 6 || rep.XAPIVersion != "2.0.0" || rep.Profile != digione.ID {
		t.Fatalf("report %+v", rep)
	}
	e := rep.Errors[0]
	if e.File != badFile || e.Index != 0 || e.ID != "7a1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c01" || e.Kind != "profile" ||
		e.Template != digione.Template("scored") || e.Rule == nil || *e.Rule != 8 || e.Path != "$.result.score selector $.scaled | $.max" {
		t.Errorf("first error %+v", e)
	}
	x := rep.Errors[1]
	if x.Kind != "xapi" || x.Index != 1 || x.Path != "/actor/mbox" || x.Rule != nil {
		t.Errorf("xAPI error %+v", x)
	}
	out, code = check(t, "", "--json", goodFile)
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.OK || len(rep.Errors) != 0 {
		t.Errorf("good file: exit %d, %v, %+v", code, err, rep)
	}
}

func TestCheck_HomePage(t *testing.T) {
	if out, code := check(t, "", "--home-page", "https://mpass-proxy.csc.fi/", goodFile); code != 0 {
		t.Fatalf("MPASSid home page: exit %d:\n%s", code, out)
	}
	out, code := check(t, "", "--home-page", "https://idp.espoo.example", oneFile)
	if code != 1 || !strings.Contains(out, "profile: template "+digione.HomePageRuleName+" rule 0 ($.actor.account.homePage): found [\"https://mpass-proxy.csc.fi\"]; want at least one of") {
		t.Fatalf("other home page: exit %d:\n%s", code, out)
	}
}

func TestCheck_OtherProfile(t *testing.T) {
	dir := t.TempDir()
	// The DigiOne profile, with its launched template also wanting a
	// result.
	doc := strings.Replace(string(digione.Document), `"location": "$.context.registration",`, `"location": "$.result",`, 1)
	p := filepath.Join(dir, "other.jsonld")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := check(t, "", "--profile", p, goodFile)
	if code != 1 || !strings.Contains(out, goodFile+":0 (id 2f1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c01): profile: template "+digione.Template("launched")+" rule 4 ($.result): missing") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCheck_Errors(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "not.json")
	os.WriteFile(notJSON, []byte("{\"id\": "), 0o600)
	broken := filepath.Join(dir, "broken.jsonld")
	os.WriteFile(broken, []byte(`{"type": "Profile"}`), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no files", nil, 2, "no files"},
		{"bad version", []string{"--xapi-version", "3.0", goodFile}, 2, `--xapi-version "3.0"`},
		{"missing file", []string{filepath.Join(dir, "none.json")}, 2, "none.json"},
		{"unknown flag", []string{"--strict", goodFile}, 2, ""},
		{"broken profile", []string{"--profile", broken, goodFile}, 2, "--profile: xAPI profile:"},
		{"not JSON", []string{notJSON}, 1, "not.json: not JSON"},
		{"stdin twice", []string{"-", "-"}, 2, "- given twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, code := check(t, "{}", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", code, tt.code, tt.want, out)
			}
		})
	}
}
