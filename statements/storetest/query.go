package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var queryTests = []test{
	{"Filters", testQueryFilters},
	{"SinceUntil", testQuerySinceUntil},
	{"Limit", testQueryLimit},
	{"MaxLimit", testQueryMaxLimit},
	{"MaxBytes", testQueryMaxBytes},
	{"Empty", testQueryEmpty},
	{"Tenants", testQueryTenants},
}

// corpus is a set of statements that exercise every filter, by name.
func corpus(t testing.TB, reg1, reg2 string) (map[string]obj, []string) {
	names := []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"}
	ss := map[string]obj{}

	s1 := stmt(agent("alice"), "completed", activity("course"))
	s1["context"] = obj{
		"registration":      reg1,
		"instructor":        agent("carol"),
		"team":              group("team-g"),
		"contextActivities": obj{"parent": []any{activity("module")}},
	}
	ss["s1"] = s1

	bob := obj{"objectType": "Agent", "account": obj{"homePage": "https://id.example.org", "name": "bob-123"}}
	s2 := stmt(bob, "attempted", activity("quiz"))
	s2["context"] = obj{"contextActivities": obj{
		"grouping": []any{activity("course")},
		"category": activity("cat"), // a single object, as 1.0 allows
		"other":    []any{activity("other")},
	}}
	ss["s2"] = s2

	carol := obj{"objectType": "Agent", "openid": "https://openid.example.org/carol"}
	ss["s3"] = stmt(carol, "completed", agent("alice"))

	dave := obj{"mbox_sha1sum": "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"} // no objectType: an Agent
	ss["s4"] = stmt(dave, "experienced", group("alice"))                    // a Group with alice's mbox

	sub := obj{
		"objectType": "SubStatement",
		"actor":      agent("frank"),
		"verb":       obj{"id": verbID("planned")},
		"object":     activity("lesson"),
		"context": obj{
			"registration":      reg2, // a SubStatement's registration is not the statement's
			"instructor":        agent("gina"),
			"team":              group("team-h"),
			"contextActivities": obj{"parent": []any{activity("unit")}},
		},
	}
	ss["s5"] = stmt(agent("eve"), "completed", sub)

	ss["s6"] = stmt(agent("eve"), "planned", obj{
		"objectType": "SubStatement",
		"actor":      agent("frank"),
		"verb":       obj{"id": verbID("meet")},
		"object":     agent("hank"),
	})

	s7 := stmt(agent("ivan"), "attended", activity("meeting"))
	s7["context"] = obj{
		"registration": reg2,
		"contextAgents": []any{obj{"objectType": "contextAgent", "agent": agent("judy"),
			"relevantTypes": []any{"https://example.org/types/peer"}}},
		"contextGroups": []any{obj{"objectType": "contextGroup", "group": group("group-k"),
			"relevantTypes": []any{"https://example.org/types/class"}}},
	}
	s7["version"] = "2.0.0"
	ss["s7"] = s7

	s8 := stmt(agent("alice"), "attempted", activity("quiz"))
	s8["context"] = obj{"registration": reg1}
	ss["s8"] = s8

	// An identified Group as actor, with a member.
	ss["s9"] = stmt(obj{"objectType": "Group", "account": obj{"homePage": "https://id.example.org", "name": "class-9a"},
		"member": []any{agent("kim")}}, "attended", activity("meeting"))

	// alice by another spelling of her mbox (scheme and domain case).
	ss["s10"] = stmt(obj{"mbox": "MAILTO:alice@EXAMPLE.org"}, "experienced", activity("video"))

	// An anonymous group as actor.
	ss["s11"] = stmt(obj{"objectType": "Group", "member": []any{agent("lee"), agent("mia")}}, "attended", activity("meeting"))
	return ss, names
}

