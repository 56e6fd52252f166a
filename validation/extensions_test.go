package validation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// crashBody once made the schema library dereference nil: a number outside
// float64 range under a property named "extensions" that is not an
// extensions object, inside a value the schema compares with constants.
const crashBody = `{"actor":{"objectType":{"extensions":1e400}},"verb":{"id":"http://e.com/v"},"object":{"id":"http://e.com/a"}}`

// TestStatement_OutOfRangeNumbers sends numbers outside float64 range
// through every entry point, alone and in a batch, in both versions: they
// are accepted in the values of extensions and rejected, naming the
// property and the rule, anywhere else.
func TestStatement_OutOfRangeNumbers(t *testing.T) {
	const rule = "number is out of range"
	cases := []struct {
		name, body, wantPath string // wantPath "" means valid
	}{
		{"under extensions in actor objectType", crashBody, "/actor/objectType/extensions"},
		{"in verb extensions", `{"actor":{"mbox":"mailto:a@e.com"},"verb":{"id":"http://e.com/v","extensions":{"http://e.com/x":1e400}},"object":{"id":"http://e.com/a"}}`, "/verb/extensions/http:~1~1e.com~1x"},
		{"under extensions in verb display", `{"actor":{"mbox":"mailto:a@e.com"},"verb":{"id":"http://e.com/v","display":{"extensions":-1e400}},"object":{"id":"http://e.com/a"}}`, "/verb/display/extensions"},
		{"in activity definition extensions", `{"actor":{"mbox":"mailto:a@e.com"},"verb":{"id":"http://e.com/v"},"object":{"id":"http://e.com/a","definition":{"extensions":{"http://e.com/x":1e400}}}}`, ""},
		{"in context extensions", `{"actor":{"mbox":"mailto:a@e.com"},"verb":{"id":"http://e.com/v"},"object":{"id":"http://e.com/a"},"context":{"extensions":{"http://e.com/x":{"y":[1e400]}}}}`, ""},
		{"in result extensions", `{"actor":{"mbox":"mailto:a@e.com"},"verb":{"id":"http://e.com/v"},"object":{"id":"http://e.com/a"},"result":{"extensions":{"http://e.com/x":1e400}}}`, ""},
	}
	for _, v := range []string{V103, V200} {
		for _, tc := range cases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				batch := "[" + base + "," + tc.body + "]"
				batchPath := ""
				if tc.wantPath != "" {
					batchPath = "/1" + tc.wantPath
				}
				checks := []struct {
					entry, body, wantPath string
					validate              func() error
				}{
					{"Statement", tc.body, tc.wantPath, func() error { return Statement(v, []byte(tc.body)) }},
					{"ParseStatement", tc.body, tc.wantPath, func() error { _, err := ParseStatement(v, []byte(tc.body)); return err }},
					{"Statements", tc.body, tc.wantPath, func() error { return Statements(v, []byte(tc.body)) }},
					{"Statements batch", batch, batchPath, func() error { return Statements(v, []byte(batch)) }},
					{"ParseStatements batch", batch, batchPath, func() error { _, _, err := ParseStatements(v, []byte(batch)); return err }},
				}
				for _, c := range checks {
					err, panicked := noPanic(c.validate)
					if panicked != nil {
						t.Fatalf("%s panicked: %v", c.entry, panicked)
					}
					if c.wantPath == "" {
						if err != nil {
							t.Errorf("%s: got %v, want valid", c.entry, err)
						}
						continue
					}
					var errs Errors
					if !errors.As(err, &errs) {
						t.Fatalf("%s: got %v (%T), want Errors", c.entry, err, err)
					}
					if want := c.wantPath + ": " + rule; !strings.Contains(err.Error(), want) {
						t.Errorf("%s: got %q, want it to contain %q", c.entry, err, want)
					}
				}
			})
		}
	}
}

func noPanic(f func() error) (err error, panicked any) {
	defer func() { panicked = recover() }()
	return f(), nil
}

// TestValidateSchema_RecoversFromPanic hands the schemas, past decode, a
// document the schema library panics on, and expects the violation the
// shape finds instead of a panic.
func TestValidateSchema_RecoversFromPanic(t *testing.T) {
	doc := func() map[string]any {
		return map[string]any{
			"actor":  map[string]any{"objectType": map[string]any{"extensions": json.Number("1e400")}},
			"verb":   map[string]any{"id": "http://e.com/v"},
			"object": map[string]any{"id": "http://e.com/a"},
		}
	}
	for _, v := range []string{V103, V200} {
		set := mustSchemas(t, v)
		for _, prefix := range []*path{{}, (&path{}).index(3)} {
			errs, err := checkSchema(set.statement, set.statementShape, doc(), prefix)
			if err != nil {
				t.Fatal(err)
			}
			want := Errors{{Path: prefix.String() + "/actor/objectType", Rule: `must be "Agent" (exact case, 2.2.s4.b1.b6)`}}
			if fmt.Sprint(errs) != fmt.Sprint(want) {
				t.Errorf("%s: got %v, want %v", v, errs, want)
			}
		}
		// Should the shape find nothing, the whole document is blamed.
		errs, err := validateSchema(set.statement, &shape{}, doc(), "/2")
		if err != nil {
			t.Fatal(err)
		}
		if len(errs) != 1 || errs[0].Path != "/2" || !strings.Contains(errs[0].Rule, "could not be checked") {
			t.Errorf("%s: with a shape that finds nothing: got %v", v, errs)
		}
	}
}

