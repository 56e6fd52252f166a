package digione

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/digione/lrs/validation/profile"
)

func TestProfile_Loads(t *testing.T) {
	p := Profile()
	if p.ID != ID || len(p.Templates) != 7 {
		t.Fatalf("got %s with %d templates", p.ID, len(p.Templates))
	}
	for _, name := range []string{"launched", "progressed", "completed", "passed", "failed", "scored", "satisfied"} {
		tm := p.Template(Template(name))
		if tm == nil {
			t.Fatalf("no template %s", name)
		}
		if c := p.Concept(tm.Verb); c == nil || c.Type != "Verb" {
			t.Errorf("%s: verb %s is not a concept of the profile", name, tm.Verb)
		} else {
			for _, lang := range []string{"fi", "sv", "en"} {
				if c.PrefLabel[lang] == "" || c.Definition[lang] == "" {
					t.Errorf("verb %s: no %s prefLabel or definition", tm.Verb, lang)
				}
			}
		}
	}
	for _, ext := range []string{ExtLineItem, ExtClass} {
		if c := p.Concept(ext); c == nil || c.Type != "ContextExtension" {
			t.Errorf("%s: not a ContextExtension concept", ext)
		}
	}
}

const hp = "https://mpass-proxy.csc.fi"

// good returns a statement that follows the template of verb.
func good(verb string) map[string]any {
	st := map[string]any{
		"id":        "9e13cefd-53d3-4eac-b5ed-2cf6693903bb",
		"actor":     map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": hp, "name": "8b2f7e1c-learner"}},
		"verb":      map[string]any{"id": verb},
		"object":    map[string]any{"id": "https://app.example/quiz/1", "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/assessment"}},
		"timestamp": "2026-12-01T08:15:00+02:00",
		"context": map[string]any{
			"registration": "ec231277-b27b-4c15-8291-d29225b2b8f7",
			"extensions":   map[string]any{ExtLineItem: "li-1", ExtClass: "class-7a"},
		},
		"result": map[string]any{
			"completion": true, "success": verb != "http://adlnet.gov/expapi/verbs/failed",
			"score":      map[string]any{"scaled": json.Number("0.8")},
			"extensions": map[string]any{"https://w3id.org/xapi/cmi5/result/extensions/progress": json.Number("40")},
		},
	}
	return st
}

