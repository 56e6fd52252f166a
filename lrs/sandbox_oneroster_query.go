package lrs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/digione/lrs/statements"
)

// The query parameters of the OneRoster 1.2 REST binding beyond paging,
// as the sandboxes' provider reads them:
//
//	filter=FIELD OP 'VALUE' [AND|OR FIELD OP 'VALUE' ...]
//	sort=FIELD&orderBy=asc|desc
//	fields=FIELD,FIELD,...
//
// OP is =, !=, >, >=, <, <= or ~ (contains, ignoring case); a FIELD of
// filter and sort may name a field inside another with dots
// (roles.role, class.sourcedId), through arrays too (any element
// matches). A comparison is numeric when the field is a number and the
// value reads as one, otherwise by the text. One kind of logical
// operator per filter, at most maxORPredicates predicates. An unknown
// field, or a filter that does not read, is 400 naming the parameter, as
// OneRoster's invalid_filter_field, invalid_sort_field and
// invalid_selection_field.

// maxORPredicates bounds the predicates of one filter; maxORQuery the
// length of a filter, sort or fields parameter.
const (
	maxORPredicates = 8
	maxORQuery      = 1024
)

// orQuery is what a collection request asks beyond paging.
type orQuery struct {
	preds  []orPredicate
	or     bool // the predicates are joined by OR, not AND
	sort   string
	desc   bool
	fields []string
}

type orPredicate struct{ field, op, value string }

// orQueryError is a bad query parameter, with OneRoster's code minor.
type orQueryError struct {
	minor string
	err   *statements.Error
}

func (e *orQueryError) Error() string { return e.err.Error() }

func badORQuery(minor, format string, args ...any) error {
	return &orQueryError{minor: minor, err: statements.Errorf(statements.EInvalid, format, args...)}
}

// orOps are the filter's operators, longest first.
var orOps = []string{">=", "<=", "!=", "=", ">", "<", "~"}

// orFieldsOf returns the JSON names of the fields of records of type t,
// those of embedded structs included.
func orFieldsOf(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k := range orFieldsOf(f.Type) {
				out[k] = true
			}
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// parseORQuery reads filter, sort, orderBy and fields (list: all four;
// otherwise fields only) against the fields of the collection's records.
func parseORQuery(get func(string) (string, bool), known map[string]bool, list bool) (*orQuery, error) {
	q := &orQuery{}
	knownPath := func(path string) bool {
		top, _, _ := strings.Cut(path, ".")
		return known[top]
	}
	for _, p := range []string{"filter", "sort", "orderBy", "fields"} {
		if v, ok := get(p); ok && len(v) > maxORQuery {
			return nil, badORQuery("invaliddata", "%s: longer than %d characters", p, maxORQuery)
		}
	}
	if v, ok := get("fields"); ok {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
				return nil, badORQuery("invalid_blank_selection_field", "fields: a blank field name")
			case !known[f]:
				return nil, badORQuery("invalid_selection_field", "fields: %q is not a field of these records", truncate(f, 64))
			}
			q.fields = append(q.fields, f)
		}
	}
	if !list {
		return q, nil
	}
	if v, ok := get("sort"); ok {
		q.sort = strings.TrimSpace(v)
		if !knownPath(q.sort) {
			return nil, badORQuery("invalid_sort_field", "sort: %q is not a field of these records", truncate(q.sort, 64))
		}
	}
	if v, ok := get("orderBy"); ok {
		switch v {
		case "asc":
		case "desc":
			q.desc = true
		default:
			return nil, badORQuery("invaliddata", "orderBy: must be asc or desc, got %q", truncate(v, 20))
		}
		if q.sort == "" {
			return nil, badORQuery("invalid_sort_field", "orderBy: needs a sort field")
		}
	}
	if v, ok := get("filter"); ok {
		preds, or, err := parseORFilter(v, knownPath)
		if err != nil {
			return nil, err
		}
		q.preds, q.or = preds, or
	}
	return q, nil
}

