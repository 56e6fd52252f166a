package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Outcome is what Check found, as in the communication document's
// `validates` algorithm (section 2.1).
type Outcome int

const (
	// Unmatched: no template's determining properties match the statement.
	Unmatched Outcome = iota
	// Matched: one or more templates match and all their rules hold.
	Matched
	// Invalid: at least one matching template has a rule that does not hold.
	Invalid
)

func (o Outcome) String() string {
	switch o {
	case Matched:
		return "matched"
	case Invalid:
		return "invalid"
	}
	return "unmatched"
}

// Violation is one rule of one template that a statement breaks.
type Violation struct {
	// Template is the id of the template (or the name of an extra rule).
	Template string `json:"template"`
	// Rule is the index of the rule in the template's rules; -1 for the
	// template's StatementRef requirements (objectStatementRefTemplate,
	// contextStatementRefTemplate).
	Rule int `json:"rule"`
	// Location is the rule's location, with its selector when it has one.
	Location string `json:"location"`
	// Message says what was found and what the rule wants.
	Message string `json:"message"`
}

func (v Violation) Error() string {
	return fmt.Sprintf("template %s rule %d (%s): %s", v.Template, v.Rule, v.Location, v.Message)
}

// Result is the outcome of checking one statement.
type Result struct {
	Outcome Outcome
	// Matched are the templates whose determining properties match and
	// whose rules all hold.
	Matched []string
	// Failed are the templates whose determining properties match but
	// some of whose rules do not hold.
	Failed []string
	// Violations are the broken rules of the Failed templates and of the
	// extra rules.
	Violations []Violation
	// Unchecked are StatementRef requirements that could not be checked
	// because the referenced statement was not available (no Resolve, or
	// Resolve did not find it). They do not make the outcome Invalid.
	Unchecked []Violation
}

// Options are the per-check parameters of Check.
type Options struct {
	// Resolve returns the statement with id (decoded, as Check takes it),
	// for the objectStatementRefTemplate and contextStatementRefTemplate
	// requirements. Nil means those are reported as Unchecked.
	Resolve func(id string) (map[string]any, bool)
	// Extra rules apply to every statement that matches at least one
	// template: requirements that depend on who checks, such as the
	// tenant's identity home page, that a profile document cannot hold.
	Extra []*ExtraRule
}

// ExtraRule is a rule given per check rather than by the profile.
type ExtraRule struct {
	name string
	rule compiledRule
}

// NewExtraRule compiles r as an extra rule reported under name (as a
// Violation's Template, with Rule 0).
func NewExtraRule(name string, r Rule) (*ExtraRule, error) {
	var ps problems
	cr := compileRule(&ps, name, 0, &r)
	if len(ps) > 0 {
		return nil, &LoadError{Problems: ps}
	}
	return &ExtraRule{name: name, rule: cr}, nil
}

// compiled is a template ready for Check.
type compiled struct {
	t      *Template
	rules  []compiledRule
	objRef map[string]bool
	ctxRef map[string]bool
}

// compiledRule is a rule with its paths compiled and values normalized.
type compiledRule struct {
	index          int
	presence       string
	loc, sel       *Path
	where          string
	any, all, none []any
}

// index finds templates by their verb.
type index struct {
	byVerb  map[string][]*compiled
	anyVerb []*compiled
	byID    map[string]*compiled
}

func (p *Profile) compile(ps *problems) {
	p.byVerb, p.byID = map[string][]*compiled{}, map[string]*compiled{}
	for i := range p.Templates {
		t := &p.Templates[i]
		c := &compiled{t: t, objRef: set(t.ObjectStatementRefTemplate), ctxRef: set(t.ContextStatementRefTemplate)}
		for j := range t.Rules {
			c.rules = append(c.rules, compileRule(ps, fmt.Sprintf("templates[%d].rules[%d]", i, j), j, &t.Rules[j]))
		}
		p.byID[t.ID] = c
		if t.Verb != "" {
			p.byVerb[t.Verb] = append(p.byVerb[t.Verb], c)
		} else {
			p.anyVerb = append(p.anyVerb, c)
		}
	}
}

func compileRule(ps *problems, where string, j int, r *Rule) compiledRule {
	cr := compiledRule{index: j, presence: r.Presence, where: r.Location,
		any: normalizeAll(r.Any), all: normalizeAll(r.All), none: normalizeAll(r.None)}
	var err error
	if cr.loc, err = CompilePath(r.Location); err != nil {
		ps.add(where+".location", "%v", err)
	}
	if r.Selector != "" {
		if cr.sel, err = CompilePath(r.Selector); err != nil {
			ps.add(where+".selector", "%v", err)
		}
		cr.where += " selector " + r.Selector
	}
	return cr
}

func set(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// CheckJSON decodes one statement and checks it; an error means the data
// is not a JSON object.
func (p *Profile) CheckJSON(data []byte, o *Options) (Result, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return Result{}, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return Result{}, errNotObject
	}
	return p.Check(m, o), nil
}

