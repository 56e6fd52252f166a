package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// rosterTests cover statements.RosterStore and the tenants' identity
// values.
var rosterTests = []test{
	{"ReplaceOK", testRosterReplaceOK},
	{"Empty", testRosterEmpty},
	{"ReplaceAgain", testRosterReplaceAgain},
	{"ReplaceErrInvalid", testRosterReplaceErrInvalid},
	{"ErrNotFound", testRosterErrNotFound},
	{"PersonErrConflict", testRosterPersonErrConflict},
	{"Isolation", testRosterIsolation},
	{"RandomIsolation", testRosterRandomIsolation},
	{"ReplaceAtomic", testRosterReplaceAtomic},
	{"IdentityValuesOK", testIdentityValuesOK},
	{"IdentityValuesErrConflict", testIdentityValuesErrConflict},
	{"IdentityValuesErrInvalid", testIdentityValuesErrInvalid},
	{"SandboxTenant", testSandboxTenant},
}

// testSandboxTenant: a tenant's Sandbox and Expires are kept as created,
// by Tenant, Tenants and through UpdateTenant; a real tenant has none.
func testSandboxTenant(t *testing.T, s statements.Store) {
	ctx := t.Context()
	a := mustAdmin(t, s)
	expires := created().Add(30 * 24 * time.Hour)
	mustCreateTenant(t, s, statements.Tenant{ID: "sandbox-acme", Name: "Acme sandbox", Created: created(), Sandbox: "acme", Expires: expires})
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()})
	got, err := a.Tenant(ctx, "sandbox-acme")
	if err != nil || got.Sandbox != "acme" || !got.Expires.Equal(expires) {
		t.Fatalf("Tenant(sandbox-acme): %+v, %v; want sandbox acme expiring %v", got, err, expires)
	}
	got.Name = "Acme"
	if err := a.UpdateTenant(ctx, statements.Tenant{ID: "sandbox-acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Tenants(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Tenants: %+v, %v", all, err)
	}
	if e := all[0]; e.ID != "espoo" || e.Sandbox != "" || !e.Expires.IsZero() {
		t.Errorf("real tenant: %+v, want no sandbox, no expiry", e)
	}
	if sb := all[1]; sb.Name != "Acme" || sb.Sandbox != "acme" || !sb.Expires.Equal(expires) {
		t.Errorf("sandbox after UpdateTenant: %+v, want name Acme, sandbox acme, expiring %v", sb, expires)
	}
}

// sampleRoster is a school with two classes: a teacher of both, a
// principal, students s1..s3 in class-1 and s3, s4 in class-2. Each user's
// identities are its sourcedId and prefix + sourcedId.
func sampleRoster(prefix string) *statements.Roster {
	user := func(id, role string, orgs ...string) statements.RosterUser {
		u := statements.RosterUser{SourcedID: id, GivenName: "Given " + id, FamilyName: "Family " + id,
			Orgs: orgs, Identities: []string{id, prefix + id}}
		for _, o := range orgs {
			u.Roles = append(u.Roles, statements.RosterRole{Role: role, Org: o})
		}
		return u
	}
	enr := func(class, user, role string) statements.Enrollment {
		return statements.Enrollment{SourcedID: "e-" + class + "-" + user, Class: class, User: user, Role: role,
			BeginDate: time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC)}
	}
	return &statements.Roster{
		Orgs: []statements.RosterOrg{
			{SourcedID: "school-1", Name: "School One", Type: "school", Identifier: "00001", Parent: "district"},
			{SourcedID: "district", Name: "City", Type: "district", Identifier: "1.2.246.562.10.1"},
		},
		Users: []statements.RosterUser{
			user("t1", statements.RoleTeacher, "school-1"),
			user("p1", statements.RolePrincipal, "school-1"),
			user("s1", statements.RoleStudent, "school-1"),
			user("s2", statements.RoleStudent, "school-1"),
			user("s3", statements.RoleStudent, "school-1"),
			user("s4", statements.RoleStudent, "school-1"),
		},
		Classes: []statements.RosterClass{
			{SourcedID: "class-2", Title: "Maths 7B", ClassCode: "MA7B", School: "school-1"},
			{SourcedID: "class-1", Title: "Maths 7A", ClassCode: "MA7A", School: "school-1"},
		},
		Enrollments: []statements.Enrollment{
			enr("class-1", "t1", statements.RoleTeacher),
			enr("class-2", "t1", statements.RoleTeacher),
			enr("class-1", "s1", statements.RoleStudent),
			enr("class-1", "s2", statements.RoleStudent),
			enr("class-1", "s3", statements.RoleStudent),
			enr("class-2", "s3", statements.RoleStudent),
			enr("class-2", "s4", statements.RoleStudent),
		},
		Synced: created(),
	}
}

