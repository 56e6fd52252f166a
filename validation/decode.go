package validation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// maxDepth bounds nesting of arrays and objects, extensions included,
	// so that hostile input cannot exhaust the stack.
	maxDepth = 256
	// maxNumberLen bounds the length of a number literal outside the
	// values of extensions; the schema library parses numbers as exact
	// rationals.
	maxNumberLen = 100
)

// syntaxRule starts the rule of every error that means "not JSON at all".
const syntaxRule = "is not valid JSON"

// decode parses data, a request body of statements, as a single JSON value
// (RFC 8259) with the strictness the specification asks for: valid UTF-8,
// no duplicate keys in any object (2.2.s2.b2), numbers kept exact
// (json.Number) and, outside the values of extensions, within float64
// range. The value is built from map[string]any, []any, string,
// json.Number, bool and nil.
func decode(data []byte) (any, Errors) {
	b, errs := decodeBody(data, placeBody)
	return b.value, errs
}

// span is the byte range [start, end) of a value in the input.
type span struct{ start, end int }

// body is a decoded request body: its value, where the value lies in the
// input without the surrounding whitespace and, if it is an array, where
// each element lies.
type body struct {
	value any
	span  span
	elems []span
}

// decodeBody is decode that also reports where the top-level value and,
// for an array, each of its elements lie in data. Root is the place of the
// top-level value: placeBody for statements, placeOther for a document
// that has no extensions, such as an agent parameter.
func decodeBody(data []byte, root place) (body, Errors) {
	if !utf8.Valid(data) {
		return body{}, Errors{{Path: "", Rule: "is not valid UTF-8"}}
	}
	p := &parser{data: data}
	p.skipSpace()
	if p.pos == len(data) {
		return body{}, Errors{{Path: "", Rule: "is empty; a JSON value is required"}}
	}
	start := p.pos
	v, ok := p.value(0, root)
	end := p.pos
	if ok {
		p.skipSpace()
		if p.pos != len(data) {
			p.fail("unexpected data after the top-level value")
			ok = false
		}
	}
	if !ok {
		return body{}, p.errs[len(p.errs)-1:] // only the fatal error
	}
	if len(p.errs) > 0 {
		return body{}, p.errs
	}
	return body{value: v, span: span{start, end}, elems: p.elems}, nil
}

// parser is a small recursive-descent JSON parser. It keeps the path of
// the value being parsed as a stack of keys so that a JSON Pointer is built
// only when there is something to report.
type parser struct {
	data  []byte
	pos   int
	keys  []string
	errs  Errors
	elems []span // of the elements of a top-level array
	stack []any  // elements of the arrays being parsed
}

func (p *parser) path() string {
	var b strings.Builder
	for _, k := range p.keys {
		b.WriteString(child("", k))
	}
	return b.String()
}

// report records a non-fatal violation at the current path.
func (p *parser) report(rule string) {
	p.errs = append(p.errs, Error{Path: p.path(), Rule: rule})
}

