package statements

import (
	"strings"
	"testing"
)

func TestRoster_Check(t *testing.T) {
	good := func() *Roster {
		return &Roster{
			Orgs:        []RosterOrg{{SourcedID: "school"}},
			Users:       []RosterUser{{SourcedID: "t1", Roles: []RosterRole{{Role: RoleTeacher, Org: "school"}}}, {SourcedID: "s1"}},
			Classes:     []RosterClass{{SourcedID: "c1", School: "school"}},
			Enrollments: []Enrollment{{SourcedID: "e1", Class: "c1", User: "s1", Role: RoleStudent}},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(r *Roster)
		want   string // "" for no error
	}{
		{"OK", func(*Roster) {}, ""},
		{"Empty", func(r *Roster) { *r = Roster{} }, ""},
		{"SameIDOtherKinds", func(r *Roster) { r.Classes[0].SourcedID = "s1"; r.Enrollments[0].Class = "s1" }, ""},
		{"OrgWithoutID", func(r *Roster) { r.Orgs[0].SourcedID = "" }, "roster: org record without sourcedId"},
		{"UserTwice", func(r *Roster) { r.Users[1].SourcedID = "t1" }, "roster: user t1 is there twice"},
		{"RoleWithoutOrg", func(r *Roster) { r.Users[0].Roles[0].Org = "" }, "roster: user t1 has a role without role or org"},
		{"ClassWithoutID", func(r *Roster) { r.Classes[0].SourcedID = "" }, "roster: class record without sourcedId"},
		{"EnrollmentWithoutRole", func(r *Roster) { r.Enrollments[0].Role = "" }, "roster: enrollment e1 has no role"},
		{"EnrollmentOfNoUser", func(r *Roster) { r.Enrollments[0].User = "x" }, `roster: enrollment e1: user "x" is not in the roster`},
		{"EnrollmentOfNoClass", func(r *Roster) { r.Enrollments[0].Class = "x" }, `roster: enrollment e1: class "x" is not in the roster`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.change(r)
			err := r.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.want != "" && (ErrorCode(err) != EInvalid || !strings.Contains(ErrorMessage(err), tc.want)):
				t.Errorf("got %v, want %s %q", err, EInvalid, tc.want)
			}
		})
	}
}

func TestCheckIdentityValues(t *testing.T) {
	for _, tc := range []struct {
		values []string
		ok     bool
	}{
		{nil, true},
		{[]string{"1.2.246.562.10.1", "1.2.246.562.10.2"}, true},
		{[]string{""}, false},
		{[]string{"a", "b", "a"}, false},
	} {
		if err := CheckIdentityValues(tc.values); (err == nil) != tc.ok || (err != nil && ErrorCode(err) != EInvalid) {
			t.Errorf("CheckIdentityValues(%q): %v, want ok %v", tc.values, err, tc.ok)
		}
	}
}
