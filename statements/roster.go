package statements

import (
	"context"
	"fmt"
	"time"
)

// Roster is one tenant's class rosters as the platform's OneRoster
// Rostering service last gave them: its organisations, people, classes and
// who is enrolled in which class in which role. Only active records are in
// it (OneRoster's "tobedeleted" ones are left out).
type Roster struct {
	Orgs        []RosterOrg
	Users       []RosterUser
	Classes     []RosterClass
	Enrollments []Enrollment
	// Synced is when the roster was read from its source, millisecond
	// precision.
	Synced time.Time
}

// RosterOrg is an organisation of a roster: a school, a district (an
// education provider), ...
type RosterOrg struct {
	SourcedID  string
	Name       string
	Type       string // OneRoster's org type: "school", "district", ...
	Identifier string // the org's identifier in the national registry, or ""
	Parent     string // the sourcedId of the parent org, or ""
}

// RosterRole is a role a user holds in one org.
type RosterRole struct {
	Role string // OneRoster's role: "student", "teacher", "principal", ...
	Org  string // the org's sourcedId
}

// RosterUser is a person of a roster. Names are for display at view time
// only: they are never copied into statements, logs or metrics.
type RosterUser struct {
	SourcedID  string
	GivenName  string
	FamilyName string
	Roles      []RosterRole // the user's role in each org
	// Orgs are the sourcedIds of the user's orgs: those of Roles and the
	// primary org, each once.
	Orgs []string
	// Identities are the values that name the user to the LRS: the
	// sourcedId and the identifiers of OneRoster's userIds. A statement's
	// actor account name or a signed-in person's claim is looked up among
	// them (RosterStore.RosterPerson).
	Identities []string
}

// RosterClass is a class of a roster.
type RosterClass struct {
	SourcedID string
	Title     string
	ClassCode string
	School    string // the sourcedId of the class's school org
}

// Enrollment puts a user in a class in a role.
type Enrollment struct {
	SourcedID string
	Class     string // the class's sourcedId
	User      string // the user's sourcedId
	Role      string // "student", "teacher", "administrator", "aide", ...
	Primary   bool   // the user's primary class (or teacher) of this class
	BeginDate time.Time
	EndDate   time.Time // zero when open-ended
}

// Roster roles of enrollments and users the LRS reads by name.
const (
	RoleStudent   = "student"
	RoleTeacher   = "teacher"
	RolePrincipal = "principal"
)

// RosterStatus says how much of a tenant's roster the store holds and from
// when. The zero RosterStatus is a tenant that has no roster yet.
type RosterStatus struct {
	Synced      time.Time // the Synced of the stored roster; zero when none
	Orgs        int
	Users       int
	Classes     int
	Enrollments int
}

// Check returns an EInvalid error when r cannot be stored: a record
// without a sourcedId, a sourcedId twice among records of one kind, an
// enrollment without a role, or one naming a user or class that is not in
// r. The message names the record and the field.
func (r *Roster) Check() error {
	seen := map[string]bool{}
	uniq := func(kind, id string) error {
		if id == "" {
			return Errorf(EInvalid, "roster: %s record without sourcedId", kind)
		}
		if seen[kind+"\x00"+id] {
			return Errorf(EInvalid, "roster: %s %s is there twice", kind, id)
		}
		seen[kind+"\x00"+id] = true
		return nil
	}
	for _, o := range r.Orgs {
		if err := uniq("org", o.SourcedID); err != nil {
			return err
		}
	}
	for _, u := range r.Users {
		if err := uniq("user", u.SourcedID); err != nil {
			return err
		}
		for _, ro := range u.Roles {
			if ro.Role == "" || ro.Org == "" {
				return Errorf(EInvalid, "roster: user %s has a role without role or org", u.SourcedID)
			}
		}
	}
	for _, c := range r.Classes {
		if err := uniq("class", c.SourcedID); err != nil {
			return err
		}
	}
	for _, e := range r.Enrollments {
		if err := uniq("enrollment", e.SourcedID); err != nil {
			return err
		}
		switch {
		case e.Role == "":
			return Errorf(EInvalid, "roster: enrollment %s has no role", e.SourcedID)
		case !seen["user\x00"+e.User]:
			return Errorf(EInvalid, "roster: enrollment %s: user %q is not in the roster", e.SourcedID, e.User)
		case !seen["class\x00"+e.Class]:
			return Errorf(EInvalid, "roster: enrollment %s: class %q is not in the roster", e.SourcedID, e.Class)
		}
	}
	return nil
}