// fail records a fatal syntax error; parsing stops.
func (p *parser) fail(msg string) bool {
	p.errs = append(p.errs, Error{Path: "", Rule: fmt.Sprintf("%s: %s (offset %d)", syntaxRule, msg, p.pos)})
	return false
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at pl.
func (p *parser) value(depth int, pl place) (any, bool) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			p.errs = append(p.errs, Error{Path: p.path(), Rule: fmt.Sprintf("is nested more than %d levels deep", maxDepth)})
			return nil, false
		}
		if c == '{' {
			return p.object(depth+1, pl)
		}
		return p.array(depth+1, pl)
	case c == '"':
		s, boxed, ok := p.string()
		if boxed != nil {
			return boxed, ok
		}
		return s, ok
	case c == '-' || isDigit(c):
		n, ok := p.number()
		if !ok {
			return nil, false
		}
		if len(n) == 1 {
			return digits[n[0]-'0'], true
		}
		lit := string(n)
		if pl != placeExtension {
			p.checkNumber(lit)
		}
		return json.Number(lit), true
	case p.literal("true"):
		return true, true
	case p.literal("false"):
		return false, true
	case p.literal("null"):
		return nil, true
	default:
		return nil, p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *parser) literal(word string) bool {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) object(depth int, pl place) (any, bool) {
	p.pos++ // '{'
	m := make(map[string]any)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, true
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a string key")
		}
		key, _, ok := p.string()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':' after object key")
		}
		p.pos++
		p.keys = append(p.keys, key)
		v, ok := p.value(depth, pl.member(key))
		if !ok {
			return nil, false
		}
		// On a repeated key the later value wins, but decode then
		// returns only errors.
		n := len(m)
		m[key] = v
		if len(m) == n {
			p.report("property used more than once (2.2.s2.b2)")
		}
		p.keys = p.keys[:len(p.keys)-1]
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, true
		default:
			return nil, p.fail("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int, pl place) (any, bool) {
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return []any{}, true
	}
	base := len(p.stack)
	for i := 0; ; i++ {
		p.keys = append(p.keys, strconv.Itoa(i))
		p.skipSpace()
		start := p.pos
		v, ok := p.value(depth, pl.element())
		if !ok {
			return nil, false
		}
		if depth == 1 {
			p.elems = append(p.elems, span{start, p.pos})
		}
		p.keys = p.keys[:len(p.keys)-1]
		p.stack = append(p.stack, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			a := make([]any, len(p.stack)-base)
			copy(a, p.stack[base:])
			p.stack = p.stack[:base]
			return a, true
		default:
			return nil, p.fail("expected ',' or ']' in array")
		}
	}
}

// string parses a JSON string starting at the opening quote. Unpaired
// surrogate escapes become U+FFFD, as in encoding/json. A string without
// escapes that is in interned comes from there, with boxed holding it as a
// ready any value.
func (p *parser) string() (s string, boxed any, ok bool) {
	p.pos++ // '"'
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if !stringSpecial[c] {
			p.pos++
			continue
		}
		switch {
		case c == '"':
			b := p.data[start:p.pos]
			p.pos++
			if len(b) <= maxInterned {
				if v, ok := interned[string(b)]; ok {
					return v.(string), v, true
				}
			}
			return string(b), nil, true
		case c == '\\':
			s, ok := p.escapedString(start)
			return s, nil, ok
		default:
			return "", nil, p.fail("control character in string")
		}
	}
	return "", nil, p.fail("unexpected end of input in string")
}

// stringSpecial marks the bytes that end the plain run of a JSON string:
// the quote, the backslash and control characters.
var stringSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func (p *parser) escapedString(start int) (string, bool) {
	var b strings.Builder
	b.Write(p.data[start:p.pos])
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), true
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			break
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail(`invalid \u escape in string`)
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					if r2, ok = p.hex4(); !ok {
						return "", p.fail(`invalid \u escape in string`)
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						continue
					}
					p.pos = save // not a pair: decode the second escape on its own
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			return "", p.fail("invalid escape in string")
		}
	}
	return "", p.fail("unexpected end of input in string")
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, true
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns
// the literal, which aliases the input.
func (p *parser) number() ([]byte, bool) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.fail("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.fail("invalid number")
		}
	}
	return p.data[start:p.pos], true
}

// A place is where a value lies in a request body of statements, as far
// as numbers are concerned. The value of an extension is any JSON
// (4.1.s3.b2) and is stored as received, so its numbers need not fit a
// float64; everywhere else they must, because a number there is either one
// the specification gives a meaning to (a score, a length) or one the
// document has no business holding, and the schema library cannot even
// compare a number outside float64 range with the constants of the schemas.
//
// The places follow, through both versions' schemas, the properties that
// lead to an extensions object: the result and context of a statement or
// SubStatement, the definition of an Activity (the object of either, or in
// contextActivities), and the extensions of a context. An object that is
// merely named "extensions" somewhere else is placeOther like its
// surroundings; TestPlaces_MatchSchemas holds this list to the schemas.
type place uint8

