package profile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p := sports(t)
	if p.ID != "http://example.org/profiles/sports" || len(p.Templates) != 4 || len(p.Patterns) != 2 || len(p.Concepts) != 3 {
		t.Fatalf("got %s with %d templates, %d patterns, %d concepts", p.ID, len(p.Templates), len(p.Patterns), len(p.Concepts))
	}
	if tm := p.Template("http://example.org/profiles/sports/templates/placing"); tm == nil || tm.Rules[0].Presence != Included {
		t.Fatalf("Template(placing) = %+v", tm)
	}
	if c := p.Concept("http://example.org/profiles/sports/verbs/medaled"); c == nil || c.Broader[0] != "http://example.org/profiles/sports/verbs/placed" {
		t.Fatalf("Concept(medaled) = %+v", c)
	}
}

// TestParse_Errors breaks the sports profile one way at a time; each
// problem is named by its place.
func TestParse_Errors(t *testing.T) {
	good, err := os.ReadFile("testdata/sports.jsonld")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, old, new, want string }{
		{"not JSON", `{`, `[`, "not a JSON profile document"},
		{"type", `"type": "Profile"`, `"type": "Profil"`, `type: must be "Profile"`},
		{"context", `"@context": "https://w3id.org/xapi/profiles/context"`, `"@context": "https://example.org/ctx"`, "@context: must be or contain"},
		{"id", `"id": "http://example.org/profiles/sports",`, `"id": "sports",`, "id: must be an absolute IRI"},
		{"conformsTo", `"conformsTo": "https://w3id.org/xapi/profiles#1.0",`, ``, "conformsTo: required"},
		{"version time", `"generatedAtTime": "2017-02-27T12:00:00-05:00"`, `"generatedAtTime": "yesterday"`, "versions[0].generatedAtTime: must be an RFC 3339"},
		{"author", `"type": "Organization", "name": "Example Sports Organization"`, `"type": "Company", "name": ""`, `author.type: must be "Organization" or "Person"`},
		{"concept type", `"type": "Verb", "inScheme": "http://example.org/profiles/sports/v2",
     "prefLabel": {"en": "placed"}`, `"type": "Verbb", "inScheme": "http://example.org/profiles/sports/v2",
     "prefLabel": {"en": "placed"}`, "concepts[0].type: \"Verbb\" is not a concept type"},
		{"inScheme", `"inScheme": "http://example.org/profiles/sports/v2",
     "prefLabel": {"en": "Placing"}`, `"inScheme": "http://example.org/profiles/sports/v3",
     "prefLabel": {"en": "Placing"}`, "templates[0].inScheme: must be the id of one of the profile's versions"},
		{"presence", `"presence": "included"}
     ]`, `"presence": "required"}
     ]`, `templates[0].rules[0].presence: must be included, excluded or recommended, got "required"`},
		{"bad location", `"$.result.extensions['http://example.org/profiles/sports/extensions/place']"`, `"$..place"`, "templates[0].rules[0].location: JSONPath \"$..place\": at 1: recursive descent"},
		{"no requirement", `, "presence": "included"}]}`, `}]}`, "templates[1].rules[0]: must have at least one of presence, any, all and none"},
		{"ref template", `"objectStatementRefTemplate": ["http://example.org/profiles/sports/templates/placing"]`, `"objectStatementRefTemplate": ["http://example.org/profiles/sports/templates/nope"]`, "templates[3]: StatementRef template \"http://example.org/profiles/sports/templates/nope\" is not a template"},
		{"duplicate id", `"id": "http://example.org/profiles/sports/templates/handoff"`, `"id": "http://example.org/profiles/sports/templates/start"`, "templates[2].id: \"http://example.org/profiles/sports/templates/start\" is already the id of templates[1]"},
		{"pattern kinds", `"oneOrMore": "http://example.org/profiles/sports/templates/handoff"}`, `"oneOrMore": "http://example.org/profiles/sports/templates/handoff", "optional": "http://example.org/x"}`, "patterns[1]: must have exactly one of alternates"},
		{"both object kinds", `"verb": "http://example.org/profiles/sports/verbs/protested",`, `"verb": "http://example.org/profiles/sports/verbs/protested", "objectActivityType": "http://example.org/t",`, "templates[3]: must not have both objectStatementRefTemplate and objectActivityType"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(string(good), tt.old, tt.new, 1)
			if data == string(good) {
				t.Fatalf("test replaces nothing: %q", tt.old)
			}
			_, err := Parse([]byte(data))
			var le *LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a LoadError with %q", err, tt.want)
			}
		})
	}
}

// TestParse_Compacted: JSON-LD compaction writes an array of one as its
// member and a literal without language as a string; both are read.
func TestParse_Compacted(t *testing.T) {
	p := profileWith(t, `{"verb": "http://example.org/verbs/x",
		"contextParentActivityType": "http://example.org/types/p",
		"rules": [{"location": "$.result.success", "any": true, "scopeNote": "a note without language"}]}`)
	tm := p.Templates[0]
	if len(tm.ContextParentActivityType) != 1 || tm.ContextParentActivityType[0] != "http://example.org/types/p" ||
		len(tm.Rules[0].Any) != 1 || tm.Rules[0].Any[0] != true || tm.Rules[0].ScopeNote["und"] != "a note without language" {
		t.Fatalf("template %+v", tm)
	}
	st := doc(t, `{"verb": {"id": "http://example.org/verbs/x"}, "result": {"success": false},
		"context": {"contextActivities": {"parent": [{"id": "http://example.org/a", "definition": {"type": "http://example.org/types/p"}}]}}}`)
	if res := p.Check(st, nil); res.Outcome != Invalid || !strings.Contains(res.Violations[0].Message, "want at least one of [true]") {
		t.Fatalf("got %+v", res)
	}
	if _, err := Parse([]byte(`{"templates": [{"verb": 7}]}`)); err == nil {
		t.Fatal("Parse took a number for a verb")
	}
}