func testQueryFilters(t *testing.T, s statements.Store) {
	reg1, reg2 := newID(), newID()
	ss, names := corpus(t, reg1, reg2)
	byName := map[string]*statements.Record{}
	var all []*statements.Record
	for _, n := range names {
		r := rec(t, ss[n])
		byName[n] = r
		all = append(all, r)
	}
	mustInsert(t, s, tenantA, all...)
	noise := recs(t, stmt(agent("zed"), "noise", activity("noise")), stmt(agent("zed"), "noise", activity("noise")))
	mustInsert(t, s, tenantB, append(noise, recs(t, ss["s1"], ss["s2"], ss["s3"])...)...)

	key := func(a obj) string { return agentKey(t, a) }
	authority := key(Authority)
	type c = statements.Filter
	cases := []struct {
		name string
		f    statements.Filter
		want []string // names, in position order
	}{
		{"none", c{}, names},
		{"agent actor and object", c{Agent: key(agent("alice"))}, []string{"s1", "s3", "s8", "s10"}},
		{"agent mbox spelling", c{Agent: key(obj{"mbox": "mailto:alice@Example.ORG"})}, []string{"s1", "s3", "s8", "s10"}},
		{"group with agent's mbox", c{Agent: key(group("alice"))}, []string{"s4"}},
		{"agent account", c{Agent: key(obj{"account": obj{"homePage": "https://id.example.org", "name": "bob-123"}})}, []string{"s2"}},
		{"agent openid", c{Agent: key(obj{"openid": "https://openid.example.org/carol"})}, []string{"s3"}},
		{"agent mbox_sha1sum", c{Agent: key(obj{"mbox_sha1sum": "D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1"})}, []string{"s4"}},
		{"agent identified group", c{Agent: key(obj{"objectType": "Group", "account": obj{"homePage": "https://id.example.org", "name": "class-9a"}})}, []string{"s9"}},
		{"agent account is not group", c{Agent: key(obj{"account": obj{"homePage": "https://id.example.org", "name": "class-9a"}})}, nil},
		// The agent filter matches a group by its members (terms.go).
		{"identified group member", c{Agent: key(agent("kim"))}, []string{"s9"}},
		{"anonymous group member", c{Agent: key(agent("lee"))}, []string{"s11"}},
		{"anonymous group member related", c{Agent: key(agent("mia")), RelatedAgents: true}, []string{"s11"}},
		{"instructor is not agent", c{Agent: key(agent("carol"))}, nil},
		{"instructor related", c{Agent: key(agent("carol")), RelatedAgents: true}, []string{"s1"}},
		{"openid carol related", c{Agent: key(carolOpenID()), RelatedAgents: true}, []string{"s3"}},
		{"actor related", c{Agent: key(agent("alice")), RelatedAgents: true}, []string{"s1", "s3", "s8", "s10"}},
		{"team is not agent", c{Agent: key(group("team-g"))}, nil},
		{"team related", c{Agent: key(group("team-g")), RelatedAgents: true}, []string{"s1"}},
		{"authority is not agent", c{Agent: authority}, nil},
		{"authority related", c{Agent: authority, RelatedAgents: true}, names},
		{"substatement actor", c{Agent: key(agent("frank"))}, nil},
		{"substatement actor related", c{Agent: key(agent("frank")), RelatedAgents: true}, []string{"s5", "s6"}},
		{"substatement instructor related", c{Agent: key(agent("gina")), RelatedAgents: true}, []string{"s5"}},
		{"substatement team related", c{Agent: key(group("team-h")), RelatedAgents: true}, []string{"s5"}},
		{"substatement object agent", c{Agent: key(agent("hank"))}, nil},
		{"substatement object agent related", c{Agent: key(agent("hank")), RelatedAgents: true}, []string{"s6"}},
		{"context agent", c{Agent: key(agent("judy"))}, nil},
		{"context agent related", c{Agent: key(agent("judy")), RelatedAgents: true}, []string{"s7"}},
		{"context group related", c{Agent: key(group("group-k")), RelatedAgents: true}, []string{"s7"}},
		{"unknown agent", c{Agent: key(agent("nobody")), RelatedAgents: true}, nil},
		{"agent of other tenant", c{Agent: key(agent("zed"))}, nil},

		{"verb", c{Verb: verbID("completed")}, []string{"s1", "s3", "s5"}},
		{"verb attended", c{Verb: verbID("attended")}, []string{"s7", "s9", "s11"}},
		{"substatement verb", c{Verb: verbID("meet")}, nil},
		{"unknown verb", c{Verb: verbID("unknown")}, nil},

		{"activity", c{Activity: activityID("course")}, []string{"s1"}},
		{"activity related", c{Activity: activityID("course"), RelatedActivities: true}, []string{"s1", "s2"}},
		{"parent", c{Activity: activityID("module")}, nil},
		{"parent related", c{Activity: activityID("module"), RelatedActivities: true}, []string{"s1"}},
		{"category single object related", c{Activity: activityID("cat"), RelatedActivities: true}, []string{"s2"}},
		{"other related", c{Activity: activityID("other"), RelatedActivities: true}, []string{"s2"}},
		{"substatement object", c{Activity: activityID("lesson")}, nil},
		{"substatement object related", c{Activity: activityID("lesson"), RelatedActivities: true}, []string{"s5"}},
		{"substatement parent related", c{Activity: activityID("unit"), RelatedActivities: true}, []string{"s5"}},
		{"quiz", c{Activity: activityID("quiz")}, []string{"s2", "s8"}},

		{"registration", c{Registration: reg1}, []string{"s1", "s8"}},
		{"registration 2 not from substatement", c{Registration: reg2}, []string{"s7"}},
		{"unknown registration", c{Registration: newID()}, nil},

		{"agent and verb", c{Agent: key(agent("alice")), Verb: verbID("attempted")}, []string{"s8"}},
		{"agent and activity", c{Agent: key(agent("alice")), Activity: activityID("quiz")}, []string{"s8"}},
		{"agent and registration", c{Agent: key(agent("alice")), Registration: reg1}, []string{"s1", "s8"}},
		{"all four", c{Agent: key(agent("alice")), Verb: verbID("completed"), Activity: activityID("course"), Registration: reg1}, []string{"s1"}},
		{"all four related", c{Agent: key(agent("carol")), RelatedAgents: true, Verb: verbID("completed"),
			Activity: activityID("module"), RelatedActivities: true, Registration: reg1}, []string{"s1"}},
		{"related agent and verb", c{Agent: key(agent("alice")), RelatedAgents: true, Verb: verbID("completed")}, []string{"s1", "s3"}},
		{"verb and related activity", c{Verb: verbID("attempted"), Activity: activityID("course"), RelatedActivities: true}, []string{"s2"}},
		{"agent and other verb", c{Agent: key(agent("alice")), Verb: verbID("experienced")}, []string{"s10"}},
		{"no match", c{Agent: key(agent("bob")), Verb: verbID("completed")}, nil},
		{"authority and verb", c{Agent: authority, RelatedAgents: true, Verb: verbID("attended")}, []string{"s7", "s9", "s11"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*statements.Record
			for _, n := range tc.want {
				want = append(want, byName[n])
			}
			tc.f.Ascending = true
			wantIDs(t, queryIDs(t, s, tenantA, tc.f), ids(want))
			tc.f.Ascending = false
			wantIDs(t, queryIDs(t, s, tenantA, tc.f), desc(want...))
			if len(want) > 1 {
				tc.f.Limit = 1
				p := mustQuery(t, s, tenantA, tc.f)
				wantIDs(t, ids(p.Records), desc(want[len(want)-1]))
				if !p.More {
					t.Errorf("Limit 1 of %d: More false", len(want))
				}
			}
		})
	}
}