// parseORFilter reads a filter; known says whether a field may be named.
func parseORFilter(f string, known func(string) bool) ([]orPredicate, bool, error) {
	rest := strings.TrimSpace(f)
	var preds []orPredicate
	logic := ""
	for {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] == '_' || rest[i] >= '0' && rest[i] <= '9' ||
			rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z') {
			i++
		}
		if i == 0 {
			return nil, false, badORQuery("invalid_filter_field", "filter: want a field name at %q", truncate(rest, 40))
		}
		p := orPredicate{field: rest[:i]}
		if !known(p.field) {
			return nil, false, badORQuery("invalid_filter_field", "filter: %q is not a field of these records", truncate(p.field, 64))
		}
		rest = strings.TrimLeft(rest[i:], " ")
		for _, op := range orOps {
			if strings.HasPrefix(rest, op) {
				p.op, rest = op, strings.TrimLeft(rest[len(op):], " ")
				break
			}
		}
		if p.op == "" {
			return nil, false, badORQuery("invalid_filter_field", "filter: want an operator (= != > >= < <= ~) after %s", p.field)
		}
		if !strings.HasPrefix(rest, "'") {
			return nil, false, badORQuery("invalid_filter_field", "filter: want a value in single quotes after %s%s", p.field, p.op)
		}
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return nil, false, badORQuery("invalid_filter_field", "filter: the value after %s%s has no closing quote", p.field, p.op)
		}
		p.value, rest = rest[1:1+end], strings.TrimLeft(rest[2+end:], " ")
		preds = append(preds, p)
		if rest == "" {
			return preds, logic == "OR", nil
		}
		if len(preds) == maxORPredicates {
			return nil, false, badORQuery("invalid_filter_field", "filter: more than %d predicates", maxORPredicates)
		}
		op, after, _ := strings.Cut(rest, " ")
		if op != "AND" && op != "OR" {
			return nil, false, badORQuery("invalid_filter_field", "filter: want AND or OR at %q", truncate(rest, 40))
		}
		if logic != "" && op != logic {
			return nil, false, badORQuery("invalid_filter_field", "filter: AND and OR in one filter; use one of them")
		}
		logic, rest = op, strings.TrimLeft(after, " ")
	}
}

// orValuesAt returns the values at path in v, through objects and arrays.
func orValuesAt(v any, path []string) []any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, orValuesAt(e, path)...)
		}
		return out
	case map[string]any:
		if len(path) == 0 {
			return nil
		}
		next, ok := x[path[0]]
		if !ok {
			return nil
		}
		return orValuesAt(next, path[1:])
	}
	if len(path) > 0 || v == nil {
		return nil
	}
	return []any{v}
}

// orCompare compares a record's value with a filter's: numerically when
// both are numbers, else by text.
func orCompare(v any, want string) int {
	switch x := v.(type) {
	case float64:
		if w, err := strconv.ParseFloat(want, 64); err == nil {
			switch {
			case x < w:
				return -1
			case x > w:
				return 1
			}
			return 0
		}
		return strings.Compare(strconv.FormatFloat(x, 'f', -1, 64), want)
	case bool:
		return strings.Compare(strconv.FormatBool(x), want)
	}
	return strings.Compare(fmt.Sprint(v), want)
}

func (p orPredicate) match(rec map[string]any) bool {
	vals := orValuesAt(rec, strings.Split(p.field, "."))
	if p.op == "!=" {
		return !slices.ContainsFunc(vals, func(v any) bool { return orCompare(v, p.value) == 0 })
	}
	return slices.ContainsFunc(vals, func(v any) bool {
		c := orCompare(v, p.value)
		switch p.op {
		case "=":
			return c == 0
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		}
		return strings.Contains(strings.ToLower(fmt.Sprint(v)), strings.ToLower(p.value)) // ~
	})
}

// orMatch reports whether rec passes the predicates joined by OR (or)
// or AND; every record passes none.
func orMatch(preds []orPredicate, or bool, rec map[string]any) bool {
	if len(preds) == 0 {
		return true
	}
	for _, p := range preds {
		if p.match(rec) == or {
			return or
		}
	}
	return !or
}

// orApply filters and sorts records and selects their fields.
func orApply[T any](q *orQuery, records []T) ([]any, error) {
	out := make([]any, 0, len(records))
	if len(q.preds) == 0 && q.sort == "" && len(q.fields) == 0 {
		for _, r := range records {
			out = append(out, r)
		}
		return out, nil
	}
	maps := make([]map[string]any, 0, len(records))
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		if orMatch(q.preds, q.or, m) {
			maps = append(maps, m)
		}
	}
	if q.sort != "" {
		path := strings.Split(q.sort, ".")
		slices.SortStableFunc(maps, func(a, b map[string]any) int {
			va, vb := orValuesAt(a, path), orValuesAt(b, path)
			switch {
			case len(va) == 0 && len(vb) == 0:
				return 0
			case len(va) == 0:
				return 1 // records without the field last, either order
			case len(vb) == 0:
				return -1
			}
			c := orCompare(va[0], fmt.Sprint(vb[0]))
			if x, ok := va[0].(float64); ok {
				if y, ok := vb[0].(float64); ok {
					c = orCompare(x, strconv.FormatFloat(y, 'f', -1, 64))
				}
			}
			if q.desc {
				c = -c
			}
			return c
		})
	}
	for _, m := range maps {
		if len(q.fields) > 0 {
			sel := make(map[string]any, len(q.fields))
			for _, f := range q.fields {
				if v, ok := m[f]; ok {
					sel[f] = v
				}
			}
			m = sel
		}
		out = append(out, m)
	}
	return out, nil
}