// Check validates a decoded statement (map[string]any, []any, string,
// json.Number or float64, bool, nil, as encoding/json gives) against the
// profile's templates: the communication document's `validates` (section
// 2.1). It never modifies doc. o may be nil.
func (p *Profile) Check(doc map[string]any, o *Options) Result {
	return p.check(doc, o, 0)
}

// maxRefDepth bounds how far Check follows StatementRefs through Resolve.
const maxRefDepth = 4

func (p *Profile) check(doc map[string]any, o *Options, depth int) Result {
	var res Result
	verb, _ := child(doc, "verb")["id"].(string)
	cands := p.byVerb[verb]
	if len(cands) == 0 && len(p.anyVerb) == 0 {
		return res
	}
	doc = normalize(doc)
	var buf []any
	for _, group := range [2][]*compiled{cands, p.anyVerb} {
		for _, c := range group {
			if !c.matches(doc) {
				continue
			}
			n := len(res.Violations)
			res.Violations, res.Unchecked = p.followRefs(c, doc, o, depth, res.Violations, res.Unchecked)
			for i := range c.rules {
				var v *Violation
				if v, buf = c.rules[i].follow(doc, buf[:0]); v != nil {
					v.Template = c.t.ID
					res.Violations = append(res.Violations, *v)
				}
			}
			if len(res.Violations) > n {
				res.Failed = append(res.Failed, c.t.ID)
			} else {
				res.Matched = append(res.Matched, c.t.ID)
			}
		}
	}
	if len(res.Matched)+len(res.Failed) == 0 {
		return res
	}
	if o != nil {
		for _, x := range o.Extra {
			var v *Violation
			if v, buf = x.rule.follow(doc, buf[:0]); v != nil {
				v.Template = x.name
				res.Violations = append(res.Violations, *v)
			}
		}
	}
	if len(res.Violations) > 0 {
		res.Outcome = Invalid
	} else {
		res.Outcome = Matched
	}
	return res
}

// matches reports whether the statement has all of the template's
// determining properties (section 8.0): equal, or a superset for the
// array-valued ones.
func (c *compiled) matches(doc map[string]any) bool {
	t := c.t
	if t.Verb != "" {
		if v, _ := child(doc, "verb")["id"].(string); v != t.Verb {
			return false
		}
	}
	if t.ObjectActivityType != "" {
		if v, _ := child(child(doc, "object"), "definition")["type"].(string); v != t.ObjectActivityType {
			return false
		}
	}
	ca := child(child(doc, "context"), "contextActivities")
	for _, d := range [...]struct {
		key  string
		want []string
	}{{"grouping", t.ContextGroupingActivityType}, {"parent", t.ContextParentActivityType},
		{"other", t.ContextOtherActivityType}, {"category", t.ContextCategoryActivityType}} {
		if len(d.want) > 0 && !hasAll(ca[d.key], d.want, func(m map[string]any) any { return child(m, "definition")["type"] }) {
			return false
		}
	}
	if len(t.AttachmentUsageType) > 0 && !hasAll(doc["attachments"], t.AttachmentUsageType, func(m map[string]any) any { return m["usageType"] }) {
		return false
	}
	return true
}