func mustReplaceRoster(t testing.TB, s statements.Store, tenant string, r *statements.Roster) {
	t.Helper()
	if err := s.ReplaceRoster(t.Context(), tenant, r); err != nil {
		t.Fatalf("ReplaceRoster(%s): %v", tenant, err)
	}
}

func userIDs(us []statements.RosterUser) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.SourcedID)
	}
	return out
}

func classIDs(cs []statements.RosterClass) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.SourcedID)
	}
	return out
}

func wantRosterIDs(t testing.TB, what string, got []string, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func testRosterReplaceOK(t *testing.T, s statements.Store) {
	ctx := t.Context()
	in := sampleRoster("mpass-")
	mustReplaceRoster(t, s, tenantA, in)

	st, err := s.RosterStatus(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if want := (statements.RosterStatus{Synced: in.Synced, Orgs: 2, Users: 6, Classes: 2, Enrollments: 7}); !st.Synced.Equal(want.Synced) ||
		st.Orgs != want.Orgs || st.Users != want.Users || st.Classes != want.Classes || st.Enrollments != want.Enrollments {
		t.Errorf("RosterStatus: got %+v, want %+v", st, want)
	}

	u, err := s.RosterUser(ctx, tenantA, "s3")
	if err != nil {
		t.Fatal(err)
	}
	if want := in.Users[4]; u.SourcedID != want.SourcedID || u.GivenName != want.GivenName || u.FamilyName != want.FamilyName ||
		!slices.Equal(u.Roles, want.Roles) || !slices.Equal(u.Orgs, want.Orgs) || !slices.Equal(u.Identities, want.Identities) {
		t.Errorf("RosterUser: got %+v, want %+v", *u, want)
	}
	for _, id := range []string{"s3", "mpass-s3"} {
		p, err := s.RosterPerson(ctx, tenantA, id)
		if err != nil || p.SourcedID != "s3" {
			t.Errorf("RosterPerson(%s): %+v, %v; want s3", id, p, err)
		}
	}
	o, err := s.RosterOrg(ctx, tenantA, "school-1")
	if err != nil || *o != in.Orgs[0] {
		t.Errorf("RosterOrg: %+v, %v; want %+v", o, err, in.Orgs[0])
	}
	c, err := s.RosterClass(ctx, tenantA, "class-1")
	if err != nil || *c != in.Classes[1] {
		t.Errorf("RosterClass: %+v, %v; want %+v", c, err, in.Classes[1])
	}

	cs, err := s.ClassesOf(ctx, tenantA, "t1", statements.RoleTeacher)
	wantRosterIDs(t, "ClassesOf(t1, teacher)", classIDs(cs), err, "class-1", "class-2")
	cs, err = s.ClassesOf(ctx, tenantA, "t1", statements.RoleStudent)
	wantRosterIDs(t, "ClassesOf(t1, student)", classIDs(cs), err)
	cs, err = s.ClassesOf(ctx, tenantA, "s3", "")
	wantRosterIDs(t, "ClassesOf(s3, any)", classIDs(cs), err, "class-1", "class-2")
	cs, err = s.ClassesOf(ctx, tenantA, "nobody", "")
	wantRosterIDs(t, "ClassesOf(nobody)", classIDs(cs), err)

	us, err := s.ClassMembers(ctx, tenantA, "class-1", statements.RoleStudent)
	wantRosterIDs(t, "ClassMembers(class-1, student)", userIDs(us), err, "s1", "s2", "s3")
	us, err = s.ClassMembers(ctx, tenantA, "class-2", "")
	wantRosterIDs(t, "ClassMembers(class-2, any)", userIDs(us), err, "s3", "s4", "t1")
	us, err = s.ClassMembers(ctx, tenantA, "class-9", "")
	wantRosterIDs(t, "ClassMembers(class-9)", userIDs(us), err)

	cs, err = s.SchoolClasses(ctx, tenantA, "school-1")
	wantRosterIDs(t, "SchoolClasses(school-1)", classIDs(cs), err, "class-1", "class-2")
	cs, err = s.SchoolClasses(ctx, tenantA, "district")
	wantRosterIDs(t, "SchoolClasses(district)", classIDs(cs), err)

	us, err = s.OrgMembers(ctx, tenantA, "school-1", statements.RoleStudent)
	wantRosterIDs(t, "OrgMembers(school-1, student)", userIDs(us), err, "s1", "s2", "s3", "s4")
	us, err = s.OrgMembers(ctx, tenantA, "school-1", statements.RolePrincipal)
	wantRosterIDs(t, "OrgMembers(school-1, principal)", userIDs(us), err, "p1")
	us, err = s.OrgMembers(ctx, tenantA, "school-1", "")
	wantRosterIDs(t, "OrgMembers(school-1, any)", userIDs(us), err, "p1", "s1", "s2", "s3", "s4", "t1")
}

func testRosterEmpty(t *testing.T, s statements.Store) {
	st, err := s.RosterStatus(t.Context(), tenantA)
	if err != nil || st != (statements.RosterStatus{}) {
		t.Errorf("RosterStatus of no roster: %+v, %v; want zero", st, err)
	}
	us, err := s.ClassMembers(t.Context(), tenantA, "class-1", "")
	wantRosterIDs(t, "ClassMembers", userIDs(us), err)
}

// testRosterReplaceAgain: a second roster replaces the first: users,
// classes and enrollments that it lacks are gone.
func testRosterReplaceAgain(t *testing.T, s statements.Store) {
	ctx := t.Context()
	mustReplaceRoster(t, s, tenantA, sampleRoster("mpass-"))
	next := sampleRoster("oid-")
	next.Users = slices.DeleteFunc(next.Users, func(u statements.RosterUser) bool { return u.SourcedID == "s1" })
	next.Classes = next.Classes[1:] // class-1 only
	next.Enrollments = slices.DeleteFunc(next.Enrollments, func(e statements.Enrollment) bool {
		return e.User == "s1" || e.Class == "class-2"
	})
	next.Enrollments = append(next.Enrollments, statements.Enrollment{SourcedID: "e-new", Class: "class-1", User: "s4", Role: statements.RoleStudent})
	next.Synced = next.Synced.Add(time.Hour)
	mustReplaceRoster(t, s, tenantA, next)

	st, err := s.RosterStatus(ctx, tenantA)
	if err != nil || !st.Synced.Equal(next.Synced) || st.Users != 5 || st.Classes != 1 || st.Enrollments != 4 {
		t.Errorf("RosterStatus: %+v, %v; want 5 users, 1 class, 4 enrollments synced %v", st, err, next.Synced)
	}
	_, err = s.RosterUser(ctx, tenantA, "s1")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterClass(ctx, tenantA, "class-2")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterPerson(ctx, tenantA, "mpass-s2")
	wantCode(t, err, statements.ENotFound)
	if p, err := s.RosterPerson(ctx, tenantA, "oid-s2"); err != nil || p.SourcedID != "s2" {
		t.Errorf("RosterPerson(oid-s2): %+v, %v", p, err)
	}
	us, err := s.ClassMembers(ctx, tenantA, "class-1", statements.RoleStudent)
	wantRosterIDs(t, "ClassMembers(class-1, student)", userIDs(us), err, "s2", "s3", "s4")
	cs, err := s.ClassesOf(ctx, tenantA, "t1", statements.RoleTeacher)
	wantRosterIDs(t, "ClassesOf(t1, teacher)", classIDs(cs), err, "class-1")
	us, err = s.OrgMembers(ctx, tenantA, "school-1", statements.RoleStudent)
	wantRosterIDs(t, "OrgMembers(school-1, student)", userIDs(us), err, "s2", "s3", "s4")

	// An empty roster empties the tenant's.
	mustReplaceRoster(t, s, tenantA, &statements.Roster{Synced: next.Synced.Add(time.Hour)})
	us, err = s.OrgMembers(ctx, tenantA, "school-1", "")
	wantRosterIDs(t, "OrgMembers after an empty roster", userIDs(us), err)
	if st, err := s.RosterStatus(ctx, tenantA); err != nil || st.Users != 0 || st.Synced.IsZero() {
		t.Errorf("RosterStatus after an empty roster: %+v, %v", st, err)
	}
}

// testRosterReplaceErrInvalid: a roster that breaks a rule is refused and
// the stored one stays.
func testRosterReplaceErrInvalid(t *testing.T, s statements.Store) {
	ctx := t.Context()
	good := sampleRoster("mpass-")
	mustReplaceRoster(t, s, tenantA, good)
	for name, breakIt := range map[string]func(r *statements.Roster){
		"class without sourcedId": func(r *statements.Roster) { r.Classes[0].SourcedID = "" },
		"user twice":              func(r *statements.Roster) { r.Users = append(r.Users, r.Users[0]) },
		"enrollment of no user":   func(r *statements.Roster) { r.Enrollments[0].User = "ghost" },
		"enrollment of no class":  func(r *statements.Roster) { r.Enrollments[0].Class = "ghost" },
		"enrollment without role": func(r *statements.Roster) { r.Enrollments[0].Role = "" },
	} {
		r := sampleRoster("x-")
		r.Users = r.Users[:5] // s4 and its enrollment gone, had it been stored
		r.Enrollments = r.Enrollments[:6]
		breakIt(r)
		err := s.ReplaceRoster(ctx, tenantA, r)
		if statements.ErrorCode(err) != statements.EInvalid {
			t.Errorf("%s: got %v, want %s", name, err, statements.EInvalid)
		}
	}
	if st, err := s.RosterStatus(ctx, tenantA); err != nil || st.Users != 6 || !st.Synced.Equal(good.Synced) {
		t.Errorf("RosterStatus after refused rosters: %+v, %v; want the first", st, err)
	}
	if _, err := s.RosterUser(ctx, tenantA, "s4"); err != nil {
		t.Errorf("RosterUser(s4) after refused rosters: %v", err)
	}
}

func testRosterErrNotFound(t *testing.T, s statements.Store) {
	ctx := t.Context()
	mustReplaceRoster(t, s, tenantA, sampleRoster("mpass-"))
	_, err := s.RosterUser(ctx, tenantA, "nobody")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterPerson(ctx, tenantA, "mpass-nobody")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterOrg(ctx, tenantA, "nowhere")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterClass(ctx, tenantA, "class-9")
	wantCode(t, err, statements.ENotFound)
	// A class's sourcedId is no user's and a user's identity no class's.
	_, err = s.RosterUser(ctx, tenantA, "class-1")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterPerson(ctx, tenantA, "class-1")
	wantCode(t, err, statements.ENotFound)
}

// testRosterPersonErrConflict: an identity two users share names neither.
func testRosterPersonErrConflict(t *testing.T, s statements.Store) {
	r := sampleRoster("mpass-")
	r.Users[2].Identities = append(r.Users[2].Identities, "shared")
	r.Users[3].Identities = append(r.Users[3].Identities, "shared")
	mustReplaceRoster(t, s, tenantA, r)
	_, err := s.RosterPerson(t.Context(), tenantA, "shared")
	wantCode(t, err, statements.EConflict)
}

// testRosterIsolation: two tenants with the same sourcedIds see their own
// roster each; replacing one leaves the other.
func testRosterIsolation(t *testing.T, s statements.Store) {
	ctx := t.Context()
	a := sampleRoster("a-")
	b := sampleRoster("b-")
	b.Enrollments = b.Enrollments[:2] // teachers only
	b.Classes[1].Title = "B's class"
	mustReplaceRoster(t, s, tenantA, a)
	mustReplaceRoster(t, s, tenantB, b)

	_, err := s.RosterPerson(ctx, tenantA, "b-s1")
	wantCode(t, err, statements.ENotFound)
	_, err = s.RosterPerson(ctx, tenantB, "a-s1")
	wantCode(t, err, statements.ENotFound)
	if c, err := s.RosterClass(ctx, tenantA, "class-1"); err != nil || c.Title != "Maths 7A" {
		t.Errorf("tenant A's class-1: %+v, %v", c, err)
	}
	us, err := s.ClassMembers(ctx, tenantB, "class-1", statements.RoleStudent)
	wantRosterIDs(t, "tenant B's students of class-1", userIDs(us), err)
	_, err = s.RosterUser(ctx, "tenant-c", "s1")
	wantCode(t, err, statements.ENotFound)

	mustReplaceRoster(t, s, tenantB, &statements.Roster{Synced: created()})
	us, err = s.ClassMembers(ctx, tenantA, "class-1", statements.RoleStudent)
	wantRosterIDs(t, "tenant A's students after B's roster emptied", userIDs(us), err, "s1", "s2", "s3")
	if st, _ := s.RosterStatus(ctx, tenantA); st.Enrollments != 7 {
		t.Errorf("tenant A's status after B's roster emptied: %+v", st)
	}
}

// testRosterReplaceAtomic: readers racing replaces see one roster or the
// other, never a mix of both.
func testRosterReplaceAtomic(t *testing.T, s statements.Store) {
	ctx := t.Context()
	roster := func(gen int) *statements.Roster {
		r := &statements.Roster{Synced: created(), Classes: []statements.RosterClass{{SourcedID: "c"}}}
		for i := range 20 {
			id := fmt.Sprintf("g%d-u%02d", gen, i)
			r.Users = append(r.Users, statements.RosterUser{SourcedID: id, Identities: []string{id}})
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: "e" + id, Class: "c", User: id, Role: statements.RoleStudent})
		}
		return r
	}
	mustReplaceRoster(t, s, tenantA, roster(0))
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 1; i <= 6; i++ {
			if err := s.ReplaceRoster(ctx, tenantA, roster(i%2)); err != nil {
				t.Errorf("ReplaceRoster: %v", err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Error("no read raced the replaces")
			}
			return
		default:
		}
		us, err := s.ClassMembers(ctx, tenantA, "c", statements.RoleStudent)
		if err != nil {
			t.Fatalf("ClassMembers: %v", err)
		}
		reads++
		if len(us) != 20 || us[0].SourcedID[:2] != us[19].SourcedID[:2] {
			t.Fatalf("ClassMembers during a replace: %q, want 20 users of one roster", userIDs(us))
		}
	}
}

