package profile

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// profileWith returns a minimal valid profile holding the given templates
// (JSON objects without id, type, inScheme, prefLabel and definition,
// which are filled in: ids are t0, t1, ...).
func profileWith(tb testing.TB, templates ...string) *Profile {
	tb.Helper()
	var ts []string
	for i, t := range templates {
		head := `{"id": "http://example.org/t` + string(rune('0'+i)) + `", "type": "StatementTemplate",
			"inScheme": "http://example.org/p/v1", "prefLabel": {"en": "t"}, "definition": {"en": "t"}`
		if strings.TrimSpace(t) != "{}" {
			head += ","
		}
		ts = append(ts, head+strings.TrimPrefix(strings.TrimSpace(t), "{"))
	}
	p, err := Parse([]byte(`{"id": "http://example.org/p", "@context": "https://w3id.org/xapi/profiles/context",
		"type": "Profile", "conformsTo": "https://w3id.org/xapi/profiles#1.0",
		"prefLabel": {"en": "p"}, "definition": {"en": "p"},
		"versions": [{"id": "http://example.org/p/v1", "generatedAtTime": "2026-01-01T00:00:00Z"}],
		"author": {"type": "Organization", "name": "o"},
		"templates": [` + strings.Join(ts, ",") + `]}`))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func sports(tb testing.TB) *Profile {
	tb.Helper()
	data, err := os.ReadFile("testdata/sports.jsonld")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

const (
	verbX   = `"verb": {"id": "http://example.org/verbs/x"}` // in a statement
	tmVerbX = `"verb": "http://example.org/verbs/x"`         // in a template
)

// TestRule covers each rule kind against the requirements of the
// structure document, section 8.1, and `follows_rule` of the
// communication document, section 2.1.
func TestRule(t *testing.T) {
	for _, tt := range []struct {
		name, rule, stmt string
		want             string // "" = the rule holds; else a part of the message
	}{
		{"included/present", `{"location": "$.timestamp", "presence": "included"}`, `{"timestamp": "2026-01-01T00:00:00Z"}`, ""},
		{"included/missing", `{"location": "$.timestamp", "presence": "included"}`, `{}`, "missing; must be included"},
		{"included/selector unmatchable", `{"location": "$.context.contextActivities.grouping[*]", "selector": "$.definition.type", "presence": "included"}`,
			`{"context": {"contextActivities": {"grouping": [{"id": "a", "definition": {"type": "x"}}, {"id": "b"}]}}}`, "selector found nothing in 1 of the 2"},
		{"included/selector all found", `{"location": "$.context.contextActivities.grouping[*]", "selector": "$.id", "presence": "included"}`,
			`{"context": {"contextActivities": {"grouping": [{"id": "a"}, {"id": "b"}]}}}`, ""},
		{"excluded/absent", `{"location": "$.actor.mbox", "presence": "excluded"}`, `{"actor": {"account": {}}}`, ""},
		{"excluded/present", `{"location": "$.actor.mbox", "presence": "excluded"}`, `{"actor": {"mbox": "mailto:a@b.fi"}}`, `found "mailto:a@b.fi"; must be excluded`},
		// An unmatchable value is not a matchable one: excluded holds.
		{"excluded/selector unmatchable", `{"location": "$.attachments[*]", "selector": "$.fileUrl", "presence": "excluded"}`, `{"attachments": [{"usageType": "u"}]}`, ""},
		{"recommended/missing with any", `{"location": "$.result.success", "presence": "recommended", "any": [true]}`, `{}`, ""},
		{"recommended/present, any broken", `{"location": "$.result.success", "presence": "recommended", "any": [true]}`, `{"result": {"success": false}}`, "found [false]; want at least one of [true]"},
		{"any/hit", `{"location": "$.context.contextActivities.category[*].id", "any": ["https://w3id.org/xapi/cmi5/context/categories/cmi5"]}`,
			`{"context": {"contextActivities": {"category": [{"id": "x"}, {"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]}}}`, ""},
		{"any/miss", `{"location": "$.context.contextActivities.category[*].id", "any": ["c"]}`,
			`{"context": {"contextActivities": {"category": [{"id": "x"}]}}}`, `found ["x"]; want at least one of ["c"]`},
		// No presence: strict, so any fails on no values at all.
		{"any/no values", `{"location": "$.context.language", "any": ["fi"]}`, `{}`, "found nothing; want at least one of"},
		{"all/all in", `{"location": "$.context.contextActivities.parent[*].id", "all": ["a", "b"]}`,
			`{"context": {"contextActivities": {"parent": [{"id": "a"}, {"id": "b"}]}}}`, ""},
		{"all/one out", `{"location": "$.context.contextActivities.parent[*].id", "all": ["a"]}`,
			`{"context": {"contextActivities": {"parent": [{"id": "a"}, {"id": "b"}]}}}`, `found "b"; every value must be one of ["a"]`},
		{"all/unmatchable", `{"location": "$.context.contextActivities.parent[*]", "selector": "$.definition.type", "all": ["t"]}`,
			`{"context": {"contextActivities": {"parent": [{"id": "a"}]}}}`, "selector found nothing in 1 of the 1"},
		{"all/numbers by value", `{"location": "$.result.score.max", "all": [100]}`, `{"result": {"score": {"max": 100.0}}}`, ""},
		{"none/clear", `{"location": "$.result.completion", "none": [false]}`, `{"result": {"completion": true}}`, ""},
		{"none/hit", `{"location": "$.result.completion", "none": [false]}`, `{"result": {"completion": false}}`, "found false; must not be any of [false]"},
		{"none/objects", `{"location": "$.object.definition.name", "none": [{"en": "x"}]}`, `{"object": {"definition": {"name": {"en": "x"}}}}`, "must not be any of"},
		{"included+any", `{"location": "$.actor.account.homePage", "presence": "included", "any": ["https://mpass.fi"]}`,
			`{"actor": {"account": {"homePage": "https://other.example"}}}`, "want at least one of"},
		// `|` alternatives: score.scaled or score.raw (section 8.1).
		{"alternatives/one present", `{"location": "$.result.score.scaled | $.result.score.raw", "presence": "included"}`, `{"result": {"score": {"raw": 3}}}`, ""},
		{"alternatives/none present", `{"location": "$.result.score.scaled | $.result.score.raw", "presence": "included"}`, `{"result": {}}`, "missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := profileWith(t, `{`+tmVerbX+`, "rules": [`+tt.rule+`]}`)
			stmt := doc(t, tt.stmt)
			stmt["verb"] = map[string]any{"id": "http://example.org/verbs/x"}
			res := p.Check(stmt, nil)
			if tt.want == "" {
				if res.Outcome != Matched || len(res.Violations) != 0 {
					t.Fatalf("got %v %v, want matched", res.Outcome, res.Violations)
				}
				return
			}
			if res.Outcome != Invalid || len(res.Violations) != 1 {
				t.Fatalf("got %v %v, want one violation", res.Outcome, res.Violations)
			}
			v := res.Violations[0]
			if v.Template != "http://example.org/t0" || v.Rule != 0 || !strings.Contains(v.Message, tt.want) {
				t.Fatalf("got %+v, want template t0 rule 0 with %q", v, tt.want)
			}
			if !strings.HasPrefix(v.Location, "$.") && !strings.HasPrefix(v.Location, "context") {
				t.Fatalf("location %q", v.Location)
			}
		})
	}
}

// TestMatch covers the determining properties (structure document,
// section 8.0) with the sports example profile.
func TestMatch(t *testing.T) {
	p := sports(t)
	const (
		placing = "http://example.org/profiles/sports/templates/placing"
		start   = "http://example.org/profiles/sports/templates/start"
		handoff = "http://example.org/profiles/sports/templates/handoff"
	)
	event := `"http://example.org/profiles/sports/activitytypes/event"`
	for _, tt := range []struct {
		name, stmt string
		outcome    Outcome
		templates  []string
	}{
		{"placing, all rules", `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": ` + event + `}},
			"context": {"contextActivities": {"grouping": [{"id": "http://example.org/race", "definition": {"type": ` + event + `}}]}},
			"result": {"extensions": {"http://example.org/profiles/sports/extensions/place": {"rank": 1}}}}`, Matched, []string{placing}},
		{"placing, rule broken", `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": ` + event + `}},
			"context": {"contextActivities": {"grouping": [{"id": "x"}, {"id": "http://example.org/race", "definition": {"type": ` + event + `}}]}}}`, Invalid, []string{placing}},
		// A 1.0.3 singleton grouping is normalized to an array (section 8.1).
		{"placing, singleton grouping", `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": ` + event + `}},
			"context": {"contextActivities": {"grouping": {"id": "http://example.org/race", "definition": {"type": ` + event + `}}}},
			"result": {"extensions": {"http://example.org/profiles/sports/extensions/place": {"rank": 1}}}}`, Matched, []string{placing}},
		{"placing verb, other object type", `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": "http://example.org/other"}},
			"context": {"contextActivities": {"grouping": [{"id": "http://example.org/race", "definition": {"type": ` + event + `}}]}}}`, Unmatched, nil},
		{"placing verb, no grouping", `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": ` + event + `}}}`, Unmatched, nil},
		{"start without grouping", `{"verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"}, "object": {"id": "http://x"}}`, Invalid, []string{start}},
		{"handoff with usage type", `{"verb": {"id": "http://example.org/profiles/sports/verbs/handedoff"},
			"attachments": [{"usageType": "http://example.org/other"}, {"usageType": "http://example.org/profiles/sports/attachments/photo"}]}`, Matched, []string{handoff}},
		{"handoff without usage type", `{"verb": {"id": "http://example.org/profiles/sports/verbs/handedoff"}}`, Unmatched, nil},
		{"unknown verb", `{"verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}}`, Unmatched, nil},
		{"no verb", `{"actor": {}}`, Unmatched, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Check(doc(t, tt.stmt), nil)
			got := append(res.Matched, res.Failed...)
			if res.Outcome != tt.outcome || !reflect.DeepEqual(got, tt.templates) {
				t.Fatalf("got %v %v %v, want %v %v", res.Outcome, got, res.Violations, tt.outcome, tt.templates)
			}
		})
	}
}

