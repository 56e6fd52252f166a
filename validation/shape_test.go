package validation

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/xeipuuv/gojsonschema"
)

func TestCompileShape(t *testing.T) {
	const id = `"$id":"https://example.com/s.json",`
	cases := []struct {
		name, schema, wantErr string
	}{
		{"OK", `{` + id + `"definitions":{"a":{"type":"object","properties":{"b":{"$ref":"#/definitions/b"}},"required":["b"],"additionalProperties":false},"b":{"enum":["x","y"]}}}`, ""},
		{"ErrUnknownKeyword", `{` + id + `"definitions":{"a":{"type":"string","pattern":"^x"}}}`, `keyword "pattern" is not supported`},
		{"ErrUnknownKeywordDeep", `{` + id + `"definitions":{"a":{"properties":{"b":{"items":{"maxItems":2}}}}}}`, `keyword "maxItems" is not supported`},
		{"ErrUnknownKeywordInUnusedBranch", `{` + id + `"definitions":{"a":{"if":{"type":"object"},"else":{"format":"uri"}}}}`, `keyword "format" is not supported`},
		{"ErrTypeList", `{` + id + `"definitions":{"a":{"type":["string","null"]}}}`, "type [string null] is not supported"},
		{"ErrTypeInteger", `{` + id + `"definitions":{"a":{"type":"integer"}}}`, "type integer is not supported"},
		{"ErrEnumNumber", `{` + id + `"definitions":{"a":{"enum":["x",1]}}}`, "values other than strings"},
		{"ErrRefWithSibling", `{` + id + `"definitions":{"a":{"$ref":"#/definitions/b","type":"object"},"b":{}}}`, "next to $ref"},
		{"ErrRefMissing", `{` + id + `"definitions":{"a":{"$ref":"#/definitions/c"}}}`, `no "/definitions/c"`},
		{"ErrRefOtherFile", `{` + id + `"definitions":{"a":{"$ref":"other.json#/definitions/c"}}}`, "no schema with this $id"},
		{"ErrRefCycle", `{` + id + `"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}}}`, "$ref cycle"},
		{"ErrItemsArray", `{` + id + `"definitions":{"a":{"items":[{}]}}}`, "items as an array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"s.json": {Data: []byte(tc.schema)}}
			_, err := compileShape(fsys, []string{"s.json"}, "https://example.com/s.json#/definitions/a")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCompileShape_Recursive(t *testing.T) {
	fsys := fstest.MapFS{"s.json": {Data: []byte(`{"$id":"https://example.com/s.json","definitions":{"tree":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/definitions/tree"}}},"additionalProperties":false}}}`)}}
	s, err := compileShape(fsys, []string{"s.json"}, "https://example.com/s.json#/definitions/tree")
	if err != nil {
		t.Fatal(err)
	}
	for doc, want := range map[string]bool{
		`{}`:                             true,
		`{"kids":[{"kids":[{}]}]}`:       true,
		`{"kids":[{"kids":[{"x":1}]}]}`:  false,
		`{"kids":[{"kids":[[]]}]}`:       false,
		`{"kids":{"kids":[]}}`:           false,
		`{"kids":[{"kids":[{}]}],"y":1}`: false,
	} {
		v, errs := decode([]byte(doc))
		if errs != nil {
			t.Fatal(errs)
		}
		if got := s.conforms(v); got != want {
			t.Errorf("%s: got %v, want %v", doc, got, want)
		}
	}
}

// TestShape_AgreesWithGojsonschema checks that the compiled shapes and
// gojsonschema give the same verdict on every document of the tests, on
// each of their sub-documents as an agent parameter, and on thousands of
// documents made from them by random but reproducible edits.
func TestShape_AgreesWithGojsonschema(t *testing.T) {
	corpus := shapeCorpus(t)
	a := &agreement{t: t}
	for _, doc := range corpus {
		a.check(doc)
		walk(doc, func(v any) { a.checkAgent(v) })
	}
	mutants := 4000
	if testing.Short() {
		mutants = 500
	}
	rng := rand.New(rand.NewSource(1))
	e := &editor{rng: rng, vocab: shapeVocabulary(t), donors: map[string][]any{}}
	for _, doc := range corpus {
		walk(doc, func(v any) {
			if m, ok := v.(map[string]any); ok {
				for _, k := range sortedKeys(m) {
					e.donors[k] = append(e.donors[k], m[k])
				}
			}
		})
	}
	for i := 0; i < mutants; i++ {
		doc := deepCopy(corpus[i%len(corpus)])
		for n := 1 + rng.Intn(3); n > 0; n-- {
			doc = e.mutate(doc)
		}
		a.check(doc)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d statement verdicts (%d valid), %d agent verdicts (%d valid)", a.statements, a.validStatements, a.agents, a.validAgents)
	// The edits must reach both answers often enough to mean something.
	if a.validStatements < a.statements/20 || a.validStatements > a.statements*19/20 {
		t.Errorf("%d of %d statement verdicts are valid; the corpus or the edits have gone lopsided", a.validStatements, a.statements)
	}
	if a.validAgents < 100 {
		t.Errorf("only %d agent verdicts are valid", a.validAgents)
	}
}

// agreement compares the shapes with gojsonschema and counts verdicts.
type agreement struct {
	t                           *testing.T
	statements, validStatements int
	agents, validAgents         int
}

// check compares the verdicts on doc as a statement, as each element if
// it is an array, and as an agent parameter, in both versions.
func (a *agreement) check(doc any) {
	a.t.Helper()
	a.checkStatement(doc)
	if list, ok := doc.([]any); ok {
		for _, el := range list {
			a.checkStatement(el)
		}
	}
	a.checkAgent(doc)
}

func (a *agreement) checkStatement(doc any) {
	a.t.Helper()
	for _, v := range []string{V103, V200} {
		set := mustSchemas(a.t, v)
		if shapeAgrees(a.t, v+" statement", set.statement, set.statementShape, doc) {
			a.validStatements++
		}
		a.statements++
	}
}

func (a *agreement) checkAgent(doc any) {
	a.t.Helper()
	for _, v := range []string{V103, V200} {
		set := mustSchemas(a.t, v)
		if shapeAgrees(a.t, v+" agent", set.agent, set.agentShape, doc) {
			a.validAgents++
		}
		a.agents++
	}
}

// shapeAgrees fails t if sh and s disagree on doc and returns the verdict.
// A document gojsonschema panics on is invalid, as validateSchema reports
// it. Decode keeps numbers outside float64 range, which make it panic, to
// the values of extensions, where it never looks, but the edits of
// TestShape_AgreesWithGojsonschema move values anywhere.
func shapeAgrees(t testing.TB, what string, s *gojsonschema.Schema, sh *shape, doc any) bool {
	t.Helper()
	res, panicked := gojsonschemaResult(t, s, doc)
	if panicked {
		if sh.conforms(doc) {
			b, _ := json.Marshal(doc)
			t.Errorf("%s: shape says conforms=true, gojsonschema panicked\ndocument: %s", what, b)
		}
		return false
	}
	if got, want := sh.conforms(doc), res.Valid(); got != want {
		b, _ := json.Marshal(doc)
		t.Errorf("%s: shape says conforms=%v, gojsonschema says valid=%v %v\ndocument: %s", what, got, want, res.Errors(), b)
	}
	return res.Valid()
}

// gojsonschemaResult validates doc against s and reports whether the
// library panicked instead.
func gojsonschemaResult(t testing.TB, s *gojsonschema.Schema, doc any) (res *gojsonschema.Result, panicked bool) {
	t.Helper()
	defer func() {
		if recover() != nil {
			res, panicked = nil, true
		}
	}()
	res, err := s.Validate(gojsonschema.NewRawLoader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return res, false
}

func mustSchemas(tb testing.TB, version string) *schemaSet {
	tb.Helper()
	set, err := schemasFor(version)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// shapeCorpus decodes every body the tests use that decode accepts.
func shapeCorpus(t *testing.T) []any {
	t.Helper()
	bodies := fuzzSeeds(t)
	for _, tc := range statementsCases {
		bodies = append(bodies, []byte(tc.json))
	}
	for _, tc := range agentCases {
		bodies = append(bodies, []byte(tc.json))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "bench", "*.json"))
	fuzz, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzStatement", "*"))
	for _, name := range append(files, fuzz...) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "fuzz") {
			data = fuzzCorpusValue(t, name, data)
		}
		bodies = append(bodies, data)
	}
	var docs []any
	for _, b := range bodies {
		if doc, errs := decode(b); errs == nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) < 100 {
		t.Fatalf("only %d documents in the corpus", len(docs))
	}
	return docs
}

// fuzzCorpusValue returns the single []byte value of a file of the Go
// fuzzing corpus.
func fuzzCorpusValue(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s: not a one-value []byte fuzz corpus file", name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}

// shapeVocabulary returns the property names and string constants of the
// schemas, which edits use to build documents the schemas care about.
func shapeVocabulary(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range []string{"common.json", "statement-1.0.3.json", "statement-2.0.0.json"} {
		b, err := schemaFiles.ReadFile("schema/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		walk(doc, func(v any) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			if props, ok := m["properties"].(map[string]any); ok {
				for k := range props {
					seen[k] = true
				}
			}
			for _, k := range []string{"enum", "const"} {
				list, _ := m[k].([]any)
				if s, ok := m[k].(string); ok {
					list = append(list, s)
				}
				for _, e := range list {
					if s, ok := e.(string); ok {
						seen[s] = true
					}
				}
			}
		})
	}
	vocab := make([]string, 0, len(seen))
	for k := range seen {
		vocab = append(vocab, k)
	}
	sort.Strings(vocab)
	return vocab
}

// walk calls f on v and every value inside it.
func walk(v any, f func(any)) {
	f(v)
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walk(x[k], f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// slot is a place in a document: a key of an object or an index of an
// array.
type slot struct {
	obj map[string]any
	arr []any
	key string
	i   int
}

func (s slot) get() any {
	if s.obj != nil {
		return s.obj[s.key]
	}
	return s.arr[s.i]
}

func (s slot) set(v any) {
	if s.obj != nil {
		s.obj[s.key] = v
	} else {
		s.arr[s.i] = v
	}
}

// editor makes random edits to documents.
type editor struct {
	rng    *rand.Rand
	vocab  []string         // property names and constants of the schemas
	donors map[string][]any // values found under each property name
}

// mutate makes one random edit to doc, which it may change, and returns
// the result.
func (e *editor) mutate(doc any) any {
	rng, vocab := e.rng, e.vocab
	var slots []slot
	var values []any
	var walkSlots func(v any)
	walkSlots = func(v any) {
		values = append(values, v)
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				slots = append(slots, slot{obj: x, key: k})
				walkSlots(x[k])
			}
		case []any:
			for i := range x {
				slots = append(slots, slot{arr: x, i: i})
				walkSlots(x[i])
			}
		}
	}
	walkSlots(doc)
	scalars := []any{nil, "x", "", json.Number("1"), json.Number("-2.5"), true, false, map[string]any{}, []any{}}
	pick := func() any {
		switch rng.Intn(3) {
		case 0:
			return deepCopy(values[rng.Intn(len(values))])
		case 1:
			return vocab[rng.Intn(len(vocab))]
		}
		return deepCopy(scalars[rng.Intn(len(scalars))])
	}
	if len(slots) == 0 || rng.Intn(8) == 0 {
		// Edit the document itself.
		switch rng.Intn(3) {
		case 0:
			return []any{doc}
		case 1:
			if m, ok := doc.(map[string]any); ok {
				m[vocab[rng.Intn(len(vocab))]] = pick()
				return m
			}
		}
		return pick()
	}
	s := slots[rng.Intn(len(slots))]
	v := s.get()
	switch rng.Intn(12) {
	case 10, 11: // take the value of the same property elsewhere
		if s.obj != nil {
			if d := e.donors[s.key]; len(d) > 0 {
				s.set(deepCopy(d[rng.Intn(len(d))]))
			}
		}
	case 0: // drop the property or empty the array
		if s.obj != nil {
			delete(s.obj, s.key)
		} else {
			s.set(nil)
		}
	case 1:
		s.set(nil)
	case 2:
		s.set(pick())
	case 3:
		s.set([]any{v})
	case 4:
		if a, ok := v.([]any); ok && len(a) > 0 {
			s.set(a[0])
		} else if ok {
			s.set(map[string]any{})
		} else {
			s.set([]any{})
		}
	case 5, 6: // add a property, unknown or known to the schemas
		m, ok := v.(map[string]any)
		if !ok {
			m = s.obj // the object that holds v
		}
		if m == nil {
			s.set(map[string]any{"zz": json.Number("1")})
			break
		}
		if rng.Intn(3) == 0 {
			m["zz"] = pick()
		} else {
			m[vocab[rng.Intn(len(vocab))]] = pick()
		}
	case 7: // change the objectType
		m, ok := v.(map[string]any)
		if !ok {
			m = s.obj
		}
		if m != nil {
			types := []string{"Agent", "Group", "Activity", "StatementRef", "SubStatement", "contextAgent", "contextGroup", "agent"}
			m["objectType"] = types[rng.Intn(len(types))]
		}
	case 8: // change a type
		switch x := v.(type) {
		case string:
			s.set(json.Number(strconv.Itoa(len(x))))
		case json.Number:
			s.set(string(x))
		case bool:
			s.set(strconv.FormatBool(x))
		case map[string]any:
			s.set([]any{x})
		case []any:
			s.set("x")
		default:
			s.set(map[string]any{})
		}
	case 9: // empty an array or an object
		switch v.(type) {
		case []any:
			s.set([]any{})
		case map[string]any:
			s.set(map[string]any{})
		}
	}
	return doc
}

// TestShapeViolation_AgreesWithGojsonschema checks that where the shape
// says a document first fails, and why, is one of the violations
// gojsonschema reports, on the documents of the tests and on edits of
// them, so that the error reported when gojsonschema cannot run is one it
// would have reported.
func TestShapeViolation_AgreesWithGojsonschema(t *testing.T) {
	corpus := shapeCorpus(t)
	rng := rand.New(rand.NewSource(2))
	e := &editor{rng: rng, vocab: shapeVocabulary(t), donors: map[string][]any{}}
	docs := append([]any(nil), corpus...)
	for i := 0; i < 2000; i++ {
		doc := deepCopy(corpus[i%len(corpus)])
		for n := 1 + rng.Intn(3); n > 0; n-- {
			doc = e.mutate(doc)
		}
		docs = append(docs, doc)
	}
	checked := 0
	for _, doc := range docs {
		for _, v := range []string{V103, V200} {
			set := mustSchemas(t, v)
			for _, s := range []struct {
				schema *gojsonschema.Schema
				shape  *shape
			}{{set.statement, set.statementShape}, {set.agent, set.agentShape}} {
				at, rule, ok := s.shape.violation(doc)
				if ok == s.shape.conforms(doc) {
					t.Fatalf("%s: violation says ok=%v, conforms says %v", v, ok, s.shape.conforms(doc))
				}
				if !ok {
					continue
				}
				if _, panicked := gojsonschemaResult(t, s.schema, doc); panicked {
					continue
				}
				errs, err := validateSchema(s.schema, s.shape, doc, "")
				if err != nil {
					t.Fatal(err)
				}
				checked++
				want := Error{Path: at, Rule: rule}
				found := false
				for _, e := range errs {
					found = found || e == want
				}
				if !found {
					b, _ := json.Marshal(doc)
					t.Errorf("%s: shape says %v, gojsonschema says %v\ndocument: %s", v, want, errs, b)
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d violations compared", checked)
}