func testIdentityValuesOK(t *testing.T, s statements.Store) {
	ctx := t.Context()
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created(), IdentityValues: []string{"oid-1", "oid-2"}})
	mustCreateTenant(t, s, statements.Tenant{ID: "vantaa", Name: "Vantaa", Created: created()})
	for v, want := range map[string]string{"oid-1": "espoo", "oid-2": "espoo"} {
		got, err := a.TenantByIdentity(ctx, v)
		if err != nil || got.ID != want || !slices.Equal(got.IdentityValues, []string{"oid-1", "oid-2"}) {
			t.Errorf("TenantByIdentity(%s): %+v, %v; want %s", v, got, err, want)
		}
	}
	_, err := a.TenantByIdentity(ctx, "oid-3")
	wantCode(t, err, statements.ENotFound)

	// A value moves: espoo gives up oid-2, vantaa takes it.
	e, err := a.Tenant(ctx, "espoo")
	if err != nil {
		t.Fatal(err)
	}
	e.IdentityValues = []string{"oid-1"}
	if err := a.UpdateTenant(ctx, *e); err != nil {
		t.Fatalf("UpdateTenant(espoo): %v", err)
	}
	if err := a.UpdateTenant(ctx, statements.Tenant{ID: "vantaa", Name: "Vantaa", IdentityValues: []string{"oid-2", "oid-3"}}); err != nil {
		t.Fatalf("UpdateTenant(vantaa): %v", err)
	}
	for v, want := range map[string]string{"oid-1": "espoo", "oid-2": "vantaa", "oid-3": "vantaa"} {
		if got, err := a.TenantByIdentity(ctx, v); err != nil || got.ID != want {
			t.Errorf("TenantByIdentity(%s) after the move: %+v, %v; want %s", v, got, err, want)
		}
	}
	ts, err := s.Tenants(ctx)
	if err != nil || len(ts) != 2 || !slices.Equal(ts[1].IdentityValues, []string{"oid-2", "oid-3"}) {
		t.Errorf("Tenants: %+v, %v", ts, err)
	}
	// Clearing them frees them.
	if err := a.UpdateTenant(ctx, statements.Tenant{ID: "vantaa", Name: "Vantaa"}); err != nil {
		t.Fatal(err)
	}
	_, err = a.TenantByIdentity(ctx, "oid-2")
	wantCode(t, err, statements.ENotFound)
	if got, _ := a.Tenant(ctx, "vantaa"); got == nil || got.IdentityValues != nil {
		t.Errorf("Tenant(vantaa) after clearing: %+v, want no identity values", got)
	}
}

