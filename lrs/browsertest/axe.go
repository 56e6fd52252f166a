package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// AxeTags are the axe-core rule tags a page must pass: WCAG 2.0 and 2.1,
// levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxeFixture is where npm ci --prefix deploy/testdeps puts axe-core,
// relative to the repository.
const AxeFixture = "deploy/testdeps/node_modules/axe-core/axe.min.js"

var axe struct {
	once sync.Once
	src  string
	path string
	err  error
}

// axeSource returns axe-core's script: the file LRS_TEST_AXE names, or
// AxeFixture.
func axeSource() (src, path string, err error) {
	axe.once.Do(func() {
		axe.path = os.Getenv("LRS_TEST_AXE")
		if axe.path == "" {
			root, err := RepoRoot()
			if err != nil {
				axe.err = err
				return
			}
			axe.path = filepath.Join(root, AxeFixture)
		}
		b, err := os.ReadFile(axe.path)
		axe.src, axe.err = string(b), err
	})
	return axe.src, axe.path, axe.err
}

// Violation is a rule of AxeTags that a page breaks.
type Violation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []ViolationNode
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	// Target are the CSS selectors of the element (through frames and
	// shadow roots, joined by " >>> ").
	Target  []string
	Summary string
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t%s: %s", strings.Join(n.Target, ", "), strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// Violations injects axe-core into the tab's page (through DevTools, so
// the page's CSP does not stop it) and returns the page's violations of
// AxeTags. ok is false when axe-core is missing and not Required: the
// test then says so in its log.
func (tab *Tab) Violations() (v []Violation, ok bool) {
	tab.T.Helper()
	r, ok := tab.axe()
	return r.Violations, ok
}

// axeResults are what axe-core found: the rules broken, and the rules it
// could not decide (a person should look).
type axeResults struct {
	Violations, Incomplete []Violation
}

func (tab *Tab) axe() (axeResults, bool) {
	tab.T.Helper()
	src, path, err := axeSource()
	if err != nil {
		msg := fmt.Sprintf("axe-core missing, accessibility not checked (npm ci --prefix deploy/testdeps, or set LRS_TEST_AXE): %v", err)
		if Required() {
			tab.T.Fatal(msg)
		}
		tab.T.Log(msg)
		return axeResults{}, false
	}
	if !Eval[bool](tab, `typeof window.axe === "object"`) {
		Eval[bool](tab, src+"\n;true")
		if !Eval[bool](tab, `typeof window.axe === "object"`) {
			tab.T.Fatalf("%s did not define axe", path)
		}
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	return Eval[axeResults](tab, `(() => {
		const list = vs => vs.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help, HelpURL: v.helpUrl,
			Nodes: v.nodes.map(n => ({Target: n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : String(t)),
				Summary: n.failureSummary || ""}))}));
		return axe.run(document, {runOnly: {type: "tag", values: `+tags+`}, resultTypes: ["violations", "incomplete"]})
			.then(r => ({Violations: list(r.violations), Incomplete: list(r.incomplete)}));
	})()`), true
}

// Accessible fails the test, naming each rule, impact and element, when
// the tab's page breaks a rule of AxeTags; what names the page. What
// axe-core could not decide goes to the test's log.
func (tab *Tab) Accessible(what string) {
	tab.T.Helper()
	r, ok := tab.axe()
	if !ok {
		return
	}
	for _, v := range r.Violations {
		tab.T.Errorf("%s: accessibility: %s", what, v)
	}
	for _, v := range r.Incomplete {
		tab.T.Logf("%s: accessibility, for a person to check: %s", what, v)
	}
}