// TestPlaces_MatchSchemas holds the places decode gives values to the
// schemas: following every property, element and branch of each version's
// statement schema, an object at a path has an extensions object, whose
// values may hold any number, exactly if one of the schemas that can apply
// there gives it one. Each path is tried alone and in a batch.
func TestPlaces_MatchSchemas(t *testing.T) {
	for _, v := range []string{V103, V200} {
		owners := map[string]bool{} // path -> has extensions
		var paths []string
		var visit func(s *shape, at []string, depth int)
		visit = func(s *shape, at []string, depth int) {
			if depth > 16 {
				t.Fatalf("%s: schema deeper than expected at %v", v, at)
			}
			if isExtensionsShape(s) {
				return // within, every value is free
			}
			key := strings.Join(at, "\x00")
			if _, seen := owners[key]; !seen {
				owners[key] = false
				paths = append(paths, key)
			}
			if p := s.prop("extensions"); p != nil && isExtensionsShape(p.shape) {
				owners[key] = true
			}
			for _, p := range s.props {
				visit(p.shape, append(at[:len(at):len(at)], p.name), depth+1)
			}
			if s.additional != nil {
				visit(s.additional, append(at[:len(at):len(at)], "k"), depth+1)
			}
			if s.items != nil {
				visit(s.items, append(at[:len(at):len(at)], "[]"), depth+1)
			}
			for _, branch := range []*shape{s.thenS, s.elsS} {
				if branch != nil {
					visit(branch, at, depth)
				}
			}
		}
		visit(mustSchemas(t, v).statementShape, nil, 0)

		n := 0
		for _, key := range paths {
			var at []string
			if key != "" {
				at = strings.Split(key, "\x00")
			}
			want := owners[key]
			if want {
				n++
			}
			inner := `{"extensions":{"http://e.com/x":1e400}}`
			for _, batch := range []bool{false, true} {
				body := nest(at, inner)
				if batch {
					body = "[" + body + "]"
				}
				_, errs := decode([]byte(body))
				if got := errs == nil; got != want {
					t.Errorf("%s: %s: decode accepts a huge number in extensions: got %v, want %v (%v)", v, body, got, want, errs)
				}
			}
		}
		t.Logf("%s: %d paths, %d with extensions", v, len(paths), n)
		if n < 6 {
			t.Errorf("%s: only %d places with extensions in the schema", v, n)
		}
	}
}

// isExtensionsShape reports whether s is the schema of an extensions
// object: any JSON object.
func isExtensionsShape(s *shape) bool {
	return !s.never && s.kind == kindObject && len(s.props) == 0 && len(s.required) == 0 && !s.closed &&
		s.additional == nil && s.items == nil && !s.hasEnum && s.ifS == nil && s.thenS == nil && s.elsS == nil && s.not == nil
}

// nest wraps inner in objects and arrays along at, whose "[]" steps are
// array elements.
func nest(at []string, inner string) string {
	for i := len(at) - 1; i >= 0; i-- {
		if at[i] == "[]" {
			inner = "[" + inner + "]"
		} else {
			inner = "{" + strconv.Quote(at[i]) + ":" + inner + "}"
		}
	}
	return inner
}

// TestAgent_OutOfRangeNumbers checks that an agent parameter, which has no
// extensions, takes no number outside float64 range.
func TestAgent_OutOfRangeNumbers(t *testing.T) {
	for _, v := range []string{V103, V200} {
		for body, want := range map[string]string{
			`{"objectType":{"extensions":1e400},"mbox":"mailto:a@e.com"}`:                "/objectType/extensions: number is out of range",
			`{"mbox":"mailto:a@e.com","result":{"extensions":{"http://e.com/x":1e400}}}`: "/result/extensions/http:~1~1e.com~1x: number is out of range",
		} {
			err, panicked := noPanic(func() error { return Agent(v, []byte(body)) })
			if panicked != nil {
				t.Fatalf("%s: %s: panicked: %v", v, body, panicked)
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %s: got %v, want %q", v, body, err, want)
			}
		}
	}
}
