package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// doc decodes a statement for the tests.
func doc(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		tb.Fatalf("test statement: %v", err)
	}
	return m
}

func TestCompilePath(t *testing.T) {
	st := doc(t, `{"actor": {"account": {"homePage": "https://h", "name": "n1"}},
		"context": {"contextActivities": {"grouping": [{"id": "g1"}, {"id": "g2"}]},
			"extensions": {"https://digione.fi/xapi/extensions/oneroster/class": "c1", "b": "bee"}},
		"result": {"score": {"raw": 7}}}`)
	for _, tt := range []struct {
		path string
		want []any
	}{
		{"$.actor.account.homePage", []any{"https://h"}},
		{"$['actor']['account']['name']", []any{"n1"}},
		{`$["actor"].account["name"]`, []any{"n1"}},
		// Structure document, section 8.1: the rule example is written without `$`.
		{"context.contextActivities.grouping[*].id", []any{"g1", "g2"}},
		{"$.context.contextActivities.grouping[1].id", []any{"g2"}},
		{"$.context.contextActivities.grouping[0,1].id", []any{"g1", "g2"}},
		{"$.context.contextActivities.grouping[5].id", nil},
		// Bracketed names hold IRIs with dots (section 8.1 example).
		{"$.context.extensions['https://digione.fi/xapi/extensions/oneroster/class']", []any{"c1"}},
		{"$.context.extensions['b', 'https://digione.fi/xapi/extensions/oneroster/class']", []any{"bee", "c1"}},
		{"$.context.extensions.*", []any{"bee", "c1"}},
		{"$.result.score.raw", []any{json.Number("7")}},
		// `|` joins alternatives; the results are flattened.
		{"$.result.score.scaled | $.result.score.raw", []any{json.Number("7")}},
		{"$.actor.account.name|$.context.contextActivities.grouping[*].id", []any{"n1", "g1", "g2"}},
		{"$.nothing.here", nil},
		{"$.actor.account.name.deeper", nil},
		{"$.context.contextActivities.grouping.id", nil},
	} {
		p, err := CompilePath(tt.path)
		if err != nil {
			t.Errorf("CompilePath(%q): %v", tt.path, err)
			continue
		}
		if got := p.eval(st, nil); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestCompilePath_Errors(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"", "empty path"},
		{"$..id", "recursive descent"},
		{"$.a[?(@.b)]", "filter and script"},
		{"$.a[(@.length-1)]", "filter and script"},
		{"$.a[1:2]", "slices"},
		{"$.a[-1]", "negative"},
		{"$.a[", "unclosed"},
		{"$['a", "unclosed quote"},
		{"$.", "a name must follow"},
		{"$.a b", "not a plain name"},
		{"$x", "unexpected"},
		{"$.a | ", "empty path"},
		{"$.a[b]", "unexpected"},
	} {
		_, err := CompilePath(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CompilePath(%q) = %v, want an error with %q", tt.path, err, tt.want)
		}
	}
}
