package validation

import (
	"bytes"
	"reflect"
	"testing"
)

func TestParseStatements(t *testing.T) {
	other := stmt(`{"context":{"contextActivities":{"parent":[{"id":"http://example.com/p"}]}},"result":{"extensions":{"http://example.com/e":[1,[2],{"a":[]}]}}}`)
	cases := []struct {
		name      string
		body      string
		wantRaw   []string
		wantBatch bool
	}{
		{"single object", base, []string{base}, false},
		{"single object in whitespace", " \r\n\t" + base + "\n ", []string{base}, false},
		{"empty array", "[]", nil, true},
		{"empty array in whitespace", " [ \n ] ", nil, true},
		{"array", "[" + base + "," + other + "]", []string{base, other}, true},
		{"array in whitespace", "\n[\n  " + other + " ,\n\t" + base + "\r\n]\n", []string{other, base}, true},
	}
	for _, v := range []string{V103, V200} {
		for _, tc := range cases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				stmts, batch, err := ParseStatements(v, []byte(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := batch, tc.wantBatch; got != want {
					t.Errorf("batch: got %v, want %v", got, want)
				}
				if got, want := len(stmts), len(tc.wantRaw); got != want {
					t.Fatalf("got %d statements, want %d", got, want)
				}
				for i, st := range stmts {
					if got, want := string(st.Raw), tc.wantRaw[i]; got != want {
						t.Errorf("Raw %d: got %s, want %s", i, got, want)
					}
					checkParsed(t, st)
				}
			})
		}
	}
}

func TestParseStatement(t *testing.T) {
	for _, v := range []string{V103, V200} {
		st, err := ParseStatement(v, []byte("\n "+base+"\t"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(st.Raw), base; got != want {
			t.Errorf("Raw: got %s, want %s", got, want)
		}
		checkParsed(t, st)
	}
}

// TestParse_SameErrors checks that the Parse functions fail exactly when
// and as the plain ones do, and return nothing then.
func TestParse_SameErrors(t *testing.T) {
	var bodies []string
	for _, tc := range statementCases {
		bodies = append(bodies, tc.json, "["+tc.json+"]", "["+base+","+tc.json+"]")
	}
	for _, tc := range statementsCases {
		bodies = append(bodies, tc.json)
	}
	for _, v := range []string{V103, V200, "1.0.2"} {
		for _, b := range bodies {
			stmts, _, err := ParseStatements(v, []byte(b))
			if want := Statements(v, []byte(b)); !reflect.DeepEqual(err, want) {
				t.Errorf("%s %s: ParseStatements: got %v, want %v", v, b, err, want)
			}
			if err != nil && stmts != nil {
				t.Errorf("%s %s: got statements with error %v", v, b, err)
			}
			st, err := ParseStatement(v, []byte(b))
			if want := Statement(v, []byte(b)); !reflect.DeepEqual(err, want) {
				t.Errorf("%s %s: ParseStatement: got %v, want %v", v, b, err, want)
			}
			if err != nil && (st.Raw != nil || st.Doc != nil) {
				t.Errorf("%s %s: got a statement with error %v", v, b, err)
			}
		}
	}
}

// TestValidation_DoesNotModify checks that validating a document leaves
// it as decoded, since callers get it back.
func TestValidation_DoesNotModify(t *testing.T) {
	for _, doc := range shapeCorpus(t) {
		for _, v := range []string{V103, V200} {
			set := mustSchemas(t, v)
			want := deepCopy(doc)
			if _, err := statement(set, v, doc, &path{}); err != nil {
				t.Fatal(err)
			}
			c := &checker{version: v}
			c.agentParameter(&path{}, doc)
			if !reflect.DeepEqual(doc, want) {
				t.Fatalf("validation changed %v into %v", want, doc)
			}
		}
	}
}

// checkParsed asserts that st.Raw is a JSON object without surrounding
// whitespace that decodes to st.Doc.
func checkParsed(t *testing.T, st Parsed) {
	t.Helper()
	if len(st.Raw) == 0 || st.Raw[0] != '{' || st.Raw[len(st.Raw)-1] != '}' {
		t.Fatalf("Raw %q is not a bare object", st.Raw)
	}
	if cap(st.Raw) != len(st.Raw) {
		t.Errorf("Raw has room to append into the body: len %d, cap %d", len(st.Raw), cap(st.Raw))
	}
	doc, errs := decode(st.Raw)
	if errs != nil {
		t.Fatalf("Raw does not decode: %v", errs)
	}
	if !reflect.DeepEqual(doc, any(st.Doc)) {
		t.Fatalf("Raw decodes to %v, Doc is %v", doc, st.Doc)
	}
	if !bytes.Equal(bytes.TrimSpace(st.Raw), st.Raw) {
		t.Fatalf("Raw %q has surrounding whitespace", st.Raw)
	}
}
