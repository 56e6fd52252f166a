package validation

import (
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
// panicking, through all three entry points and both versions, and that
// validating the same input twice gives the same answer.
func FuzzStatement(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "examples*", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add([]byte("[" + string(data) + "]"))
	}
	for _, tc := range statementCases {
		f.Add([]byte(tc.json))
	}
	f.Add([]byte(`{"mbox":"mailto:a@example.com"}`))
	f.Add([]byte(strings.Repeat("[", 1000)))
	f.Add([]byte(`{"actor":1e999999999,"verb":-0.0000000000000000000000001e-99999}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeAgreesWithEncodingJSON(t, data)
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
