package validation

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"
)

// The schemas describe structure only: which properties exist, their JSON
// types, required properties, enumerations and no additional properties
// outside extensions. Everything else is in rules.go.
//
//go:embed schema/*.json
var schemaFiles embed.FS

const schemaBase = "https://schemas.digione.example/xapi/"

// schemaSet is the compiled schemas of one xAPI version: each as a
// gojsonschema.Schema, which names the violations, and as a shape, which
// only tells whether there are any and is much faster.
type schemaSet struct {
	statement      *gojsonschema.Schema
	agent          *gojsonschema.Schema
	statementShape *shape
	agentShape     *shape
}

var (
	schemasOnce sync.Once
	schemas     map[string]*schemaSet
	schemasErr  error
)

// schemasFor returns the compiled schemas of version, compiling all of them
// on first use.
func schemasFor(version string) (*schemaSet, error) {
	schemasOnce.Do(func() {
		schemas = make(map[string]*schemaSet)
		for _, v := range []string{V103, V200} {
			set, err := compileSchemas(v)
			if err != nil {
				schemasErr = fmt.Errorf("validation: compiling %s schemas: %w", v, err)
				return
			}
			schemas[v] = set
		}
	})
	if schemasErr != nil {
		return nil, schemasErr
	}
	return schemas[version], nil
}

