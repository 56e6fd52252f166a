package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ContextIRI is the JSON-LD context every profile names.
const ContextIRI = "https://w3id.org/xapi/profiles/context"

// ConformsTo is the profile specification version this package reads.
const ConformsTo = "https://w3id.org/xapi/profiles#1.0"

// Profile is an xAPI Profile as loaded by Parse, with its templates
// compiled for Check.
type Profile struct {
	ID         string          `json:"id"`
	Context    json.RawMessage `json:"@context"`
	Type       string          `json:"type"`
	ConformsTo string          `json:"conformsTo"`
	PrefLabel  LangMap         `json:"prefLabel"`
	Definition LangMap         `json:"definition"`
	SeeAlso    string          `json:"seeAlso,omitempty"`
	Versions   []Version       `json:"versions"`
	Author     Author          `json:"author"`
	Concepts   []Concept       `json:"concepts,omitempty"`
	Templates  []Template      `json:"templates,omitempty"`
	Patterns   []Pattern       `json:"patterns,omitempty"`

	index
}

// Version is one entry of a profile's version history.
type Version struct {
	ID              string `json:"id"`
	WasRevisionOf   IRIs   `json:"wasRevisionOf,omitempty"`
	GeneratedAtTime string `json:"generatedAtTime"`
}

// Author is the Organization or Person behind a profile.
type Author struct {
	Type string `json:"type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Concept is a verb, activity type, attachment usage type, extension,
// document resource or activity a profile defines. Only the properties a
// validator or a reader needs are kept; the rest stay in the document.
type Concept struct {
	ID                       string          `json:"id"`
	Type                     string          `json:"type"`
	InScheme                 string          `json:"inScheme"`
	PrefLabel                LangMap         `json:"prefLabel,omitempty"`
	Definition               LangMap         `json:"definition,omitempty"`
	Deprecated               bool            `json:"deprecated,omitempty"`
	Broader                  IRIs            `json:"broader,omitempty"`
	Narrower                 IRIs            `json:"narrower,omitempty"`
	RecommendedVerbs         IRIs            `json:"recommendedVerbs,omitempty"`
	RecommendedActivityTypes IRIs            `json:"recommendedActivityTypes,omitempty"`
	Schema                   string          `json:"schema,omitempty"`
	InlineSchema             json.RawMessage `json:"inlineSchema,omitempty"`
	ContentType              string          `json:"contentType,omitempty"`
	ActivityDefinition       json.RawMessage `json:"activityDefinition,omitempty"`
}

// Template is a Statement Template (structure document, section 8.0).
type Template struct {
	ID                          string  `json:"id"`
	Type                        string  `json:"type"`
	InScheme                    string  `json:"inScheme"`
	PrefLabel                   LangMap `json:"prefLabel"`
	Definition                  LangMap `json:"definition"`
	Deprecated                  bool    `json:"deprecated,omitempty"`
	Verb                        string  `json:"verb,omitempty"`
	ObjectActivityType          string  `json:"objectActivityType,omitempty"`
	ContextGroupingActivityType IRIs    `json:"contextGroupingActivityType,omitempty"`
	ContextParentActivityType   IRIs    `json:"contextParentActivityType,omitempty"`
	ContextOtherActivityType    IRIs    `json:"contextOtherActivityType,omitempty"`
	ContextCategoryActivityType IRIs    `json:"contextCategoryActivityType,omitempty"`
	AttachmentUsageType         IRIs    `json:"attachmentUsageType,omitempty"`
	ObjectStatementRefTemplate  IRIs    `json:"objectStatementRefTemplate,omitempty"`
	ContextStatementRefTemplate IRIs    `json:"contextStatementRefTemplate,omitempty"`
	Rules                       []Rule  `json:"rules,omitempty"`
}

// Rule is a Statement Template Rule (structure document, section 8.1).
type Rule struct {
	Location  string  `json:"location"`
	Selector  string  `json:"selector,omitempty"`
	Presence  string  `json:"presence,omitempty"`
	Any       Values  `json:"any,omitempty"`
	All       Values  `json:"all,omitempty"`
	None      Values  `json:"none,omitempty"`
	ScopeNote LangMap `json:"scopeNote,omitempty"`
}

// Presence values of a Rule.
const (
	Included    = "included"
	Excluded    = "excluded"
	Recommended = "recommended"
)

// Pattern is a Pattern (structure document, section 9.0). Patterns are
// loaded and checked for shape, but Check does not match statements
// against them.
type Pattern struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Primary    bool    `json:"primary,omitempty"`
	InScheme   string  `json:"inScheme,omitempty"`
	PrefLabel  LangMap `json:"prefLabel,omitempty"`
	Definition LangMap `json:"definition,omitempty"`
	Deprecated bool    `json:"deprecated,omitempty"`
	Alternates IRIs    `json:"alternates,omitempty"`
	Optional   IRI     `json:"optional,omitempty"`
	OneOrMore  IRI     `json:"oneOrMore,omitempty"`
	Sequence   IRIs    `json:"sequence,omitempty"`
	ZeroOrMore IRI     `json:"zeroOrMore,omitempty"`
}

// conceptTypes are the Concept types of section 7.
var conceptTypes = map[string]bool{
	"Verb": true, "ActivityType": true, "AttachmentUsageType": true,
	"ContextExtension": true, "ResultExtension": true, "ActivityExtension": true,
	"StateResource": true, "AgentProfileResource": true, "ActivityProfileResource": true,
	"Activity": true,
}

// LoadError lists what is wrong with a profile document, each problem
// naming its place, e.g. "templates[2].rules[0].location: ...".
type LoadError struct {
	Problems []string
}

func (e *LoadError) Error() string {
	if len(e.Problems) == 1 {
		return "xAPI profile: " + e.Problems[0]
	}
	return fmt.Sprintf("xAPI profile: %d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// Parse loads an xAPI Profile 1.0 document (JSON-LD, read as plain JSON as
// the structure document allows), checks that it is well formed enough to
// validate statements with, and compiles its templates. A broken profile
// gives a *LoadError.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, &LoadError{Problems: []string{"not a JSON profile document: " + err.Error()}}
	}
	if dec.More() {
		return nil, &LoadError{Problems: []string{"data after the profile document"}}
	}
	var probs problems
	p.validate(&probs)
	if len(probs) == 0 {
		p.compile(&probs)
	}
	if len(probs) > 0 {
		return nil, &LoadError{Problems: probs}
	}
	return &p, nil
}

// problems collects load problems.
type problems []string

func (ps *problems) add(where, format string, args ...any) {
	*ps = append(*ps, where+": "+fmt.Sprintf(format, args...))
}

// validate applies the structure document's requirements that matter to a
// validator: required properties, known types, references inside the
// profile and the rules' shape.
func (p *Profile) validate(ps *problems) {
	if !isIRI(p.ID) {
		ps.add("id", "must be an absolute IRI, got %q", p.ID)
	}
	if !contextNames(p.Context, ContextIRI) {
		ps.add("@context", "must be or contain %q", ContextIRI)
	}
	if p.Type != "Profile" {
		ps.add("type", "must be \"Profile\", got %q", p.Type)
	}
	if p.ConformsTo == "" {
		ps.add("conformsTo", "required (%s)", ConformsTo)
	}
	langMap(ps, "prefLabel", p.PrefLabel, true)
	langMap(ps, "definition", p.Definition, true)
	versions := map[string]bool{}
	if len(p.Versions) == 0 {
		ps.add("versions", "required: at least one version")
	}
	for i, v := range p.Versions {
		w := fmt.Sprintf("versions[%d]", i)
		if !isIRI(v.ID) {
			ps.add(w+".id", "must be an absolute IRI, got %q", v.ID)
		}
		if _, err := time.Parse(time.RFC3339, v.GeneratedAtTime); err != nil {
			ps.add(w+".generatedAtTime", "must be an RFC 3339 timestamp, got %q", v.GeneratedAtTime)
		}
		versions[v.ID] = true
	}
	if p.Author.Type != "Organization" && p.Author.Type != "Person" {
		ps.add("author.type", "must be \"Organization\" or \"Person\", got %q", p.Author.Type)
	}
	if p.Author.Name == "" {
		ps.add("author.name", "required")
	}
	ids := map[string]string{}
	seen := func(w, id string) {
		if prev, ok := ids[id]; ok {
			ps.add(w+".id", "%q is already the id of %s", id, prev)
		}
		ids[id] = w
	}
	inScheme := func(w, s string, required bool) {
		if s == "" && !required {
			return
		}
		// The profile's own id is taken too: published profiles use it.
		if !versions[s] && s != p.ID {
			ps.add(w+".inScheme", "must be the id of one of the profile's versions, got %q", s)
		}
	}
	for i, c := range p.Concepts {
		w := fmt.Sprintf("concepts[%d]", i)
		if !isIRI(c.ID) {
			ps.add(w+".id", "must be an absolute IRI, got %q", c.ID)
		}
		seen(w, c.ID)
		if !conceptTypes[c.Type] {
			ps.add(w+".type", "%q is not a concept type of xAPI Profiles 1.0", c.Type)
		}
		inScheme(w, c.InScheme, true)
		if c.Type != "Activity" {
			langMap(ps, w+".prefLabel", c.PrefLabel, true)
			langMap(ps, w+".definition", c.Definition, true)
		}
		if c.Schema != "" && len(c.InlineSchema) > 0 {
			ps.add(w, "must use at most one of schema and inlineSchema")
		}
	}
	templates := map[string]bool{}
	for _, t := range p.Templates {
		templates[t.ID] = true
	}
	for i, t := range p.Templates {
		w := fmt.Sprintf("templates[%d]", i)
		if !isIRI(t.ID) {
			ps.add(w+".id", "must be an absolute IRI, got %q", t.ID)
		}
		seen(w, t.ID)
		if t.Type != "StatementTemplate" {
			ps.add(w+".type", "must be \"StatementTemplate\", got %q", t.Type)
		}
		inScheme(w, t.InScheme, true)
		langMap(ps, w+".prefLabel", t.PrefLabel, true)
		langMap(ps, w+".definition", t.Definition, true)
		if t.ObjectActivityType != "" && len(t.ObjectStatementRefTemplate) > 0 {
			ps.add(w, "must not have both objectStatementRefTemplate and objectActivityType")
		}
		for _, ref := range [][]string{t.ObjectStatementRefTemplate, t.ContextStatementRefTemplate} {
			for _, id := range ref {
				if !templates[id] {
					ps.add(w, "StatementRef template %q is not a template of this profile", id)
				}
			}
		}
		for j, r := range t.Rules {
			rw := fmt.Sprintf("%s.rules[%d]", w, j)
			if r.Location == "" {
				ps.add(rw+".location", "required")
			}
			switch r.Presence {
			case "", Included, Excluded, Recommended:
			default:
				ps.add(rw+".presence", "must be included, excluded or recommended, got %q", r.Presence)
			}
			if r.Presence == "" && r.Any == nil && r.All == nil && r.None == nil {
				ps.add(rw, "must have at least one of presence, any, all and none")
			}
			for _, f := range [...]struct {
				name string
				vs   Values
			}{{"any", r.Any}, {"all", r.All}, {"none", r.None}} {
				if f.vs != nil && len(f.vs) == 0 {
					ps.add(rw+"."+f.name, "must not be an empty array")
				}
			}
		}
	}
	for i, pt := range p.Patterns {
		w := fmt.Sprintf("patterns[%d]", i)
		if !isIRI(pt.ID) {
			ps.add(w+".id", "must be an absolute IRI, got %q", pt.ID)
		}
		seen(w, pt.ID)
		if pt.Type != "Pattern" {
			ps.add(w+".type", "must be \"Pattern\", got %q", pt.Type)
		}
		inScheme(w, pt.InScheme, false)
		n := 0
		for _, set := range []bool{len(pt.Alternates) > 0, pt.Optional != "", pt.OneOrMore != "", len(pt.Sequence) > 0, pt.ZeroOrMore != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			ps.add(w, "must have exactly one of alternates, optional, oneOrMore, sequence and zeroOrMore, has %d", n)
		}
		if pt.Primary {
			langMap(ps, w+".prefLabel", pt.PrefLabel, true)
			langMap(ps, w+".definition", pt.Definition, true)
		}
	}
}

// langMap checks a language map: present when required, no empty values.
func langMap(ps *problems, where string, m LangMap, required bool) {
	if len(m) == 0 {
		if required {
			ps.add(where, "required: a language map")
		}
		return
	}
	for k, v := range m {
		if k == "" || v == "" {
			ps.add(where, "language map with an empty tag or text")
			return
		}
	}
}

// contextNames reports whether a JSON-LD @context value is iri or an array
// holding it.
func contextNames(raw json.RawMessage, iri string) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == iri
	}
	var arr []any
	if json.Unmarshal(raw, &arr) != nil {
		return false
	}
	for _, v := range arr {
		if v == iri {
			return true
		}
	}
	return false
}

// isIRI reports whether s looks like an absolute IRI: a scheme, ':' and
// something after it.
func isIRI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i == len(s)-1 || strings.ContainsAny(s, " \t\n<>\"{}|\\^`") {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// Template returns the template with id, or nil.
func (p *Profile) Template(id string) *Template {
	if c := p.byID[id]; c != nil {
		return c.t
	}
	return nil
}

// Concept returns the concept with id, or nil.
func (p *Profile) Concept(id string) *Concept {
	for i := range p.Concepts {
		if p.Concepts[i].ID == id {
			return &p.Concepts[i]
		}
	}
	return nil
}

// errNotObject is the error of CheckJSON on JSON that is not an object.
var errNotObject = errors.New("a statement must be a JSON object")

// IRIs is an array of IRIs. As JSON-LD compaction writes an array of one
// as its member, a single string is read as an array of one.
type IRIs []string

// UnmarshalJSON reads an array of strings or one string.
func (l *IRIs) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = IRIs{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want an IRI or an array of IRIs")
	}
	*l = many
	return nil
}

// IRI is one IRI; an array of one IRI is read as that IRI.
type IRI string

// UnmarshalJSON reads a string or an array of one string.
func (i *IRI) UnmarshalJSON(b []byte) error {
	var l IRIs
	if err := l.UnmarshalJSON(b); err != nil || len(l) != 1 {
		return errors.New("want one IRI")
	}
	*i = IRI(l[0])
	return nil
}

// LangMap is a language map. A plain string, as JSON-LD compaction writes
// a literal without a language, is read as the text of the tag "und".
type LangMap map[string]string

// UnmarshalJSON reads an object of strings or one string.
func (m *LangMap) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*m = LangMap{"und": one}
		return nil
	}
	var many map[string]string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a language map")
	}
	*m = many
	return nil
}

// Values are the values of a rule's any, all or none; a single value is
// read as an array of one, as JSON-LD compaction writes it. Numbers are
// json.Number.
type Values []any

// UnmarshalJSON reads an array of values or one value.
func (vs *Values) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if arr, ok := v.([]any); ok {
		*vs = arr
	} else {
		*vs = Values{v}
	}
	return nil
}
