package statements_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
	"github.com/digione/lrs/statements"
)

// receivedStatements returns statements as clients send them: generated
// ones of both versions and the spec's examples.
func receivedStatements(t testing.TB) [][]byte {
	t.Helper()
	var raws [][]byte
	for _, v := range []string{gen.V103, gen.V200} {
		g, err := gen.New(gen.Config{Seed: 7, Version: v})
		if err != nil {
			t.Fatal(err)
		}
		for i := range uint64(1000) {
			raws = append(raws, g.Statement(i).JSON)
		}
	}
	files, err := filepath.Glob("../validation/testdata/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			raws = append(raws, b)
		}
	}
	if len(raws) < 2020 {
		t.Fatalf("only %d statements", len(raws))
	}
	return raws
}

func decodeDoc(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The functions on decoded trees give what their counterparts on bytes
// give, and leave the tree as it was.
func TestAssignDoc_MatchesAssign(t *testing.T) {
	authority := []byte(`{"objectType":"Agent","account":{"homePage":"https://lrs.example","name":"k"}}`)
	for _, utc := range []bool{false, true} {
		a := statements.Assigned{ID: "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", Authority: authority, Version: "1.0.0", UTC: utc}
		for i, raw := range receivedStatements(t) {
			doc := decodeDoc(t, raw)
			pristine := decodeDoc(t, raw)

			fp, err := statements.Fingerprint(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := statements.FingerprintDoc(doc); got != fp {
				t.Fatalf("statement %d: FingerprintDoc = %s, Fingerprint = %s", i, got, fp)
			}
			wantOut, want, err := statements.Assign(raw, a)
			if err != nil {
				t.Fatal(err)
			}
			out, got, err := statements.AssignDoc(raw, doc, a)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, wantOut) {
				t.Fatalf("statement %d: AssignDoc bytes\n%s\nAssign bytes\n%s", i, out, wantOut)
			}
			if !reflect.DeepEqual(got.Terms(), want.Terms()) {
				t.Fatalf("statement %d: terms %q, want %q", i, got.Terms(), want.Terms())
			}
			if got.ID != want.ID || got.Timestamp != want.Timestamp || got.Version != want.Version ||
				got.RefTarget() != want.RefTarget() || got.Voids() != want.Voids() ||
				!reflect.DeepEqual(got.Authority, want.Authority) || !reflect.DeepEqual(got.Actor, want.Actor) {
				t.Fatalf("statement %d: AssignDoc gives %+v, Assign %+v", i, got, want)
			}
			if !reflect.DeepEqual(doc, pristine) {
				t.Fatalf("statement %d: the decoded tree was modified", i)
			}
		}
	}
}

// Fingerprints are stored with the statements, so the digest of a given
// statement never changes from one version of the LRS to the next.
func TestFingerprint_Stable(t *testing.T) {
	for file, want := range map[string]string{
		"bench/typical.json":                         "1b96e7096af8bc0d44d3e35dc45850039668a937af0b6d8334b34510ec34187b",
		"examples/data-appendix-a-long.json":         "0dbae363b8ee33a4193f6fb189fe16d1603499e58507d5b32b7af5addd4d1c88",
		"examples/data-appendix-b-group.json":        "ab53b6f6eaecf315cf167bbed36717158f30958546749d400f23277909b6bd12",
		"examples/data-appendix-b-substatement.json": "097171791cef8506dd2fbaf48e72e61e2d0ce6101f707b6267363926d4d9b580",
	} {
		raw, err := os.ReadFile(filepath.Join("../validation/testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := fingerprint(t, string(raw)); got != want {
			t.Errorf("%s: fingerprint %s, want %s", file, got, want)
		}
	}
}

func BenchmarkRecordPartsDoc(b *testing.B) {
	raw, err := os.ReadFile("../validation/testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	doc := decodeDoc(b, raw)
	authority := []byte(`{"objectType":"Agent","account":{"homePage":"https://lrs.example","name":"k"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		statements.FingerprintDoc(doc)
		_, st, err := statements.AssignDoc(raw, doc, statements.Assigned{ID: "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", Authority: authority, Version: "1.0.0"})
		if err != nil {
			b.Fatal(err)
		}
		st.Terms()
	}
}

func TestDefinedActivities(t *testing.T) {
	stmt := []byte(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},
		"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.fi"},"verb":{"id":"http://x.fi/v"},
		  "object":{"id":"http://x.fi/so","definition":{"name":{"fi":"SO"}}},
		  "context":{"contextActivities":{"parent":{"id":"http://x.fi/sp","definition":{"type":"http://x.fi/t"}}}}},
		"context":{"contextActivities":{
		  "other":[{"id":"http://x.fi/q","definition":{}}],
		  "parent":[{"id":"http://x.fi/p"}, {"id":"http://x.fi/p2", "definition" : {"name":{"sv":"P"}} }],
		  "category":{"id":"http://x.fi/c","definition":{"type":"http://x.fi/cat"}}}}}`)
	var got []string
	for _, a := range statements.DefinedActivities(stmt) {
		got = append(got, a.ID+" "+string(a.Definition))
	}
	want := []string{
		`http://x.fi/so {"name":{"fi":"SO"}}`,
		`http://x.fi/sp {"type":"http://x.fi/t"}`,
		`http://x.fi/p2 {"name":{"sv":"P"}}`,
		`http://x.fi/c {"type":"http://x.fi/cat"}`,
		`http://x.fi/q {}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefinedActivities =\n%q\nwant\n%q", got, want)
	}
	// A StatementRef object and an Agent object have no definition to give.
	for _, s := range []string{
		`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}}`,
		`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"objectType":"Agent","mbox":"mailto:b@example.fi"}}`,
	} {
		if got := statements.DefinedActivities([]byte(s)); len(got) != 0 {
			t.Errorf("%s: %q, want none", s, got)
		}
	}
}

func BenchmarkFingerprintDoc(b *testing.B) {
	raw, err := os.ReadFile("../validation/testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	doc := decodeDoc(b, raw)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		statements.FingerprintDoc(doc)
	}
}