func compileSchemas(version string) (*schemaSet, error) {
	load := func(name string) (gojsonschema.JSONLoader, error) {
		b, err := schemaFiles.ReadFile("schema/" + name)
		if err != nil {
			return nil, err
		}
		return gojsonschema.NewBytesLoader(b), nil
	}
	names := []string{"common.json", "statement-" + version + ".json"}
	compile := func(ref string) (*gojsonschema.Schema, error) {
		sl := gojsonschema.NewSchemaLoader()
		sl.Draft = gojsonschema.Draft7
		sl.AutoDetect = false
		sl.Validate = true
		for _, name := range names {
			l, err := load(name)
			if err != nil {
				return nil, err
			}
			if err := sl.AddSchemas(l); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		return sl.Compile(gojsonschema.NewStringLoader(`{"$ref": "` + ref + `"}`))
	}
	stRef := schemaBase + "statement-" + version + ".json#/definitions/statement"
	agRef := schemaBase + "common.json#/definitions/agentParameter"
	st, err := compile(stRef)
	if err != nil {
		return nil, err
	}
	ag, err := compile(agRef)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(schemaFiles, "schema")
	if err != nil {
		return nil, err
	}
	stShape, err := compileShape(sub, names, stRef)
	if err != nil {
		return nil, err
	}
	agShape, err := compileShape(sub, names, agRef)
	if err != nil {
		return nil, err
	}
	return &schemaSet{statement: st, agent: ag, statementShape: stShape, agentShape: agShape}, nil
}

// checkSchema is validateSchema for documents that may well conform: it
// runs gojsonschema only when shape finds a violation.
func checkSchema(s *gojsonschema.Schema, sh *shape, doc any, prefix *path) (Errors, error) {
	if sh.conforms(doc) {
		return nil, nil
	}
	return validateSchema(s, sh, doc, prefix.String())
}

// validateSchema checks doc, a value from decode, against s and turns the
// library's findings into Errors under prefix. Sh is the shape of the same
// schema, which points at the violation should the library fail.
func validateSchema(s *gojsonschema.Schema, sh *shape, doc any, prefix string) (errs Errors, err error) {
	defer func() {
		if recover() != nil {
			// The library panicked on doc. It does so on a value it
			// cannot re-encode to compare with a const or an enum, such
			// as a number outside float64 range; decode admits those only
			// in the values of extensions, which the schemas leave
			// unchecked, so this is not expected. But doc is client input
			// and must never crash the LRS: it is rejected at the first
			// place the shape finds it does not conform, that one
			// violation standing for all of them.
			errs, err = Errors{recoveredError(sh, doc, prefix)}, nil
		}
	}()
	res, err := s.Validate(gojsonschema.NewRawLoader(doc))
	if err != nil {
		return nil, err
	}
	for _, re := range res.Errors() {
		e, ok := translate(re)
		if !ok {
			continue
		}
		e.Path = prefix + e.Path
		errs = append(errs, e)
	}
	return errs, nil
}

// recoveredError is the Error reported for doc when the schema library
// panics on it: where the shape finds the first violation or, should the
// shape find none, at prefix itself.
func recoveredError(sh *shape, doc any, prefix string) Error {
	if at, rule, ok := sh.violation(doc); ok {
		return Error{Path: prefix + at, Rule: rule}
	}
	return Error{Path: prefix, Rule: "could not be checked against the structure the specification requires"}
}

// translate turns one gojsonschema error into an Error with a JSON Pointer
// and a plain-English rule. Errors that only summarise others (if/then,
// oneOf) are dropped.
func translate(re gojsonschema.ResultError) (Error, bool) {
	path := pointer(re.Context())
	d := re.Details()
	str := func(k string) string { s, _ := d[k].(string); return s }
	switch re.Type() {
	case "condition_then", "condition_else", "number_one_of", "number_any_of", "number_all_of":
		return Error{}, false
	case "required":
		return Error{Path: child(path, str("property")), Rule: ruleRequired}, true
	case "additional_property_not_allowed":
		return Error{Path: child(path, str("property")), Rule: ruleNotAllowed}, true
	case "invalid_type":
		return Error{Path: path, Rule: typeRule(str("expected"), str("given"))}, true
	case "enum":
		return Error{Path: path, Rule: enumRule(path, str("allowed"))}, true
	case "const":
		return Error{Path: path, Rule: "must be " + fmt.Sprint(d["allowed"])}, true
	case "array_min_items":
		return Error{Path: path, Rule: ruleNotEmpty}, true
	default:
		return Error{Path: path, Rule: re.Description()}, true
	}
}

// The rules of the schema's violations, shared by translate and
// shape.violation.
const (
	ruleRequired   = "is required"
	ruleNotAllowed = "is not a property allowed here (property names are case sensitive) (2.2.s4.b1.b5, 2.2.s4.b1.b7)"
	ruleNotEmpty   = "must not be an empty array"
)

// typeRule is the rule for a value of JSON type given where expected is
// required.
func typeRule(expected, given string) string {
	if given == "null" {
		return "must not be null (2.2.s4.b1.b1)"
	}
	if expected == "number" || expected == "boolean" {
		return fmt.Sprintf("must be a JSON %s, not %s (2.2.s4.b1.b2, 2.2.s4.b1.b3)", expected, article(given))
	}
	return fmt.Sprintf("must be %s, not %s", article(expected), article(given))
}

// enumRule is the rule for a value at path that is none of allowed, the
// JSON strings of an enumeration joined with ", ".
func enumRule(path, allowed string) string {
	if strings.Contains(path, "/member/") && strings.HasSuffix(path, "/objectType") {
		return `must be "Agent": the members of a Group are Agents, not Groups (2.4.2.2.s4.b2, 2.4.2.2.s5.b2)`
	}
	if !strings.Contains(allowed, ", ") {
		return "must be " + allowed + " (exact case, 2.2.s4.b1.b6)"
	}
	return "must be one of " + allowed + " (exact case, 2.2.s4.b1.b6)"
}

func article(jsonType string) string {
	switch jsonType {
	case "object", "array", "integer":
		return "an " + jsonType
	case "null":
		return "null"
	}
	return "a " + jsonType
}

// pointer converts a gojsonschema context ("(root).actor.mbox") into a JSON
// Pointer ("/actor/mbox"). A NUL separator keeps keys that contain dots,
// such as extension IRIs, intact.
func pointer(c *gojsonschema.JsonContext) string {
	if c == nil {
		return ""
	}
	parts := strings.Split(c.String("\x00"), "\x00")
	var b strings.Builder
	for _, p := range parts[1:] { // parts[0] is "(root)"
		b.WriteString(child("", p))
	}
	return b.String()
}

// sortErrors orders errs by path, comparing array indexes numerically, then
// by rule, and drops exact duplicates.
func sortErrors(errs Errors) Errors {
	sort.SliceStable(errs, func(i, j int) bool {
		if c := comparePaths(errs[i].Path, errs[j].Path); c != 0 {
			return c < 0
		}
		return errs[i].Rule < errs[j].Rule
	})
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && e == errs[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

func comparePaths(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		if isDigitString(as[i]) && isDigitString(bs[i]) && len(as[i]) != len(bs[i]) {
			return len(as[i]) - len(bs[i])
		}
		return strings.Compare(as[i], bs[i])
	}
	return len(as) - len(bs)
}