const (
	placeOther             place = iota // nowhere an extension can be
	placeBody                           // the body: a statement or an array of statements
	placeStatement                      // an element of the body
	placeObject                         // a statement's object (an Activity or a SubStatement, among others)
	placeSubObject                      // a SubStatement's object
	placeContext                        // a context
	placeContextActivities              // a context's contextActivities
	placeContextActivity                // an Activity or an array of Activities in contextActivities
	placeActivity                       // an element of such an array
	placeHolder                         // a result or an activity definition
	placeExtensions                     // an extensions object
	placeExtension                      // in the value of an extension
)

// member returns the place of the property key of an object at pl.
func (pl place) member(key string) place {
	switch pl {
	case placeOther:
	case placeBody, placeStatement:
		switch key {
		case "result":
			return placeHolder
		case "context":
			return placeContext
		case "object":
			return placeObject
		}
	case placeObject:
		switch key {
		case "definition", "result":
			return placeHolder
		case "context":
			return placeContext
		case "object":
			return placeSubObject
		}
	case placeSubObject, placeContextActivity, placeActivity:
		if key == "definition" {
			return placeHolder
		}
	case placeContext:
		switch key {
		case "extensions":
			return placeExtensions
		case "contextActivities":
			return placeContextActivities
		}
	case placeContextActivities:
		switch key {
		case "parent", "grouping", "category", "other":
			return placeContextActivity
		}
	case placeHolder:
		if key == "extensions" {
			return placeExtensions
		}
	case placeExtensions, placeExtension:
		return placeExtension
	}
	return placeOther
}

// element returns the place of the elements of an array at pl.
func (pl place) element() place {
	switch pl {
	case placeBody:
		return placeStatement
	case placeContextActivity:
		return placeActivity
	case placeExtension:
		return placeExtension
	}
	return placeOther
}

func (p *parser) checkNumber(n string) {
	if len(n) > maxNumberLen {
		p.report(fmt.Sprintf("number literal is longer than %d characters", maxNumberLen))
		return
	}
	if _, err := strconv.ParseFloat(n, 64); err != nil {
		p.report("number is out of range")
	}
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// child returns the JSON Pointer of key (or array index) under path.
func child(path, key string) string {
	if strings.ContainsAny(key, "~/") {
		key = pointerEscaper.Replace(key)
	}
	return path + "/" + key
}

// digits holds the one-digit numbers, boxed once.
var digits = [10]any{
	json.Number("0"), json.Number("1"), json.Number("2"), json.Number("3"), json.Number("4"),
	json.Number("5"), json.Number("6"), json.Number("7"), json.Number("8"), json.Number("9"),
}

// maxInterned is the length of the longest string in interned.
const maxInterned = 23 // correctResponsesPattern

// interned holds, boxed once, the strings that statements repeat: the
// property names of the schemas, the values of their enumerations and
// common language tags. decode takes them from here instead of allocating.
var interned = func() map[string]any {
	m := make(map[string]any)
	for _, s := range strings.Fields(`
		account actor agent attachments authority category choices completion
		context contextActivities contextAgents contextGroups contentType
		correctResponsesPattern definition description display duration
		extensions fileUrl group grouping homePage id instructor
		interactionType language length max mbox mbox_sha1sum member min
		moreInfo name object objectType openid other parent platform raw
		registration relevantTypes response result revision scale scaled
		score sha2 source statement steps stored success target team
		timestamp type usageType verb version

		Activity Agent Group StatementRef SubStatement contextAgent
		contextGroup true-false choice fill-in long-fill-in matching
		performance sequencing likert numeric other

		1.0.0 1.0.1 1.0.2 1.0.3 2.0.0

		und en en-US en-GB en-AU en-CA de de-DE de-AT de-CH fr fr-FR fr-CA
		es es-ES es-MX es-419 it it-IT nl nl-NL pt pt-BR pt-PT ja ja-JP zh
		zh-CN zh-TW ko ko-KR ru ru-RU pl pl-PL sv sv-SE da da-DK fi fi-FI
		nb nb-NO tr tr-TR ar ar-SA he he-IL hi hi-IN
	`) {
		m[s] = s
	}
	return m
}()