func carolOpenID() obj { return obj{"openid": "https://openid.example.org/carol"} }

// testQuerySinceUntil: Since is exclusive, Until inclusive, both compared
// at the store's millisecond precision.
func testQuerySinceUntil(t *testing.T, s statements.Store) {
	var rs []*statements.Record
	for i := range 4 {
		r := rec(t, stmt(agent("alice"), "completed", activity(fmt.Sprint(i))))
		extra := rec(t, stmt(agent("bob"), "completed", activity(fmt.Sprint(i))))
		mustInsert(t, s, tenantA, r, extra)
		rs = append(rs, r, extra)
		if i > 0 && !r.Stored.After(rs[2*i-1].Stored) {
			t.Fatalf("Stored did not advance after a sleep: %v then %v", rs[2*i-1].Stored, r.Stored)
		}
		time.Sleep(3 * time.Millisecond)
	}
	a0, a1, a2, a3 := rs[0], rs[2], rs[4], rs[6]
	alice := agentKey(t, agent("alice"))
	ms := time.Millisecond
	cases := []struct {
		name string
		f    statements.Filter
		want []*statements.Record // ascending
	}{
		{"since", statements.Filter{Since: a1.Stored}, rs[4:]},
		{"since before all", statements.Filter{Since: a0.Stored.Add(-ms)}, rs},
		{"since last", statements.Filter{Since: a3.Stored}, nil},
		{"since sub-millisecond", statements.Filter{Since: a1.Stored.Add(ms / 2)}, rs[4:]},
		{"until", statements.Filter{Until: a1.Stored}, rs[:4]},
		{"until before all", statements.Filter{Until: a0.Stored.Add(-ms)}, nil},
		{"until sub-millisecond", statements.Filter{Until: a1.Stored.Add(ms / 2)}, rs[:4]},
		{"until last", statements.Filter{Until: a3.Stored}, rs},
		{"since and until", statements.Filter{Since: a0.Stored, Until: a2.Stored}, rs[2:6]},
		{"since equals until", statements.Filter{Since: a2.Stored, Until: a2.Stored}, nil},
		{"since after until", statements.Filter{Since: a3.Stored, Until: a0.Stored}, nil},
		{"agent since", statements.Filter{Agent: alice, Since: a1.Stored}, []*statements.Record{a2, a3}},
		{"agent until", statements.Filter{Agent: alice, Until: a1.Stored}, []*statements.Record{a0, a1}},
		{"agent since and until", statements.Filter{Agent: alice, Since: a0.Stored, Until: a2.Stored}, []*statements.Record{a1, a2}},
		{"in another time zone", statements.Filter{Since: a1.Stored.In(time.FixedZone("X", 3*3600))}, rs[4:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Ascending = true
			wantIDs(t, queryIDs(t, s, tenantA, tc.f), ids(tc.want))
			tc.f.Ascending = false
			wantIDs(t, queryIDs(t, s, tenantA, tc.f), desc(tc.want...))
		})
	}
}

