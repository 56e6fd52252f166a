package statements

import (
	"sort"
	"strings"
)

// Index terms. A statement is indexed under a set of terms; a Filter is the
// set of terms a statement must all have. One posting list per term makes
// every filter and combination of filters an index intersection whose cost
// follows the result, not the store.
const (
	termAgent           = "a|"  // actor, or object when it is an Agent or Group
	termRelatedAgent    = "ra|" // any agent of related_agents
	termVerb            = "v|"
	termActivity        = "o|"  // object when it is an Activity
	termRelatedActivity = "ro|" // any activity of related_activities
	termRegistration    = "r|"
	termCredential      = "c|" // the credential that stored the statement
)

// CredentialTerm returns the index term of the statements stored by the
// credential key. The HTTP layer adds it to Record.Terms; it is not a term
// of the statement itself.
func CredentialTerm(key string) string { return termCredential + key }

// IsCredentialTerm reports whether term is a CredentialTerm: a term a
// StatementRef does not inherit from its target.
func IsCredentialTerm(term string) bool { return strings.HasPrefix(term, termCredential) }

// Sides of a pair of terms (PairSide).
const (
	PairNone   = iota // not in a pair
	PairAgent         // the agent of a pair: a term of the agent filter without related_agents
	PairObject        // the other side: a verb's term, or an activity's without related_activities
)

// PairSide says which side of a pair a term can be. A store may keep a
// posting list per pair of an agent's term and a verb's or an
// activity's term (the statements that have both), so that the filter of
// an agent with a verb or an activity reads one list.
func PairSide(term string) int {
	switch {
	case strings.HasPrefix(term, termAgent):
		return PairAgent
	case strings.HasPrefix(term, termVerb), strings.HasPrefix(term, termActivity):
		return PairObject
	}
	return PairNone
}

// Terms returns the index terms of the statement itself. A statement whose
// object is a StatementRef also matches the terms of the statement it
// targets; the store adds those (see Store.InsertStatements).
func (s *Statement) Terms() []string {
	t := termSet{}
	t.agent(termAgent, &s.Actor)
	t.allAgents(&s.Actor)
	if s.Object.ObjectIsAgent() {
		a := s.Object.AsActor()
		t.agent(termAgent, &a)
		t.allAgents(&a)
	}
	if s.Authority != nil {
		t.allAgents(s.Authority)
	}
	t.add(termVerb + s.Verb.ID)
	if s.Object.IsActivity() && s.Object.ID != "" {
		t.add(termActivity + s.Object.ID)
		t.add(termRelatedActivity + s.Object.ID)
	}
	t.context(s.Context, true)
	if s.Object.ObjectType == "SubStatement" {
		sub := &s.Object
		if sub.Actor != nil {
			t.allAgents(sub.Actor)
		}
		if sub.Object != nil {
			switch {
			case sub.Object.ObjectIsAgent():
				a := sub.Object.AsActor()
				t.allAgents(&a)
			case sub.Object.IsActivity() && sub.Object.ID != "":
				t.add(termRelatedActivity + sub.Object.ID)
			}
		}
		t.context(sub.Context, false)
	}
	return t.sorted()
}

type termSet map[string]struct{}

func (t termSet) add(term string) { t[term] = struct{}{} }

// agent adds the term of an actor and, for a Group, of each of its
// members: the agent filter matches a group by its members too
// (Communication 2.1.3, parameter "agent").
func (t termSet) agent(prefix string, a *Actor) {
	if k := a.Key(); k != "" {
		t.add(prefix + k)
	}
	for i := range a.Member {
		if k := a.Member[i].Key(); k != "" {
			t.add(prefix + k)
		}
	}
}

// allAgents adds the related-agent terms of an actor.
func (t termSet) allAgents(a *Actor) { t.agent(termRelatedAgent, a) }

func (t termSet) context(c *Context, withRegistration bool) {
	if c == nil {
		return
	}
	if withRegistration && c.Registration != "" {
		t.add(termRegistration + strings.ToLower(c.Registration))
	}
	if c.Instructor != nil {
		t.allAgents(c.Instructor)
	}
	if c.Team != nil {
		t.allAgents(c.Team)
	}
	for i := range c.ContextAgents {
		t.allAgents(&c.ContextAgents[i].Agent)
	}
	for i := range c.ContextGroups {
		t.allAgents(&c.ContextGroups[i].Group)
	}
	if ca := c.ContextActivities; ca != nil {
		for _, l := range []ActivityList{ca.Parent, ca.Grouping, ca.Category, ca.Other} {
			for _, a := range l {
				if a.ID != "" {
					t.add(termRelatedActivity + a.ID)
				}
			}
		}
	}
}

func (t termSet) sorted() []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MergeTerms returns the sorted union of term lists.
func MergeTerms(lists ...[]string) []string {
	t := termSet{}
	for _, l := range lists {
		for _, x := range l {
			t.add(x)
		}
	}
	return t.sorted()
}
