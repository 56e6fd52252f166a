package validation

import (
	"fmt"
	"strings"
)

// Versions of the xAPI specification whose rules this package applies.
const (
	// V103 selects the rules of xAPI 1.0.3.
	V103 = "1.0.3"
	// V200 selects the rules of xAPI 2.0.0 (IEEE 9274.1.1).
	V200 = "2.0.0"
)

// Error is one violation: a JSON Pointer (RFC 6901; "" is the whole
// document) and the rule broken, in plain English.
type Error struct {
	Path string
	Rule string
}

// Error returns Path + ": " + Rule, or "statement: " + Rule for the whole
// document.
func (e Error) Error() string {
	if e.Path == "" {
		return "statement: " + e.Rule
	}
	return e.Path + ": " + e.Rule
}

// maxListed is how many violations Errors.Error spells out.
const maxListed = 5

// Errors is a list of violations sorted by path.
type Errors []Error

// Error joins the first few violations with "; ".
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(es)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Parsed is one statement of a validated request.
type Parsed struct {
	// Raw is the statement exactly as received, without the whitespace
	// around it. It is a sub-slice of the request body, not a copy.
	Raw []byte
	// Doc is the decoded statement as validated: map[string]any, []any,
	// string, json.Number, bool and nil. Callers may read it but must not
	// modify it; a changed Doc is no longer what was validated.
	Doc map[string]any
}

// Statement validates one statement object as received from a client
// (before the LRS adds stored, authority and so on) against the rules of
// version (V103 or V200). It returns nil or an Errors value.
func Statement(version string, data []byte) error {
	_, err := ParseStatement(version, data)
	return err
}

// ParseStatement validates one statement exactly as Statement does and
// returns it, so that the caller need not decode it again.
func ParseStatement(version string, data []byte) (Parsed, error) {
	set, err := setup(version)
	if err != nil {
		return Parsed{}, err
	}
	b, errs := decodeBody(data, placeBody)
	if errs != nil {
		return Parsed{}, sortErrors(errs)
	}
	errs, err = statement(set, version, b.value, &path{})
	if err != nil {
		return Parsed{}, err
	}
	if err := result(errs); err != nil {
		return Parsed{}, err
	}
	return parsed(data, b.span, b.value)
}

// Statements validates a POST body: a single statement object or a JSON
// array of statement objects, whose paths start with the index ("/0/...").
// An empty array is valid. Two statements of one array may not share an id.
func Statements(version string, data []byte) error {
	_, _, err := ParseStatements(version, data)
	return err
}

// ParseStatements validates a POST body exactly as Statements does (same
// errors) and returns its statements in order: one for a single object,
// one per element for an array (none for []). Batch reports whether the
// body is a JSON array. On error, stmts is nil.
func ParseStatements(version string, data []byte) (stmts []Parsed, batch bool, err error) {
	set, err := setup(version)
	if err != nil {
		return nil, false, err
	}
	b, errs := decodeBody(data, placeBody)
	if errs != nil {
		return nil, false, sortErrors(errs)
	}
	list, batch := b.value.([]any)
	if !batch {
		errs, err = statement(set, version, b.value, &path{})
		if err != nil {
			return nil, false, err
		}
		if err := result(errs); err != nil {
			return nil, false, err
		}
		st, err := parsed(data, b.span, b.value)
		if err != nil {
			return nil, false, err
		}
		return []Parsed{st}, false, nil
	}
	ids := make(map[string]int)
	for i, st := range list {
		prefix := (&path{}).index(i)
		es, err := statement(set, version, st, prefix)
		if err != nil {
			return nil, true, err
		}
		errs = append(errs, es...)
		if m, ok := st.(map[string]any); ok {
			if id, ok := m["id"].(string); ok && isUUID(id) {
				key := strings.ToLower(id)
				if first, dup := ids[key]; dup {
					errs = append(errs, Error{Path: prefix.at("id").String(), Rule: fmt.Sprintf("repeats the id of statement /%d in the same request", first)})
				} else {
					ids[key] = i
				}
			}
		}
	}
	if err := result(errs); err != nil {
		return nil, true, err
	}
	stmts = make([]Parsed, len(list))
	for i, st := range list {
		if stmts[i], err = parsed(data, b.elems[i], st); err != nil {
			return nil, true, err
		}
	}
	return stmts, true, nil
}

// parsed pairs a valid statement with its bytes.
func parsed(data []byte, sp span, v any) (Parsed, error) {
	m, ok := v.(map[string]any)
	if !ok {
		// The schema requires an object; reaching here is a bug.
		return Parsed{}, fmt.Errorf("validation: statement of type %T passed validation", v)
	}
	return Parsed{Raw: data[sp.start:sp.end:sp.end], Doc: m}, nil
}

// Agent validates an agent parameter value (GET /statements and the
// state and agent profile resources): a JSON object that is an Agent or an
// identified Group (exactly one inverse functional identifier). Paths are
// relative to that object.
func Agent(version string, data []byte) error {
	set, err := setup(version)
	if err != nil {
		return err
	}
	b, errs := decodeBody(data, placeOther)
	if errs != nil {
		return sortErrors(errs)
	}
	doc := b.value
	errs, err = checkSchema(set.agent, set.agentShape, doc, &path{})
	if err != nil {
		return err
	}
	c := &checker{version: version, errs: errs}
	c.agentParameter(&path{}, doc)
	return result(c.errs)
}

func setup(version string) (*schemaSet, error) {
	if version != V103 && version != V200 {
		return nil, Errors{{Path: "", Rule: fmt.Sprintf("xAPI version %q is not supported (use %s or %s)", version, V103, V200)}}
	}
	return schemasFor(version)
}

// statement runs the schema and the Go rules over one decoded statement.
func statement(set *schemaSet, version string, doc any, prefix *path) (Errors, error) {
	errs, err := checkSchema(set.statement, set.statementShape, doc, prefix)
	if err != nil {
		return nil, err
	}
	c := &checker{version: version, errs: errs}
	if m, ok := doc.(map[string]any); ok {
		c.statement(prefix, m, false)
	}
	return c.errs, nil
}

func result(errs Errors) error {
	if len(errs) == 0 {
		return nil
	}
	return sortErrors(errs)
}