func testQueryLimit(t *testing.T, s statements.Store) {
	rs := make([]*statements.Record, 10)
	for i := range rs {
		rs[i] = rec(t, stmt(agent("alice"), "completed", activity(fmt.Sprint(i))))
	}
	mustInsert(t, s, tenantA, rs...)
	alice := agentKey(t, agent("alice"))
	for _, f := range []statements.Filter{{}, {Agent: alice}} {
		f.Limit = 3
		p := mustQuery(t, s, tenantA, f)
		wantIDs(t, ids(p.Records), desc(rs[7:]...))
		if !p.More {
			t.Errorf("Limit 3 of 10: More false")
		}
		f.Ascending = true
		p = mustQuery(t, s, tenantA, f)
		wantIDs(t, ids(p.Records), ids(rs[:3]))
		if !p.More {
			t.Errorf("Limit 3 of 10 ascending: More false")
		}
		f.Limit = 11
		p = mustQuery(t, s, tenantA, f)
		wantIDs(t, ids(p.Records), ids(rs))
		if p.More {
			t.Errorf("Limit 11 of 10: More true")
		}
	}
}

// sized returns a statement of alice with a result extension of n bytes.
func sized(n int) obj {
	st := stmt(agent("alice"), "completed", activity("course"))
	st["result"] = obj{"extensions": obj{"https://example.org/ext/pad": strings.Repeat("x", n)}}
	return st
}

// testQueryMaxBytes: a page stops before the statement that would take it
// past MaxBytes, holds at least one statement, and walking the pages
// returns every statement once, in order.
func testQueryMaxBytes(t *testing.T, s statements.Store) {
	sizes := []int{3000, 500, 9000, 1200, 1200, 1200, 20000, 100, 4000, 2500}
	rs := make([]*statements.Record, len(sizes))
	for i, n := range sizes {
		rs[i] = rec(t, sized(n))
	}
	insertEach(t, s, tenantA, rs...)
	alice := agentKey(t, agent("alice"))
	const budget = 6000
	for _, f := range []statements.Filter{{MaxBytes: budget}, {MaxBytes: budget, Agent: alice}} {
		for _, asc := range []bool{false, true} {
			f.Ascending = asc
			want := rs
			if !asc {
				want = slices.Clone(rs)
				slices.Reverse(want)
			}
			var got []*statements.Record
			g := f
			for range len(rs) + 1 {
				p := mustQuery(t, s, tenantA, g)
				if len(p.Records) == 0 {
					t.Fatalf("%+v: empty page", g)
				}
				var sum int64
				for _, r := range p.Records {
					sum += int64(len(r.Statement))
				}
				if len(p.Records) > 1 && sum > budget {
					t.Errorf("%+v: page of %d records, %d bytes, over MaxBytes %d", g, len(p.Records), sum, budget)
				}
				got = append(got, p.Records...)
				if !p.More {
					break
				}
				// The page is as full as MaxBytes allows.
				if next := want[len(got)]; sum+int64(len(next.Statement)) <= budget {
					t.Errorf("%+v: page of %d bytes stops before a record of %d", g, sum, len(next.Statement))
				}
				g.After = p.Records[len(p.Records)-1].Position
			}
			wantIDs(t, ids(got), ids(want))
		}
	}
	// With a Limit too, whichever bound comes first ends the page.
	p := mustQuery(t, s, tenantA, statements.Filter{MaxBytes: 1 << 20, Limit: 2, Ascending: true})
	wantIDs(t, ids(p.Records), ids(rs[:2]))
	if !p.More {
		t.Errorf("Limit 2 under a large MaxBytes: More false")
	}
	p = mustQuery(t, s, tenantA, statements.Filter{MaxBytes: 1, Limit: 5})
	wantIDs(t, ids(p.Records), ids(rs[9:]))
	if !p.More {
		t.Errorf("MaxBytes 1: More false")
	}
}

