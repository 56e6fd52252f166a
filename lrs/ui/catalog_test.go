package ui

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
)

func MustLoadCatalog(tb testing.TB) Catalog {
	tb.Helper()
	cat, err := LoadCatalog()
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}

var placeholder = regexp.MustCompile(`\{\d+\}`)

func TestCatalog_Complete(t *testing.T) {
	cat := MustLoadCatalog(t)
	for _, a := range Languages {
		for key, text := range cat[a] {
			if text == "" {
				t.Errorf("%s: %q is empty", a, key)
			}
			for _, b := range Languages {
				other, ok := cat[b][key]
				if !ok {
					t.Errorf("%q is in %s.json, not in %s.json", key, a, b)
					continue
				}
				got, want := placeholders(other), placeholders(text)
				if !slices.Equal(got, want) {
					t.Errorf("%q: placeholders %v in %s, %v in %s", key, got, b, want, a)
				}
			}
		}
	}
}

func placeholders(s string) []string {
	p := placeholder.FindAllString(s, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

// TestTemplates_NoLiteralText fails on a word written in a template
// rather than taken from the catalog: text outside tags and actions, and
// the values of the attributes people read.
func TestTemplates_NoLiteralText(t *testing.T) {
	cat := MustLoadCatalog(t)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatal(names, err)
	}
	tag := regexp.MustCompile(`<[^<>]*>`)
	readAttr := regexp.MustCompile(`(?i)\b(?:alt|title|aria-label|placeholder|value)\s*=\s*"([^"]*)"`)
	entity := regexp.MustCompile(`&[#a-zA-Z0-9]+;`)
	for _, name := range names {
		b, _ := fs.ReadFile(templateFS, name)
		trees, err := parse.Parse(name, string(b), "{{", "}}", funcs(cat, "fi"), builtins())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var text strings.Builder
		for _, tree := range trees {
			walk(tree.Root, func(n parse.Node) {
				if tn, ok := n.(*parse.TextNode); ok {
					text.Write(tn.Text)
				} else {
					text.WriteString("\x00") // an action: what it writes is not literal
				}
			})
		}
		s := text.String()
		for _, m := range readAttr.FindAllStringSubmatch(s, -1) {
			if hasLetter(m[1]) {
				t.Errorf("%s: literal attribute text %q", name, m[0])
			}
		}
		s = tag.ReplaceAllString(s, " ")
		s = regexp.MustCompile(`(?i)<!DOCTYPE html>`).ReplaceAllString(s, " ")
		s = entity.ReplaceAllString(s, " ")
		for _, part := range strings.Split(s, "\x00") {
			if hasLetter(part) {
				t.Errorf("%s: literal text %q", name, strings.TrimSpace(part))
			}
		}
	}
}

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }

func builtins() map[string]any {
	m := map[string]any{}
	for _, f := range []string{"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call", "slice"} {
		m[f] = struct{}{}
	}
	return m
}

func walk(n parse.Node, f func(parse.Node)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, f)
		}
	case *parse.IfNode:
		f(n)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.RangeNode:
		f(n)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.WithNode:
		f(n)
		walk(n.List, f)
		walk(n.ElseList, f)
	default:
		f(n)
	}
}

func TestNegotiate(t *testing.T) {
	for _, tt := range []struct{ query, cookie, accept, want string }{
		{"", "", "", "fi"},
		{"", "", "sv-FI,sv;q=0.9,en;q=0.5", "sv"},
		{"", "", "en-GB,en;q=0.9", "en"},
		{"", "", "de-DE", "fi"},
		{"", "en", "sv", "en"},
		{"sv", "en", "fi", "sv"},
		{"xx", "", "en", "en"},
	} {
		if got := Negotiate(tt.query, tt.cookie, tt.accept); got != tt.want {
			t.Errorf("Negotiate(%q, %q, %q) = %q, want %q", tt.query, tt.cookie, tt.accept, got, tt.want)
		}
	}
}

func TestNew_FrameAncestors(t *testing.T) {
	for _, tt := range []struct{ setting, want string }{{"", "frame-ancestors 'none';"}, {"'self' https://lms.example.fi", "frame-ancestors 'self' https://lms.example.fi;"}} {
		u, err := New(Config{Scope: func(*gin.Context) (*people.Scope, error) { return nil, nil }, Reader: &people.Reader{}, FrameAncestors: tt.setting})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(u.csp, tt.want) {
			t.Errorf("CSP %q, want %q", u.csp, tt.want)
		}
	}
}
