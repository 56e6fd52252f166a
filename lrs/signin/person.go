package signin

import (
	"encoding/json"
	"strings"
)

// Kind is what a role lets a person read under the roster rule.
type Kind string

// The kinds of role the LRS knows, weakest first.
const (
	Learner   Kind = "learner"   // MPASSid role 1: reads their own statements
	Teacher   Kind = "teacher"   // MPASSid role 2: reads the students of the classes they teach
	Principal Kind = "principal" // MPASSid role 6: reads the students of their school
)

// strength orders the kinds; an unknown kind is 0.
func (k Kind) strength() int {
	switch k {
	case Learner:
		return 1
	case Teacher:
		return 2
	case Principal:
		return 3
	}
	return 0
}

// Role is one value of the role claim: a kind of role in a school.
type Role struct {
	Municipality string `json:"municipality,omitempty"`
	School       string `json:"school,omitempty"` // school code (oppilaitostunnus)
	Group        string `json:"group,omitempty"`  // class or group; may be empty
	Kind         Kind   `json:"kind"`
}

// Person is who signed in: the tenant whose statements they read, their
// id in the person claim, their roles, and the tenant claim values that
// named the tenant. It holds nothing else about the person.
type Person struct {
	Tenant       string   `json:"tenant"`
	ID           string   `json:"person"`
	Roles        []Role   `json:"roles"`
	TenantValues []string `json:"tenantValues,omitempty"`
}

// Role returns the strongest kind among p's roles (principal, then
// teacher, then learner); "" when p has none.
func (p *Person) Role() Kind {
	var best Kind
	for _, r := range p.Roles {
		if r.Kind.strength() > best.strength() {
			best = r.Kind
		}
	}
	return best
}

// roleNames maps the codes and names of MPASSid's roles, lower case, to
// the kinds the LRS knows.
var roleNames = map[string]Kind{
	"1": Learner, "oppija": Learner, "oppilas": Learner, "opiskelija": Learner,
	"inlärare": Learner, "elev": Learner, "studerande": Learner, "learner": Learner, "student": Learner,
	"2": Teacher, "opettaja": Teacher, "lärare": Teacher, "teacher": Teacher,
	"6": Principal, "rehtori": Principal, "rektor": Principal, "principal": Principal,
}

// ParseKind returns the kind an MPASSid role code or name (Finnish,
// Swedish or English, any case) stands for; ok is false for any other
// role.
func ParseKind(s string) (k Kind, ok bool) {
	k, ok = roleNames[strings.ToLower(strings.TrimSpace(s))]
	return k, ok
}

// ParseRole reads one role value, "municipality;school;group;role" or
// "municipality;school;role"; ok is false for any other form and for a
// role the LRS does not know.
func ParseRole(v string) (r Role, ok bool) {
	f := strings.Split(v, ";")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	switch len(f) {
	case 3:
		r = Role{Municipality: f[0], School: f[1]}
	case 4:
		r = Role{Municipality: f[0], School: f[1], Group: f[2]}
	default:
		return Role{}, false
	}
	if r.Kind, ok = ParseKind(f[len(f)-1]); !ok {
		return Role{}, false
	}
	return r, true
}

// ParseRoles reads every value of a role claim: a JSON array of values, or
// one string (several values of four fields joined by ';' are split).
// Values it cannot read are left out; duplicates too.
func ParseRoles(claim any) []Role {
	var out []Role
	add := func(v string) {
		if r, ok := ParseRole(v); ok && !containsRole(out, r) {
			out = append(out, r)
		}
	}
	for _, v := range claimStrings(claim) {
		f := strings.Split(v, ";")
		if n := len(f); n > 4 && n%4 == 0 {
			for i := 0; i < n; i += 4 {
				add(strings.Join(f[i:i+4], ";"))
			}
			continue
		}
		add(v)
	}
	return out
}

func containsRole(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// claimStrings returns the non-empty string values of a claim that is a
// string or an array of strings; nil for anything else.
func claimStrings(claim any) []string {
	var out []string
	switch v := claim.(type) {
	case string:
		if s := strings.TrimSpace(v); s != "" {
			out = append(out, s)
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	case []string:
		for _, s := range v {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// claimString returns the claim as one string: a string, a number
// written as in JSON, or an array of exactly one string; "" otherwise.
func claimString(claim any) string {
	switch v := claim.(type) {
	case json.Number:
		return v.String()
	case float64:
		b, _ := json.Marshal(v)
		return string(b)
	}
	if s := claimStrings(claim); len(s) == 1 {
		return s[0]
	}
	return ""
}

// dedupe returns ss without repeats, in first-seen order.
func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
