package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStatement checks that any input yields nil or Errors without
// panicking, through all three entry points and both versions, that
// validating the same input twice gives the same answer, and that the
// compiled shapes agree with gojsonschema.
func FuzzStatement(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeAgreesWithEncodingJSON(t, data)
		checkShapesAgree(t, data)
		checkParseAgrees(t, data)
		for _, v := range []string{V103, V200} {
			for _, validate := range []func(string, []byte) error{Statement, Statements, Agent} {
				first := validate(v, data)
				second := validate(v, data)
				if !reflect.DeepEqual(first, second) {
					t.Fatalf("unstable result for %s:\nfirst:  %v\nsecond: %v", v, first, second)
				}
				var errs Errors
				if first != nil && (!errors.As(first, &errs) || len(errs) == 0) {
					t.Fatalf("got %T %v, want nil or non-empty Errors", first, first)
				}
			}
		}
	})
}

// fuzzSeeds returns the seed inputs of FuzzStatement: the specification's
// examples alone and in an array, and the bodies of the table tests.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "examples*", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, data, []byte("["+string(data)+"]"))
	}
	for _, tc := range statementCases {
		seeds = append(seeds, []byte(tc.json))
	}
	seeds = append(seeds,
		[]byte(`{"mbox":"mailto:a@example.com"}`),
		[]byte(strings.Repeat("[", 1000)),
		[]byte(`{"actor":1e999999999,"verb":-0.0000000000000000000000001e-99999}`),
	)
	return seeds
}

// checkShapesAgree asserts that the compiled shapes and gojsonschema give
// the same verdict on data as a statement (each element, if an array) and
// as an agent parameter, in both versions.
func checkShapesAgree(t *testing.T, data []byte) {
	t.Helper()
	doc, errs := decode(data)
	if errs != nil {
		return
	}
	docs := []any{doc}
	if list, ok := doc.([]any); ok {
		docs = append(docs, list...)
	}
	for _, v := range []string{V103, V200} {
		set := mustSchemas(t, v)
		for _, d := range docs {
			shapeAgrees(t, v+" statement", set.statement, set.statementShape, d)
		}
		shapeAgrees(t, v+" agent", set.agent, set.agentShape, doc)
	}
}

// checkParseAgrees asserts that ParseStatements gives the error of
// Statements and, for a valid body, statements whose Raw bytes lie in data
// in order and decode to their Doc.
func checkParseAgrees(t *testing.T, data []byte) {
	t.Helper()
	for _, v := range []string{V103, V200} {
		stmts, batch, err := ParseStatements(v, data)
		if want := Statements(v, data); !reflect.DeepEqual(err, want) {
			t.Fatalf("%s: ParseStatements: got %v, want %v", v, err, want)
		}
		if err != nil {
			continue
		}
		trimmed := bytes.TrimSpace(data)
		if got, want := batch, trimmed[0] == '['; got != want {
			t.Fatalf("%s: batch: got %v, want %v", v, got, want)
		}
		if !batch && (len(stmts) != 1 || !bytes.Equal(stmts[0].Raw, trimmed)) {
			t.Fatalf("%s: got %d statements, want the whole body", v, len(stmts))
		}
		end := 0
		for _, st := range stmts {
			i := bytes.Index(data[end:], st.Raw)
			if i < 0 || &data[end+i] != &st.Raw[0] {
				t.Fatalf("%s: Raw %q is not the next part of the body", v, st.Raw)
			}
			end += i + len(st.Raw)
			checkParsed(t, st)
		}
	}
}

// checkDecodeAgreesWithEncodingJSON asserts that the strict parser accepts
// exactly the syntax encoding/json accepts, and reads the same value when
// no duplicate keys are involved.
func checkDecodeAgreesWithEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	if !utf8.Valid(data) {
		return
	}
	v, errs := decode(data)
	syntax, other := false, false
	for _, e := range errs {
		if strings.HasPrefix(e.Rule, syntaxRule) || strings.HasPrefix(e.Rule, "is empty") {
			syntax = true
		} else {
			other = true
		}
	}
	if other {
		return // duplicate keys, depth or number limits: not comparable
	}
	if got, want := !syntax, json.Valid(data); got != want {
		t.Fatalf("decode accepts JSON: got %v, want %v (errors: %v)", got, want, errs)
	}
	if syntax {
		return
	}
	var want any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("decode read %#v, encoding/json read %#v", v, want)
	}
}