// hasAll reports whether the members of list (an array of objects) give,
// through get, every string of want.
func hasAll(list any, want []string, get func(map[string]any) any) bool {
	arr, _ := list.([]any)
	for _, w := range want {
		found := false
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok && get(m) == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// followRefs checks the template's StatementRef requirements (section
// 8.0; `follows_rules` of the communication document).
func (p *Profile) followRefs(c *compiled, doc map[string]any, o *Options, depth int, vs, un []Violation) ([]Violation, []Violation) {
	for _, ref := range [...]struct {
		want  map[string]bool
		prop  string
		where string
		obj   map[string]any
	}{{c.objRef, "objectStatementRefTemplate", "$.object", child(doc, "object")},
		{c.ctxRef, "contextStatementRefTemplate", "$.context.statement", child(child(doc, "context"), "statement")}} {
		if ref.want == nil {
			continue
		}
		v := Violation{Template: c.t.ID, Rule: -1, Location: ref.where}
		if ot, _ := ref.obj["objectType"].(string); ot != "StatementRef" {
			v.Message = fmt.Sprintf("must be a StatementRef (%s), found %s", ref.prop, describeObject(ref.obj))
			vs = append(vs, v)
			continue
		}
		id, _ := ref.obj["id"].(string)
		var target map[string]any
		found := false
		if o != nil && o.Resolve != nil && depth < maxRefDepth {
			target, found = o.Resolve(id)
		}
		if !found {
			v.Message = fmt.Sprintf("statement %s not available: %s not checked", id, ref.prop)
			un = append(un, v)
			continue
		}
		r := p.check(target, o, depth+1)
		ok := false
		for _, m := range r.Matched {
			ok = ok || ref.want[m]
		}
		if !ok {
			v.Message = fmt.Sprintf("statement %s follows none of the templates of %s (it follows %s)", id, ref.prop, listOrNone(r.Matched))
			vs = append(vs, v)
		}
	}
	return vs, un
}

func describeObject(m map[string]any) string {
	if m == nil {
		return "none"
	}
	if ot, ok := m["objectType"].(string); ok {
		return "objectType " + ot
	}
	return "an object without objectType"
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// follow applies one rule (`follows_rule` of the communication document,
// section 2.1) and returns the violation, if any, and buf for reuse.
func (r *compiledRule) follow(doc map[string]any, buf []any) (*Violation, []any) {
	values := r.loc.eval(doc, buf)
	unmatchable := 0
	if r.sel != nil {
		n := len(values)
		for i := 0; i < n; i++ {
			before := len(values)
			values = r.sel.eval(values[i], values)
			if len(values) == before {
				unmatchable++
			}
		}
		values = append(values[:0], values[n:]...)
	}
	fail := func(format string, args ...any) (*Violation, []any) {
		return &Violation{Rule: r.index, Location: r.where, Message: fmt.Sprintf(format, args...)}, values
	}
	strict := true
	switch r.presence {
	case Included:
		if unmatchable > 0 {
			return fail("selector found nothing in %d of the %d values of the location; must be included", unmatchable, unmatchable+len(values))
		}
		if len(values) == 0 {
			return fail("missing; must be included")
		}
	case Excluded:
		if len(values) > 0 {
			return fail("found %s; must be excluded", show(values[0]))
		}
	case Recommended:
		strict = false
	}
	some := len(values)+unmatchable > 0
	if r.any != nil && (strict || some) {
		hit := false
		for _, v := range values {
			if contains(r.any, v) {
				hit = true
				break
			}
		}
		if !hit {
			return fail("found %s; want at least one of %s", showValues(values), showValues(r.any))
		}
	}
	if r.all != nil && (strict || some) {
		if unmatchable > 0 {
			return fail("selector found nothing in %d of the %d values of the location; all must be one of %s", unmatchable, unmatchable+len(values), showValues(r.all))
		}
		for _, v := range values {
			if !contains(r.all, v) {
				return fail("found %s; every value must be one of %s", show(v), showValues(r.all))
			}
		}
	}
	if r.none != nil && (strict || some) {
		for _, v := range values {
			if contains(r.none, v) {
				return fail("found %s; must not be any of %s", show(v), showValues(r.none))
			}
		}
	}
	return nil, values
}

// child returns m[key] when it is an object.
func child(m map[string]any, key string) map[string]any {
	c, _ := m[key].(map[string]any)
	return c
}

// normalize returns doc with singleton contextActivities wrapped in
// arrays, as the structure document requires before rules are applied
// (section 8.1); doc itself is never changed, a copy is made only when
// needed. A SubStatement object is normalized likewise.
func normalize(doc map[string]any) map[string]any {
	out, copied := doc, false
	if ctx := normalizeContext(child(doc, "context")); ctx != nil {
		out, copied = shallow(doc), true
		out["context"] = ctx
	}
	if obj := child(doc, "object"); obj != nil && obj["objectType"] == "SubStatement" {
		if ctx := normalizeContext(child(obj, "context")); ctx != nil {
			o := shallow(obj)
			o["context"] = ctx
			if !copied {
				out = shallow(doc)
			}
			out["object"] = o
		}
	}
	return out
}

// normalizeContext returns a copy of ctx with singleton contextActivities
// wrapped, or nil when nothing needs wrapping.
func normalizeContext(ctx map[string]any) map[string]any {
	ca := child(ctx, "contextActivities")
	if ca == nil {
		return nil
	}
	var nca map[string]any
	for k, v := range ca {
		if m, ok := v.(map[string]any); ok {
			if nca == nil {
				nca = shallow(ca)
			}
			nca[k] = []any{m}
		}
	}
	if nca == nil {
		return nil
	}
	c := shallow(ctx)
	c["contextActivities"] = nca
	return c
}

func shallow(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// normalizeAll gives profile values the form contains compares: numbers
// as float64.
func normalizeAll(vs []any) []any {
	if vs == nil {
		return nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	case int:
		return float64(t)
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = normalizeValue(e)
		}
		return m
	case []any:
		return normalizeAll(t)
	}
	return v
}

// contains reports whether the normalized list holds v (a statement
// value): strings, booleans and null compare as such, numbers by value,
// objects and arrays by their members.
func contains(list []any, v any) bool {
	switch t := v.(type) {
	case string:
		for _, e := range list {
			if s, ok := e.(string); ok && s == t {
				return true
			}
		}
		return false
	case map[string]any, []any, json.Number, int:
		v = normalizeValue(t)
	}
	for _, e := range list {
		if f, ok := v.(float64); ok {
			if g, ok := e.(float64); ok && (f == g || math.IsNaN(f) && math.IsNaN(g)) {
				return true
			}
			continue
		}
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

// show renders a found value for a message, shortened.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func showValues(vs []any) string {
	if len(vs) == 0 {
		return "nothing"
	}
	parts := make([]string, 0, len(vs))
	for i, v := range vs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(vs)-5))
			break
		}
		parts = append(parts, show(v))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
