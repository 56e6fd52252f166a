package validation

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestInterned checks that every property name and constant of the
// schemas is interned, and that maxInterned bounds the table.
func TestInterned(t *testing.T) {
	for _, s := range shapeVocabulary(t) {
		if _, ok := interned[s]; !ok {
			t.Errorf("%q is not interned", s)
		}
	}
	for s, v := range interned {
		if len(s) > maxInterned {
			t.Errorf("%q is longer than maxInterned (%d)", s, maxInterned)
		}
		if v != any(s) {
			t.Errorf("interned[%q] = %#v", s, v)
		}
	}
}

func TestDecode_SharedValues(t *testing.T) {
	doc := `{"objectType":"Agent","name":"Agent","n":[1,2,10,-1,0.5,1e2,[],[[]],{}],"\u0041gent":"\u0041gent"}`
	got, errs := decode([]byte(doc))
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]any{
		"objectType": "Agent",
		"name":       "Agent",
		"n":          []any{json.Number("1"), json.Number("2"), json.Number("10"), json.Number("-1"), json.Number("0.5"), json.Number("1e2"), []any{}, []any{[]any{}}, map[string]any{}},
		"Agent":      "Agent",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
