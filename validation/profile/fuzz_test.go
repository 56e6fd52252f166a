package profile

import (
	"os"
	"testing"
)

// FuzzCheckJSON: no statement, however malformed, makes Check panic.
func FuzzCheckJSON(f *testing.F) {
	p := sports(f)
	for _, s := range []string{
		`{"verb": {"id": "http://example.org/profiles/sports/verbs/placed"}, "object": {"definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}}, "context": {"contextActivities": {"grouping": {"definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}}}}}`,
		`{"verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"}, "context": {"contextActivities": {"grouping": 7}}}`,
		`{"verb": {"id": "http://example.org/profiles/sports/verbs/protested"}, "object": {"objectType": "StatementRef", "id": 5}}`,
		`{"verb": {"id": "http://example.org/profiles/sports/verbs/handedoff"}, "attachments": {"usageType": 1}}`,
		`{"verb": "x", "object": {"objectType": "SubStatement", "context": {"contextActivities": {"parent": {}}}}}`,
		`[]`, `null`, `{"verb": {"id": null}}`,
	} {
		f.Add([]byte(s))
	}
	// self resolves every StatementRef to a statement that refers to
	// itself: Check must stop following.
	self := func(id string) (map[string]any, bool) {
		return map[string]any{"verb": map[string]any{"id": "http://example.org/profiles/sports/verbs/protested"},
			"object": map[string]any{"objectType": "StatementRef", "id": id}}, true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p.CheckJSON(data, nil)
		p.CheckJSON(data, &Options{Resolve: self})
	})
}

// FuzzParse: no profile document, however malformed, makes Parse panic.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/sports.jsonld")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"templates": [{"rules": [{"location": "$['a"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data)
	})
}

// FuzzCompilePath: no path makes CompilePath or evaluation panic.
func FuzzCompilePath(f *testing.F) {
	for _, s := range []string{"$.a.b", "$['a.b'][0,1]", "a[*].b | $.c", "$..x", "$[?(@)]", "$['\\'']"} {
		f.Add(s)
	}
	st := doc(f, `{"a": {"b": [1, {"c": 2}], "a.b": [3]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := CompilePath(s); err == nil {
			p.eval(st, nil)
		}
	})
}
