package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
)

// randomRoster is a roster of tenant drawn from small pools of sourcedIds
// that every tenant draws from, so tenants share ids; every name carries
// the tenant, so a record of another tenant shows.
func randomRoster(rng *rand.Rand, tenant string) *statements.Roster {
	orgs := []string{"o1", "o2", "o3"}
	roles := []string{statements.RoleStudent, statements.RoleTeacher, statements.RolePrincipal}
	r := &statements.Roster{Synced: created()}
	for _, o := range orgs {
		r.Orgs = append(r.Orgs, statements.RosterOrg{SourcedID: o, Name: tenant + "-" + o, Type: "school"})
	}
	for i := range 24 {
		if rng.IntN(4) == 0 {
			continue
		}
		id := fmt.Sprintf("u%02d", i)
		u := statements.RosterUser{SourcedID: id, GivenName: tenant + "-" + id, Identities: []string{id, "x-" + id}}
		for range 1 + rng.IntN(2) {
			ro := statements.RosterRole{Role: roles[rng.IntN(len(roles))], Org: orgs[rng.IntN(len(orgs))]}
			if !slices.Contains(u.Roles, ro) {
				u.Roles = append(u.Roles, ro)
				if !slices.Contains(u.Orgs, ro.Org) {
					u.Orgs = append(u.Orgs, ro.Org)
				}
			}
		}
		r.Users = append(r.Users, u)
	}
	for i := range 6 {
		if rng.IntN(4) == 0 {
			continue
		}
		id := fmt.Sprintf("c%d", i)
		r.Classes = append(r.Classes, statements.RosterClass{SourcedID: id, Title: tenant + "-" + id, School: orgs[rng.IntN(len(orgs))]})
	}
	seen := map[string]bool{}
	for range 48 {
		c := r.Classes[rng.IntN(len(r.Classes))].SourcedID
		u := r.Users[rng.IntN(len(r.Users))].SourcedID
		role := roles[rng.IntN(2)]
		id := "e-" + c + "-" + u + "-" + role
		if !seen[id] {
			seen[id] = true
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: id, Class: c, User: u, Role: role})
		}
	}
	return r
}

// testRosterRandomIsolation stores random rosters of three tenants that
// share sourcedIds and checks every query of each against what that
// tenant's own roster says.
func testRosterRandomIsolation(t *testing.T, s statements.Store) {
	ctx := t.Context()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	tenants := []string{"tenant-a", "tenant-b", "tenant-c"}
	rosters := map[string]*statements.Roster{}
	for _, tn := range tenants {
		rosters[tn] = randomRoster(rng, tn)
		mustReplaceRoster(t, s, tn, rosters[tn])
	}
	sorted := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	own := func(tn, what string, names []string) {
		t.Helper()
		for _, n := range names {
			if !strings.HasPrefix(n, tn+"-") {
				t.Errorf("%s: %s holds %q, another tenant's", tn, what, n)
			}
		}
	}
	for _, tn := range tenants {
		r := rosters[tn]
		users := map[string]statements.RosterUser{}
		for _, u := range r.Users {
			users[u.SourcedID] = u
		}
		for i := range 24 {
			id := fmt.Sprintf("u%02d", i)
			_, in := users[id]
			u, err := s.RosterPerson(ctx, tn, "x-"+id)
			switch {
			case in && (err != nil || u.GivenName != tn+"-"+id):
				t.Errorf("%s: RosterPerson(x-%s): %+v, %v", tn, id, u, err)
			case !in && statements.ErrorCode(err) != statements.ENotFound:
				t.Errorf("%s: RosterPerson(x-%s) of no user: %+v, %v", tn, id, u, err)
			}
			for _, role := range []string{"", statements.RoleTeacher} {
				want := map[string]bool{}
				for _, e := range r.Enrollments {
					if e.User == id && (role == "" || e.Role == role) {
						want[e.Class] = true
					}
				}
				cs, err := s.ClassesOf(ctx, tn, id, role)
				wantRosterIDs(t, fmt.Sprintf("%s: ClassesOf(%s, %q)", tn, id, role), classIDs(cs), err, sorted(want)...)
				var titles []string
				for _, c := range cs {
					titles = append(titles, c.Title)
				}
				own(tn, "ClassesOf", titles)
			}
		}
		for i := range 6 {
			c := fmt.Sprintf("c%d", i)
			for _, role := range []string{"", statements.RoleStudent} {
				want := map[string]bool{}
				for _, e := range r.Enrollments {
					if e.Class == c && (role == "" || e.Role == role) {
						want[e.User] = true
					}
				}
				us, err := s.ClassMembers(ctx, tn, c, role)
				wantRosterIDs(t, fmt.Sprintf("%s: ClassMembers(%s, %q)", tn, c, role), userIDs(us), err, sorted(want)...)
				var names []string
				for _, u := range us {
					names = append(names, u.GivenName)
				}
				own(tn, "ClassMembers", names)
			}
		}
		for _, o := range []string{"o1", "o2", "o3"} {
			want := map[string]bool{}
			for _, c := range r.Classes {
				if c.School == o {
					want[c.SourcedID] = true
				}
			}
			cs, err := s.SchoolClasses(ctx, tn, o)
			wantRosterIDs(t, fmt.Sprintf("%s: SchoolClasses(%s)", tn, o), classIDs(cs), err, sorted(want)...)
			for _, role := range []string{"", statements.RoleStudent} {
				want := map[string]bool{}
				for _, u := range r.Users {
					for _, ro := range u.Roles {
						if ro.Org == o && (role == "" || ro.Role == role) {
							want[u.SourcedID] = true
						}
					}
				}
				us, err := s.OrgMembers(ctx, tn, o, role)
				wantRosterIDs(t, fmt.Sprintf("%s: OrgMembers(%s, %q)", tn, o, role), userIDs(us), err, sorted(want)...)
			}
		}
	}
}