func testQueryMaxLimit(t *testing.T, s statements.Store) {
	rs := make([]*statements.Record, statements.MaxLimit+1)
	for i := range rs {
		rs[i] = rec(t, stmt(agent("alice"), "completed", activity("course")))
	}
	mustInsert(t, s, tenantA, rs...)
	for _, limit := range []int{0, statements.MaxLimit + 100} {
		p := mustQuery(t, s, tenantA, statements.Filter{Limit: limit, Verb: verbID("completed")})
		if got, want := len(p.Records), statements.MaxLimit; got != want {
			t.Errorf("Limit %d: got %d records, want %d", limit, got, want)
		}
		if !p.More {
			t.Errorf("Limit %d: More false", limit)
		}
	}
}

func testQueryEmpty(t *testing.T, s statements.Store) {
	p := mustQuery(t, s, tenantA, statements.Filter{})
	if len(p.Records) != 0 || p.More {
		t.Fatalf("empty store: got %d records, More %v", len(p.Records), p.More)
	}
	p = mustQuery(t, s, tenantA, statements.Filter{Agent: agentKey(t, agent("alice")), Since: time.Now().Add(-time.Hour), Until: time.Now()})
	if len(p.Records) != 0 || p.More {
		t.Fatalf("empty store with filter: got %d records, More %v", len(p.Records), p.More)
	}
}

// testQueryTenants: tenants are walls. The same ids, agents and
// activities in two tenants never cross.
func testQueryTenants(t *testing.T, s statements.Store) {
	id := newID()
	target := stmt(agent("alice"), "completed", activity("course"))
	inA := rec(t, withID(target, id))
	inB := rec(t, withID(stmt(agent("alice"), "failed", activity("course")), id)) // same id, other content
	mustInsert(t, s, tenantA, inA)
	mustInsert(t, s, tenantB, inB) // no conflict across tenants
	sameInB := rec(t, withID(target, id))
	err := s.InsertStatements(t.Context(), tenantB, []*statements.Record{sameInB})
	wantCode(t, err, statements.EConflict) // conflicts with B's own statement

	wantSameRecord(t, mustStatement(t, s, tenantA, id, false), inA)
	wantSameRecord(t, mustStatement(t, s, tenantB, id, false), inB)
	wantAbsent(t, s, "tenant-c", id)

	alice := agentKey(t, agent("alice"))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: alice}), []string{id})
	wantIDs(t, queryIDs(t, s, tenantB, statements.Filter{Agent: alice}), []string{id})
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Verb: verbID("failed")}), []string{})
	wantIDs(t, queryIDs(t, s, "tenant-c", statements.Filter{}), []string{})
	wantIDs(t, queryIDs(t, s, "tenant-c", statements.Filter{Agent: alice}), []string{})

	// Voiding in one tenant does not void in the other.
	v := rec(t, voiding(id))
	mustInsert(t, s, tenantA, v)
	wantVoided(t, s, tenantA, id)
	wantNotVoided(t, s, tenantB, id)
	wantIDs(t, queryIDs(t, s, tenantB, statements.Filter{}), []string{id})

	// A voiding statement in one tenant does not void a later arrival in
	// another, and a reference does not inherit across tenants.
	id2 := newID()
	mustInsert(t, s, tenantA, rec(t, voiding(id2)))
	ref := rec(t, stmt(agent("bob"), "liked", stmtRef(id2)))
	mustInsert(t, s, tenantA, ref)
	later := rec(t, withID(stmt(agent("carol"), "completed", activity("course")), id2))
	mustInsert(t, s, tenantB, later)
	wantNotVoided(t, s, tenantB, id2)
	carol := agentKey(t, agent("carol"))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: carol}), []string{})
	wantIDs(t, queryIDs(t, s, tenantB, statements.Filter{Agent: carol}), []string{id2})

	// A voiding statement in A does not see B's statements as targets:
	// voiding a voiding statement of B is not an error in A.
	vB := rec(t, voiding(newID()))
	mustInsert(t, s, tenantB, vB)
	mustInsert(t, s, tenantA, rec(t, voiding(vB.ID)))
	wantNotVoided(t, s, tenantB, vB.ID)

	if _, err := s.ConsistentThrough(t.Context(), tenantA); err != nil {
		t.Fatalf("ConsistentThrough: %v", err)
	}
}
