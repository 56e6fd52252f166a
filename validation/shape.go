package validation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// A shape is a schema compiled into Go: it answers only whether a decoded
// document conforms. It understands the subset of JSON Schema draft-07 that
// the embedded schemas use, and compileShape rejects any other keyword, so
// a schema file cannot say something the shape silently ignores.
//
// The shape decides whether gojsonschema needs to run at all: a document
// that conforms has no schema errors to report, and one that does not is
// handed to gojsonschema, which names the violations. Its verdict must
// therefore match gojsonschema's on every document that decode can return.
type shape struct {
	never bool     // the schema false
	kind  jsonKind // required JSON type; kindAny when "type" is absent

	// Objects.
	props      []prop   // "properties", sorted by name
	nRequired  int      // how many props are required
	required   []string // required names that are not in props
	closed     bool     // "additionalProperties": false
	additional *shape   // "additionalProperties" as a schema; nil allows any

	// Arrays.
	items    *shape // "items" as a single schema
	minItems int

	// Any value.
	enum             []string // "enum" or "const"; only strings are supported
	hasEnum          bool
	ifS, thenS, elsS *shape
	not              *shape
}

type prop struct {
	name     string
	shape    *shape
	required bool
}

type jsonKind uint8

const (
	kindAny jsonKind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBoolean
	kindNull
)

var kindNames = map[string]jsonKind{
	"object":  kindObject,
	"array":   kindArray,
	"string":  kindString,
	"number":  kindNumber,
	"boolean": kindBoolean,
	"null":    kindNull,
}

// conforms reports whether v, a value built by decode, is valid against s.
// It does not allocate.
func (s *shape) conforms(v any) bool {
	if s.never {
		return false
	}
	var k jsonKind
	switch v.(type) {
	case map[string]any:
		k = kindObject
	case []any:
		k = kindArray
	case string:
		k = kindString
	case json.Number:
		k = kindNumber
	case bool:
		k = kindBoolean
	case nil:
		k = kindNull
	default:
		return false // not a value decode builds: leave it to gojsonschema
	}
	if s.kind != kindAny && s.kind != k {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		if !s.object(x) {
			return false
		}
	case []any:
		if len(x) < s.minItems {
			return false
		}
		if s.items != nil {
			for _, e := range x {
				if !s.items.conforms(e) {
					return false
				}
			}
		}
	}
	if s.hasEnum {
		str, ok := v.(string)
		if !ok || !contains(s.enum, str) {
			return false
		}
	}
	if s.not != nil && s.not.conforms(v) {
		return false
	}
	if s.ifS != nil {
		if s.ifS.conforms(v) {
			if s.thenS != nil && !s.thenS.conforms(v) {
				return false
			}
		} else if s.elsS != nil && !s.elsS.conforms(v) {
			return false
		}
	}
	return true
}

func (s *shape) object(m map[string]any) bool {
	found := 0 // required props present
	if s.additional == nil {
		// Look up each property; with additionalProperties false, any
		// key left over is not allowed.
		if s.closed && len(m) > len(s.props) {
			return false
		}
		seen := 0
		for i := range s.props {
			p := &s.props[i]
			v, ok := m[p.name]
			if !ok {
				continue
			}
			seen++
			if p.required {
				found++
			}
			if !p.shape.conforms(v) {
				return false
			}
		}
		if s.closed && seen != len(m) {
			return false
		}
	} else {
		for k, v := range m {
			p := s.prop(k)
			switch {
			case p != nil:
				if p.required {
					found++
				}
				if !p.shape.conforms(v) {
					return false
				}
			case !s.additional.conforms(v):
				return false
			}
		}
	}
	if found != s.nRequired {
		return false
	}
	for _, name := range s.required {
		if _, ok := m[name]; !ok {
			return false
		}
	}
	return true
}

// violation returns the JSON Pointer, relative to v, of the first place
// where v does not conform to s, and the rule broken there; ok is false if
// v conforms. Gojsonschema names the violations of a document; this is for
// when it cannot (see validateSchema), so it favours plainness over speed.
func (s *shape) violation(v any) (at, rule string, ok bool) {
	return s.violationAt("", v)
}