// testIdentityValuesErrConflict: a value belongs to one tenant; taking
// another's is refused and changes nothing.
func testIdentityValuesErrConflict(t *testing.T, s statements.Store) {
	ctx := t.Context()
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created(), IdentityValues: []string{"oid-1"}})
	mustCreateTenant(t, s, statements.Tenant{ID: "vantaa", Name: "Vantaa", Created: created(), IdentityValues: []string{"oid-2"}})
	err := a.UpdateTenant(ctx, statements.Tenant{ID: "vantaa", Name: "Renamed", IdentityValues: []string{"oid-3", "oid-1"}})
	wantCode(t, err, statements.EConflict)
	v, err := a.Tenant(ctx, "vantaa")
	if err != nil || v.Name != "Vantaa" || !slices.Equal(v.IdentityValues, []string{"oid-2"}) {
		t.Errorf("vantaa after the refused update: %+v, %v", v, err)
	}
	for val, want := range map[string]string{"oid-1": "espoo", "oid-2": "vantaa"} {
		if got, err := a.TenantByIdentity(ctx, val); err != nil || got.ID != want {
			t.Errorf("TenantByIdentity(%s): %+v, %v; want %s", val, got, err, want)
		}
	}
	_, err = a.TenantByIdentity(ctx, "oid-3")
	wantCode(t, err, statements.ENotFound)

	err = s.CreateTenant(ctx, statements.Tenant{ID: "kauniainen", Name: "K", Created: created(), IdentityValues: []string{"oid-2"}})
	wantCode(t, err, statements.EConflict)
	_, err = a.Tenant(ctx, "kauniainen")
	wantCode(t, err, statements.ENotFound)

	// Two tenants racing for one value: one gets it.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{"espoo", "vantaa"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.UpdateTenant(ctx, statements.Tenant{ID: id, Name: id, IdentityValues: []string{"oid-9"}})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if statements.ErrorCode(err) != statements.EConflict {
			t.Errorf("racing UpdateTenant: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("racing UpdateTenant: %d got oid-9 (%v), want 1", ok, errs)
	}
}