// TestMatch_Several: every matching template is checked, as `validates`
// does; verb-less templates match on their other properties.
func TestMatch_Several(t *testing.T) {
	p := profileWith(t,
		`{`+tmVerbX+`, "rules": [{"location": "$.timestamp", "presence": "included"}]}`,
		`{"objectActivityType": "http://example.org/types/a", "rules": [{"location": "$.result", "presence": "included"}]}`,
		`{`+tmVerbX+`, "objectActivityType": "http://example.org/types/b"}`)
	res := p.Check(doc(t, `{`+verbX+`, "object": {"definition": {"type": "http://example.org/types/a"}}, "timestamp": "t"}`), nil)
	if res.Outcome != Invalid || !reflect.DeepEqual(res.Matched, []string{"http://example.org/t0"}) || !reflect.DeepEqual(res.Failed, []string{"http://example.org/t1"}) {
		t.Fatalf("got %+v", res)
	}
	if len(res.Violations) != 1 || res.Violations[0].Template != "http://example.org/t1" || res.Violations[0].Location != "$.result" {
		t.Fatalf("violations %+v", res.Violations)
	}
}

// TestStatementRef covers objectStatementRefTemplate (structure document,
// section 8.0; communication document, `follows_rules`).
func TestStatementRef(t *testing.T) {
	p := sports(t)
	protest := func(obj string) map[string]any {
		return doc(t, `{"verb": {"id": "http://example.org/profiles/sports/verbs/protested"}, "object": `+obj+`}`)
	}
	ref := `{"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}`
	placed := doc(t, `{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
		"object": {"id": "http://example.org/race/1", "definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}},
		"context": {"contextActivities": {"grouping": [{"id": "http://example.org/race", "definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}}]}},
		"result": {"extensions": {"http://example.org/profiles/sports/extensions/place": {"rank": 2}}}}`)
	other := doc(t, `{"verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}}`)
	resolver := func(m map[string]any) *Options {
		return &Options{Resolve: func(id string) (map[string]any, bool) {
			return m, m != nil && id == "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
		}}
	}

	t.Run("not a StatementRef", func(t *testing.T) {
		res := p.Check(protest(`{"id": "http://example.org/race/1"}`), nil)
		if res.Outcome != Invalid || len(res.Violations) != 1 || res.Violations[0].Rule != -1 || !strings.Contains(res.Violations[0].Message, "must be a StatementRef") {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("offline: unchecked", func(t *testing.T) {
		res := p.Check(protest(ref), nil)
		if res.Outcome != Matched || len(res.Unchecked) != 1 || !strings.Contains(res.Unchecked[0].Message, "not checked") {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("resolved, follows", func(t *testing.T) {
		res := p.Check(protest(ref), resolver(placed))
		if res.Outcome != Matched || len(res.Unchecked) != 0 {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("resolved, other template", func(t *testing.T) {
		res := p.Check(protest(ref), resolver(other))
		if res.Outcome != Invalid || !strings.Contains(res.Violations[0].Message, "follows none of the templates of objectStatementRefTemplate") {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("not found", func(t *testing.T) {
		res := p.Check(protest(ref), resolver(nil))
		if res.Outcome != Matched || len(res.Unchecked) != 1 {
			t.Fatalf("got %+v", res)
		}
	})
}

func TestExtraRule(t *testing.T) {
	p := profileWith(t, `{`+tmVerbX+`}`)
	x, err := NewExtraRule("tenant home page", Rule{Location: "$.actor.account.homePage", Any: []any{"https://mpass.example"}})
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Extra: []*ExtraRule{x}}
	res := p.Check(doc(t, `{`+verbX+`, "actor": {"account": {"homePage": "https://elsewhere.example", "name": "1"}}}`), o)
	if res.Outcome != Invalid || res.Violations[0].Template != "tenant home page" {
		t.Fatalf("got %+v", res)
	}
	if res := p.Check(doc(t, `{`+verbX+`, "actor": {"account": {"homePage": "https://mpass.example", "name": "1"}}}`), o); res.Outcome != Matched {
		t.Fatalf("got %+v", res)
	}
	// Extra rules apply only to statements the profile governs.
	if res := p.Check(doc(t, `{"verb": {"id": "http://example.org/y"}}`), o); res.Outcome != Unmatched {
		t.Fatalf("got %+v", res)
	}
	if _, err := NewExtraRule("x", Rule{Location: "$..a", Presence: Included}); err == nil {
		t.Fatal("NewExtraRule took recursive descent")
	}
}

func TestCheck_DoesNotModify(t *testing.T) {
	p := sports(t)
	in := `{"verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"}, "context": {"contextActivities": {"grouping": {"id": "http://g"}}}}`
	d := doc(t, in)
	if res := p.Check(d, nil); res.Outcome != Matched {
		t.Fatalf("got %+v", res)
	}
	if _, ok := child(child(d, "context"), "contextActivities")["grouping"].(map[string]any); !ok {
		t.Fatal("Check rewrote the caller's contextActivities")
	}
}

func TestCheckJSON(t *testing.T) {
	p := sports(t)
	for _, in := range []string{`[]`, `"x"`, `{`, ``} {
		if _, err := p.CheckJSON([]byte(in), nil); err == nil {
			t.Errorf("CheckJSON(%q): no error", in)
		}
	}
	res, err := p.CheckJSON([]byte(`{"verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"}}`), nil)
	if err != nil || res.Outcome != Invalid {
		t.Fatalf("got %+v %v", res, err)
	}
	if got := res.Violations[0].Error(); got != "template http://example.org/profiles/sports/templates/start rule 0 (context.contextActivities.grouping[*].id): missing; must be included" {
		t.Fatalf("Error() = %q", got)
	}
}