// violationAt is violation for v at path.
func (s *shape) violationAt(path string, v any) (at, rule string, ok bool) {
	if s.conforms(v) {
		return "", "", false
	}
	here := func(rule string) (string, string, bool) { return path, rule, true }
	if s.never {
		return here("is not allowed here")
	}
	k := kindOf(v)
	if s.kind != kindAny && s.kind != k {
		given := kindName(k)
		if n, ok := v.(json.Number); ok {
			// Named as gojsonschema names it. No type applies inside
			// the values of extensions, and decode bounds numbers
			// everywhere else, so the exact value is cheap.
			if r, ok := new(big.Rat).SetString(string(n)); ok && r.IsInt() {
				given = "integer"
			}
		}
		return here(typeRule(kindName(s.kind), given))
	}
	if s.hasEnum {
		if str, isStr := v.(string); !isStr || !contains(s.enum, str) {
			quoted := make([]string, len(s.enum))
			for i, e := range s.enum {
				b, _ := json.Marshal(e)
				quoted[i] = string(b)
			}
			return here(enumRule(path, strings.Join(quoted, ", ")))
		}
	}
	if s.not != nil && s.not.conforms(v) {
		return here("has a value that is not allowed here")
	}
	switch x := v.(type) {
	case map[string]any:
		for _, p := range s.props {
			if _, present := x[p.name]; p.required && !present {
				return child(path, p.name), ruleRequired, true
			}
		}
		for _, name := range s.required {
			if _, present := x[name]; !present {
				return child(path, name), ruleRequired, true
			}
		}
		for _, key := range sortedKeys(x) {
			sub := s.additional
			if p := s.prop(key); p != nil {
				sub = p.shape
			} else if s.closed {
				return child(path, key), ruleNotAllowed, true
			}
			if sub != nil {
				if at, rule, ok := sub.violationAt(child(path, key), x[key]); ok {
					return at, rule, true
				}
			}
		}
	case []any:
		if len(x) < s.minItems {
			if s.minItems == 1 {
				return here(ruleNotEmpty)
			}
			return here(fmt.Sprintf("must have at least %d elements", s.minItems))
		}
		if s.items != nil {
			for i, e := range x {
				if at, rule, ok := s.items.violationAt(child(path, strconv.Itoa(i)), e); ok {
					return at, rule, true
				}
			}
		}
	}
	if s.ifS != nil {
		branch := s.elsS
		if s.ifS.conforms(v) {
			branch = s.thenS
		}
		if branch != nil {
			if at, rule, ok := branch.violationAt(path, v); ok {
				return at, rule, true
			}
		}
	}
	// Unreachable while violationAt follows conforms.
	return here("does not have the structure the specification requires here")
}

// kindOf returns the JSON type of v, a value built by decode, or kindAny
// for anything else.
func kindOf(v any) jsonKind {
	switch v.(type) {
	case map[string]any:
		return kindObject
	case []any:
		return kindArray
	case string:
		return kindString
	case json.Number:
		return kindNumber
	case bool:
		return kindBoolean
	case nil:
		return kindNull
	}
	return kindAny
}

// kindName returns the name of k in JSON Schema.
func kindName(k jsonKind) string {
	for name, kind := range kindNames {
		if kind == k {
			return name
		}
	}
	return "value of another kind"
}

// prop returns the property named name, or nil.
func (s *shape) prop(name string) *prop {
	for i := range s.props {
		if s.props[i].name == name {
			return &s.props[i]
		}
	}
	return nil
}

// annotations are the keywords that do not constrain a document.
var annotations = map[string]bool{
	"$schema":     true,
	"$comment":    true,
	"title":       true,
	"description": true,
	"definitions": true,
	"default":     true,
	"examples":    true,
}

// shapeCompiler compiles schema documents addressed by URI into shapes.
type shapeCompiler struct {
	docs    map[string]any    // schema documents by $id
	done    map[string]*shape // compiled shapes by absolute URI with fragment
	pending map[string]bool   // $refs being followed, to catch cycles
}

// compileShape loads the schema files names from fsys (each with an
// absolute "$id") and compiles the schema at ref, an absolute URI with a
// JSON Pointer fragment. It fails on any keyword or form it does not
// understand.
func compileShape(fsys fs.FS, names []string, ref string) (*shape, error) {
	c := &shapeCompiler{docs: make(map[string]any), done: make(map[string]*shape), pending: make(map[string]bool)}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m, _ := doc.(map[string]any)
		id, _ := m["$id"].(string)
		u, err := url.Parse(id)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, fmt.Errorf("%s: $id must be an absolute URI without a fragment, got %q", name, id)
		}
		c.docs[id] = doc
	}
	return c.ref(ref)
}

// ref compiles the schema at an absolute URI.
func (c *shapeCompiler) ref(uri string) (*shape, error) {
	if s, ok := c.done[uri]; ok {
		return s, nil
	}
	if c.pending[uri] {
		return nil, fmt.Errorf("%s: $ref cycle", uri)
	}
	base, fragment, _ := strings.Cut(uri, "#")
	doc, ok := c.docs[base]
	if !ok {
		return nil, fmt.Errorf("%s: no schema with this $id", uri)
	}
	v, err := resolvePointer(doc, fragment)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	c.pending[uri] = true
	defer delete(c.pending, uri)
	return c.schema(base, uri, v)
}