func testIdentityValuesErrInvalid(t *testing.T, s statements.Store) {
	err := s.CreateTenant(t.Context(), statements.Tenant{ID: "espoo", Created: created(), IdentityValues: []string{"a", ""}})
	wantCode(t, err, statements.EInvalid)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Created: created()})
	err = mustAdmin(t, s).UpdateTenant(t.Context(), statements.Tenant{ID: "espoo", IdentityValues: []string{"a", "a"}})
	wantCode(t, err, statements.EInvalid)
}

// BigRoster returns a roster of users people (one teacher per 15), classes
// classes in 40 schools and enrollments enrollments: students in classes
// round robin, each class's first enrollment its teacher. Benchmarks of
// ReplaceRoster use it at a municipality's size.
func BigRoster(users, classes, enrollments int) *statements.Roster {
	r := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond)}
	const schools = 40
	r.Orgs = append(r.Orgs, statements.RosterOrg{SourcedID: "district", Name: "City", Type: "district", Identifier: "1.2.246.562.10.99"})
	for i := range schools {
		r.Orgs = append(r.Orgs, statements.RosterOrg{SourcedID: fmt.Sprintf("school-%02d", i), Name: fmt.Sprintf("School %d", i),
			Type: "school", Identifier: fmt.Sprintf("%05d", i), Parent: "district"})
	}
	teachers := max(1, users/15)
	for i := range users {
		role := statements.RoleStudent
		if i < teachers {
			role = statements.RoleTeacher
		}
		id := fmt.Sprintf("u-%06d", i)
		school := fmt.Sprintf("school-%02d", i%schools)
		r.Users = append(r.Users, statements.RosterUser{SourcedID: id, GivenName: "Given", FamilyName: "Family",
			Roles: []statements.RosterRole{{Role: role, Org: school}}, Orgs: []string{school},
			Identities: []string{id, fmt.Sprintf("1.2.246.562.24.%011d", i)}})
	}
	for i := range classes {
		r.Classes = append(r.Classes, statements.RosterClass{SourcedID: fmt.Sprintf("c-%05d", i), Title: fmt.Sprintf("Class %d", i),
			ClassCode: fmt.Sprintf("C%d", i), School: fmt.Sprintf("school-%02d", i%schools)})
	}
	students := users - teachers
	for i := range enrollments {
		class := i % classes
		e := statements.Enrollment{SourcedID: fmt.Sprintf("e-%07d", i), Class: r.Classes[class].SourcedID, Role: statements.RoleStudent}
		if i < classes {
			e.User, e.Role = r.Users[class%teachers].SourcedID, statements.RoleTeacher
		} else {
			e.User = r.Users[teachers+(i/classes*classes+class*7+i/classes)%max(1, students)].SourcedID
		}
		r.Enrollments = append(r.Enrollments, e)
	}
	return r
}