func TestProfile_Statements(t *testing.T) {
	p := Profile()
	x, err := HomePageRule(hp + "/")
	if err != nil {
		t.Fatal(err)
	}
	opts := &profile.Options{Extra: []*profile.ExtraRule{x}}
	const adl = "http://adlnet.gov/expapi/verbs/"
	for _, verb := range []string{adl + "launched", adl + "progressed", adl + "completed", adl + "passed", adl + "failed", adl + "scored", "https://w3id.org/xapi/adl/verbs/satisfied"} {
		if res := p.Check(good(verb), opts); res.Outcome != profile.Matched || len(res.Matched) != 1 {
			t.Errorf("%s: got %v %v, want matched", verb, res.Outcome, res.Violations)
		}
	}
	for _, tt := range []struct {
		name, verb, template string
		edit                 func(st map[string]any)
		rule                 int
		want                 string
	}{
		{"mbox actor", adl + "completed", "completed", func(st map[string]any) {
			st["actor"] = map[string]any{"mbox": "mailto:oppilas@koulu.fi"}
		}, 0, "$.actor.account.homePage"},
		{"mbox beside account", adl + "completed", "completed", func(st map[string]any) {
			st["actor"].(map[string]any)["mbox"] = "mailto:oppilas@koulu.fi"
		}, 2, "must be excluded"},
		{"no timestamp", adl + "launched", "launched", func(st map[string]any) { delete(st, "timestamp") }, 3, "$.timestamp"},
		{"no registration", adl + "launched", "launched", func(st map[string]any) {
			delete(st["context"].(map[string]any), "registration")
		}, 4, "$.context.registration"},
		{"no progress", adl + "progressed", "progressed", func(st map[string]any) {
			delete(st["result"].(map[string]any), "extensions")
		}, 5, "progress"},
		{"no line item", adl + "passed", "passed", func(st map[string]any) {
			delete(st["context"].(map[string]any)["extensions"].(map[string]any), ExtLineItem)
		}, 4, ExtLineItem},
		{"no class", adl + "scored", "scored", func(st map[string]any) {
			delete(st["context"].(map[string]any)["extensions"].(map[string]any), ExtClass)
		}, 5, ExtClass},
		{"passed, success false", adl + "passed", "passed", func(st map[string]any) {
			st["result"].(map[string]any)["success"] = false
		}, 6, "every value must be one of [true]"},
		{"completed, no completion", adl + "completed", "completed", func(st map[string]any) {
			delete(st["result"].(map[string]any), "completion")
		}, 6, "$.result.completion"},
		{"scored, no score", adl + "scored", "scored", func(st map[string]any) {
			delete(st["result"].(map[string]any), "score")
		}, 6, "$.result.score.scaled | $.result.score.raw"},
		{"scored, raw without max", adl + "scored", "scored", func(st map[string]any) {
			st["result"].(map[string]any)["score"] = map[string]any{"raw": json.Number("7"), "min": json.Number("0")}
		}, 8, "selector $.scaled | $.max"},
		{"scored, raw without min", adl + "scored", "scored", func(st map[string]any) {
			st["result"].(map[string]any)["score"] = map[string]any{"raw": json.Number("7"), "max": json.Number("10")}
		}, 7, "selector $.scaled | $.min"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := good(tt.verb)
			tt.edit(st)
			res := p.Check(st, opts)
			if res.Outcome != profile.Invalid {
				t.Fatalf("got %v, want invalid", res.Outcome)
			}
			v := res.Violations[0]
			if v.Template != Template(tt.template) || v.Rule != tt.rule || !strings.Contains(v.Location+" "+v.Message, tt.want) {
				t.Fatalf("got %v, want template %s rule %d with %q", res.Violations, tt.template, tt.rule, tt.want)
			}
		})
	}
	t.Run("raw with min and max", func(t *testing.T) {
		st := good(adl + "scored")
		st["result"].(map[string]any)["score"] = map[string]any{"raw": json.Number("7"), "min": json.Number("0"), "max": json.Number("10")}
		if res := p.Check(st, opts); res.Outcome != profile.Matched {
			t.Fatalf("got %v %v", res.Outcome, res.Violations)
		}
	})
	t.Run("other tenant's home page", func(t *testing.T) {
		st := good(adl + "completed")
		st["actor"].(map[string]any)["account"].(map[string]any)["homePage"] = "https://idp.elsewhere.example"
		res := p.Check(st, opts)
		if res.Outcome != profile.Invalid || len(res.Violations) != 1 || res.Violations[0].Template != HomePageRuleName {
			t.Fatalf("got %v %v", res.Outcome, res.Violations)
		}
		if res := p.Check(st, nil); res.Outcome != profile.Matched {
			t.Fatalf("without the tenant rule: got %v %v", res.Outcome, res.Violations)
		}
	})
	t.Run("unknown verb", func(t *testing.T) {
		if res := p.Check(good("http://adlnet.gov/expapi/verbs/experienced"), opts); res.Outcome != profile.Unmatched {
			t.Fatalf("got %v", res.Outcome)
		}
	})
}

// BenchmarkProfile_Check measures the DigiOne profile with the tenant
// rule: a scored statement that follows its template, and one whose verb
// no template has.
func BenchmarkProfile_Check(b *testing.B) {
	p := Profile()
	x, err := HomePageRule(hp)
	if err != nil {
		b.Fatal(err)
	}
	opts := &profile.Options{Extra: []*profile.ExtraRule{x}}
	for _, bc := range []struct{ name, verb string }{
		{"unmatched", "http://adlnet.gov/expapi/verbs/experienced"},
		{"scored", "http://adlnet.gov/expapi/verbs/scored"},
	} {
		st := good(bc.verb)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Check(st, opts)
			}
		})
	}
}