// schema compiles v, found at uri in the document whose $id is base.
func (c *shapeCompiler) schema(base, uri string, v any) (*shape, error) {
	if b, ok := v.(bool); ok {
		s := &shape{never: !b}
		c.done[uri] = s
		return s, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema must be an object or a boolean", uri)
	}
	if r, ok := m["$ref"]; ok {
		ref, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("%s: $ref must be a string", uri)
		}
		for k := range m {
			if k != "$ref" && !annotations[k] {
				return nil, fmt.Errorf("%s: keyword %q next to $ref, which draft-07 ignores", uri, k)
			}
		}
		b, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		r, err := url.Parse(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: $ref %q: %w", uri, ref, err)
		}
		target := b.ResolveReference(r)
		fragment := target.Fragment
		target.Fragment = ""
		s, err := c.ref(target.String() + "#" + fragment)
		if err != nil {
			return nil, err
		}
		c.done[uri] = s
		return s, nil
	}
	if id, ok := m["$id"]; ok && uri != base+"#" {
		return nil, fmt.Errorf("%s: $id %v inside a schema is not supported", uri, id)
	}

	s := &shape{}
	c.done[uri] = s // before the children, so that recursive $refs find it
	sub := func(key string, sv any) (*shape, error) {
		return c.schema(base, uri+"/"+escapePointer(key), sv)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	var err error
	for _, k := range keys {
		v := m[k]
		switch k {
		case "$id":
		case "type":
			name, _ := v.(string)
			kind, ok := kindNames[name]
			if !ok {
				return nil, fmt.Errorf("%s: type %v is not supported (one of object, array, string, number, boolean, null)", uri, v)
			}
			s.kind = kind
		case "properties":
			pm, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties must be an object", uri)
			}
			for _, name := range sortedKeys(pm) {
				ps, err := c.schema(base, uri+"/properties/"+escapePointer(name), pm[name])
				if err != nil {
					return nil, err
				}
				s.props = append(s.props, prop{name: name, shape: ps})
			}
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: required must be an array", uri)
			}
			for _, r := range list {
				name, ok := r.(string)
				if !ok {
					return nil, fmt.Errorf("%s: required must list strings", uri)
				}
				s.required = append(s.required, name)
			}
		case "additionalProperties":
			if b, ok := v.(bool); ok {
				s.closed = !b
				continue
			}
			if s.additional, err = sub(k, v); err != nil {
				return nil, err
			}
		case "items":
			if _, ok := v.([]any); ok {
				return nil, fmt.Errorf("%s: items as an array of schemas is not supported", uri)
			}
			if s.items, err = sub(k, v); err != nil {
				return nil, err
			}
		case "minItems":
			n, ok := v.(json.Number)
			i, err := strconv.Atoi(string(n))
			if !ok || err != nil || i < 0 {
				return nil, fmt.Errorf("%s: minItems must be a non-negative integer", uri)
			}
			s.minItems = i
		case "const", "enum":
			list := []any{v}
			if k == "enum" {
				if list, ok = v.([]any); !ok || len(list) == 0 {
					return nil, fmt.Errorf("%s: enum must be a non-empty array", uri)
				}
			}
			if s.hasEnum {
				return nil, fmt.Errorf("%s: const and enum together are not supported", uri)
			}
			s.hasEnum = true
			for _, e := range list {
				str, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s: %s values other than strings are not supported", uri, k)
				}
				s.enum = append(s.enum, str)
			}
		case "if":
			if s.ifS, err = sub(k, v); err != nil {
				return nil, err
			}
		case "then":
			if s.thenS, err = sub(k, v); err != nil {
				return nil, err
			}
		case "else":
			if s.elsS, err = sub(k, v); err != nil {
				return nil, err
			}
		case "not":
			if s.not, err = sub(k, v); err != nil {
				return nil, err
			}
		default:
			if !annotations[k] {
				return nil, fmt.Errorf("%s: keyword %q is not supported", uri, k)
			}
		}
	}
	// Sort out required names: those among the properties are counted
	// while the properties are checked.
	var rest []string
	for _, name := range s.required {
		if p := s.prop(name); p != nil {
			if !p.required {
				p.required = true
				s.nRequired++
			}
		} else if !contains(rest, name) {
			rest = append(rest, name)
		}
	}
	s.required = rest
	return s, nil
}

// resolvePointer returns the value at a JSON Pointer fragment ("" or
// "/definitions/agent") of doc.
func resolvePointer(doc any, fragment string) (any, error) {
	if fragment == "" {
		return doc, nil
	}
	if !strings.HasPrefix(fragment, "/") {
		return nil, fmt.Errorf("fragment %q is not a JSON Pointer", fragment)
	}
	v := doc
	for _, tok := range strings.Split(fragment[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, fmt.Errorf("no %q in the schema", fragment)
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no %q in the schema", fragment)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("no %q in the schema", fragment)
		}
	}
	return v, nil
}

func escapePointer(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}
