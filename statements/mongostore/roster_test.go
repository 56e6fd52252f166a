package mongostore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/storetest"
)

// TestStore_RosterGenerations: a replace keeps the generation it replaced
// for readers in flight and deletes the older ones, so a tenant's records
// never exceed two rosters.
func TestStore_RosterGenerations(t *testing.T) {
	s := MustOpenStore(t, newDatabase())
	ctx := t.Context()
	sizes := []int{30, 20, 10, 5}
	var want []int64
	for i, users := range sizes {
		r := storetest.BigRoster(users, 3, users)
		r.Synced = time.UnixMilli(int64(1000 * (i + 1))).UTC()
		if err := s.ReplaceRoster(ctx, "t", r); err != nil {
			t.Fatal(err)
		}
		want = append(want, int64(len(r.Orgs)+len(r.Users)+len(r.Classes)+len(r.Enrollments)))
	}
	n, err := mongostore.RosterRecords(ctx, s, "t")
	if err != nil {
		t.Fatal(err)
	}
	if w := want[2] + want[3]; n != w {
		t.Errorf("records after 4 replaces: %d, want %d (the last two rosters)", n, w)
	}
	if st, err := s.RosterStatus(ctx, "t"); err != nil || st.Users != 5 || !st.Synced.Equal(time.UnixMilli(4000).UTC()) {
		t.Errorf("RosterStatus: %+v, %v", st, err)
	}
	// A refused roster writes nothing.
	bad := storetest.BigRoster(5, 3, 5)
	bad.Enrollments[0].User = "ghost"
	if err := s.ReplaceRoster(ctx, "t", bad); statements.ErrorCode(err) != statements.EInvalid {
		t.Errorf("ReplaceRoster of a bad roster: %v", err)
	}
	if n2, _ := mongostore.RosterRecords(ctx, s, "t"); n2 != n {
		t.Errorf("records after a refused roster: %d, want %d", n2, n)
	}
}

// TestStore_RosterReadOvertaken: a read that two replaces overtake, after
// it read the current generation and before it read the records, whose
// generation the second replace deleted, reads again and returns the
// whole current roster, not nothing.
func TestStore_RosterReadOvertaken(t *testing.T) {
	s := MustOpenStore(t, newDatabase())
	ctx := t.Context()
	roster := func(gen int) *statements.Roster {
		r := &statements.Roster{Synced: time.UnixMilli(int64(1000 * (gen + 1))).UTC(), Classes: []statements.RosterClass{{SourcedID: "c"}}}
		for i := range 5 {
			id := fmt.Sprintf("g%d-u%d", gen, i)
			r.Users = append(r.Users, statements.RosterUser{SourcedID: id, Identities: []string{id}})
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: "e" + id, Class: "c", User: id, Role: statements.RoleStudent})
		}
		return r
	}
	if err := s.ReplaceRoster(ctx, "t", roster(0)); err != nil {
		t.Fatal(err)
	}
	overtaken := false
	mongostore.SetAfterRosterGen(s, func() {
		if overtaken {
			return
		}
		overtaken = true
		for gen := 1; gen <= 2; gen++ {
			if err := s.ReplaceRoster(ctx, "t", roster(gen)); err != nil {
				t.Fatal(err)
			}
		}
	})
	us, err := s.ClassMembers(ctx, "t", "c", statements.RoleStudent)
	if err != nil || len(us) != 5 || us[0].SourcedID != "g2-u0" {
		t.Errorf("ClassMembers overtaken by two replaces: %v %v, want the 5 users of the last roster", us, err)
	}
}