// String returns a short description of s for logs and status pages.
func (s RosterStatus) String() string {
	if s.Synced.IsZero() {
		return "no roster"
	}
	return fmt.Sprintf("%d users, %d classes, %d enrollments, %d orgs, synced %s",
		s.Users, s.Classes, s.Enrollments, s.Orgs, s.Synced.UTC().Format(time.RFC3339))
}

// RosterStore keeps each tenant's roster. Every call carries the tenant and
// sees that tenant's roster only: two tenants may use the same sourcedIds
// for different people. Queries are answered from indexes: their cost
// grows with the answer, not with the roster. Lists are ordered by
// sourcedId, each record once. Implementations return *Error values with
// the codes documented here; any other failure is EInternal.
//
// Every Store is one; storetest's TestStore_Rosters group checks it.
type RosterStore interface {
	// ReplaceRoster replaces the tenant's whole roster with r, atomically:
	// a reader sees the old roster or the new one, never a mix, and a
	// failed replace leaves the old one. EInvalid when r.Check fails.
	ReplaceRoster(ctx context.Context, tenant string, r *Roster) error

	// RosterStatus returns the counts and Synced time of the tenant's
	// roster; the zero RosterStatus when it has none.
	RosterStatus(ctx context.Context, tenant string) (RosterStatus, error)

	// RosterUser returns the user with sourcedID; ENotFound if none.
	RosterUser(ctx context.Context, tenant, sourcedID string) (*RosterUser, error)

	// RosterPerson returns the user whose Identities hold identity;
	// ENotFound if none, EConflict if more than one user has it (the
	// roster cannot say who the person is).
	RosterPerson(ctx context.Context, tenant, identity string) (*RosterUser, error)

	// RosterOrg returns the org with sourcedID; ENotFound if none.
	RosterOrg(ctx context.Context, tenant, sourcedID string) (*RosterOrg, error)

	// RosterClass returns the class with sourcedID; ENotFound if none.
	RosterClass(ctx context.Context, tenant, sourcedID string) (*RosterClass, error)

	// ClassesOf returns the classes in which the user has an enrollment
	// with role ("" = any role); empty when none, also when the user does
	// not exist.
	ClassesOf(ctx context.Context, tenant, userSourcedID, role string) ([]RosterClass, error)

	// ClassMembers returns the users enrolled in the class with role (""
	// = any role); empty when none, also when the class does not exist.
	ClassMembers(ctx context.Context, tenant, classSourcedID, role string) ([]RosterUser, error)

	// SchoolClasses returns the classes whose School is the org; empty
	// when none.
	SchoolClasses(ctx context.Context, tenant, orgSourcedID string) ([]RosterClass, error)

	// OrgMembers returns the users who hold role in the org (a RosterRole
	// with that Role and Org; "" = any role); empty when none. A
	// principal's students are OrgMembers(school, RoleStudent).
	OrgMembers(ctx context.Context, tenant, orgSourcedID, role string) ([]RosterUser, error)
}

// CheckIdentityValues returns an EInvalid error when a tenant's identity
// values hold an empty value or one value twice.
func CheckIdentityValues(values []string) error {
	seen := map[string]bool{}
	for _, v := range values {
		if v == "" {
			return Errorf(EInvalid, "tenant: an identity value is empty")
		}
		if seen[v] {
			return Errorf(EInvalid, "tenant: identity value %q is there twice", v)
		}
		seen[v] = true
	}
	return nil
}
