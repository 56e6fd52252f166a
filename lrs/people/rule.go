package people

import (
	"context"
	"slices"
	"strings"

	"github.com/digione/lrs/statements"
)

// Role is what a person is to the rule.
type Role string

// The roles the rule knows. A person with none of them reads nothing.
const (
	Learner   Role = "learner"
	Teacher   Role = "teacher"
	Principal Role = "principal"
)

// OneRoster enrollment roles the rule reads.
const (
	enrolledStudent = statements.RoleStudent
	enrolledTeacher = statements.RoleTeacher
)

// principalRoles are the OneRoster 1.2 roles that make a person the head
// of a school: the schools of a principal are the orgs where they hold one.
var principalRoles = map[string]bool{statements.RolePrincipal: true, "siteAdministrator": true}

// Viewer is a signed-in person as the rule sees them: verified claims,
// nothing from the roster yet.
type Viewer struct {
	Tenant string
	Person string // the person claim: a roster user's identity
	Role   Role
}

// Roster is what the rule needs of a tenant's roster; the store keeps it
// (statements.RosterStore). Each method answers for one tenant only.
type Roster interface {
	// RosterPerson returns the user one of whose identities is identity;
	// ENotFound if none.
	RosterPerson(ctx context.Context, tenant, identity string) (*statements.RosterUser, error)
	// RosterUser returns the user sourcedID; ENotFound if none.
	RosterUser(ctx context.Context, tenant, sourcedID string) (*statements.RosterUser, error)
	// RosterClass returns the class id; ENotFound if none.
	RosterClass(ctx context.Context, tenant, id string) (*statements.RosterClass, error)
	// ClassesOf returns the classes where user is enrolled with role.
	ClassesOf(ctx context.Context, tenant, user, role string) ([]statements.RosterClass, error)
	// SchoolClasses returns the classes of the school org.
	SchoolClasses(ctx context.Context, tenant, org string) ([]statements.RosterClass, error)
	// ClassMembers returns the users enrolled in class with role.
	ClassMembers(ctx context.Context, tenant, class, role string) ([]statements.RosterUser, error)
}

// Rule is the roster rule of one LRS.
type Rule struct {
	Roster Roster
}

// Scope is what one viewer may read, worked out once per request.
type Scope struct {
	Viewer Viewer
	// Self is the viewer's roster user; nil when the roster does not know
	// them, and then they read nothing.
	Self *statements.RosterUser

	rule    *Rule
	taught  map[string]bool // the classes a teacher teaches
	schools map[string]bool // the schools of a principal
}

// Scope works out what v may read.
func (r *Rule) Scope(ctx context.Context, v Viewer) (*Scope, error) {
	s := &Scope{Viewer: v, rule: r}
	if v.Tenant == "" || v.Person == "" {
		return s, nil
	}
	self, err := r.Roster.RosterPerson(ctx, v.Tenant, v.Person)
	if statements.ErrorCode(err) == statements.ENotFound {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	s.Self = self
	switch v.Role {
	case Teacher:
		classes, err := r.Roster.ClassesOf(ctx, v.Tenant, self.SourcedID, enrolledTeacher)
		if err != nil {
			return nil, err
		}
		s.taught = map[string]bool{}
		for _, c := range classes {
			s.taught[c.SourcedID] = true
		}
	case Principal:
		s.schools = map[string]bool{}
		for _, r := range self.Roles {
			if principalRoles[r.Role] {
				s.schools[r.Org] = true
			}
		}
	}
	return s, nil
}

// MayRead is the rule: whether the viewer may read the statements of the
// roster user student. A learner reads themself; a teacher, a student
// enrolled in a class they teach; a principal, a student of their
// school. Every read of the people API asks it.
func (s *Scope) MayRead(ctx context.Context, student string) (bool, error) {
	if s.Self == nil || student == "" {
		return false, nil
	}
	switch s.Viewer.Role {
	case Learner:
		return student == s.Self.SourcedID, nil
	case Teacher:
		if len(s.taught) == 0 {
			return false, nil
		}
		classes, err := s.rule.Roster.ClassesOf(ctx, s.Viewer.Tenant, student, enrolledStudent)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(classes, func(c statements.RosterClass) bool { return s.taught[c.SourcedID] }), nil
	case Principal:
		if len(s.schools) == 0 {
			return false, nil
		}
		u, err := s.rule.Roster.RosterUser(ctx, s.Viewer.Tenant, student)
		if statements.ErrorCode(err) == statements.ENotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(u.Roles, func(r statements.RosterRole) bool {
			return r.Role == statements.RoleStudent && s.schools[r.Org]
		}), nil
	}
	return false, nil
}

// Classes returns the classes the viewer sees: those a teacher teaches,
// those of a principal's school; none for a learner.
func (s *Scope) Classes(ctx context.Context) ([]statements.RosterClass, error) {
	if s.Self == nil {
		return nil, nil
	}
	switch s.Viewer.Role {
	case Teacher:
		return s.rule.Roster.ClassesOf(ctx, s.Viewer.Tenant, s.Self.SourcedID, enrolledTeacher)
	case Principal:
		var all []statements.RosterClass
		for o := range s.schools {
			cs, err := s.rule.Roster.SchoolClasses(ctx, s.Viewer.Tenant, o)
			if err != nil {
				return nil, err
			}
			all = append(all, cs...)
		}
		slices.SortFunc(all, func(a, b statements.RosterClass) int { return strings.Compare(a.SourcedID, b.SourcedID) })
		return slices.CompactFunc(all, func(a, b statements.RosterClass) bool { return a.SourcedID == b.SourcedID }), nil
	}
	return nil, nil
}

// Class returns the class id and those of its students the viewer may
// read; ENotFound when the viewer does not see the class (it is not
// theirs, or does not exist: the two are not told apart).
func (s *Scope) Class(ctx context.Context, id string) (*statements.RosterClass, []statements.RosterUser, error) {
	notFound := statements.Errorf(statements.ENotFound, "class %q: not one of yours", id)
	if s.Self == nil {
		return nil, nil, notFound
	}
	c, err := s.rule.Roster.RosterClass(ctx, s.Viewer.Tenant, id)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	switch {
	case s.Viewer.Role == Teacher && s.taught[c.SourcedID]:
	case s.Viewer.Role == Principal && s.schools[c.School]:
	default:
		return nil, nil, notFound
	}
	members, err := s.rule.Roster.ClassMembers(ctx, s.Viewer.Tenant, c.SourcedID, enrolledStudent)
	if err != nil {
		return nil, nil, err
	}
	students := members[:0:0]
	for _, m := range members {
		ok, err := s.MayRead(ctx, m.SourcedID)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			students = append(students, m)
		}
	}
	return c, students, nil
}

// Student returns the student userID of the class classID, when the
// viewer sees the class and may read the student; ENotFound otherwise.
func (s *Scope) Student(ctx context.Context, classID, userID string) (*statements.RosterUser, error) {
	_, students, err := s.Class(ctx, classID)
	if err != nil {
		return nil, err
	}
	for i := range students {
		if students[i].SourcedID == userID {
			return &students[i], nil
		}
	}
	return nil, statements.Errorf(statements.ENotFound, "student %q: not in class %q, or not yours to read", userID, classID)
}
