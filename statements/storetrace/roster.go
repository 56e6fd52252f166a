package storetrace

import (
	"context"

	"github.com/digione/lrs/statements"
)

// TenantByIdentity traces statements.AdminStore.TenantByIdentity. The
// identity value is not recorded.
func (s *Store) TenantByIdentity(ctx context.Context, value string) (*statements.Tenant, error) {
	ctx, span := s.start(ctx, "TenantByIdentity")
	t, err := s.next.TenantByIdentity(ctx, value)
	end(span, err)
	return t, err
}

// ReplaceRoster traces statements.RosterStore.ReplaceRoster.
func (s *Store) ReplaceRoster(ctx context.Context, tenant string, r *statements.Roster) error {
	ctx, span := s.start(ctx, "ReplaceRoster", AttrTenant.String(tenant))
	err := s.next.ReplaceRoster(ctx, tenant, r)
	records(span, len(r.Orgs)+len(r.Users)+len(r.Classes)+len(r.Enrollments))
	end(span, err)
	return err
}

// RosterStatus traces statements.RosterStore.RosterStatus.
func (s *Store) RosterStatus(ctx context.Context, tenant string) (statements.RosterStatus, error) {
	ctx, span := s.start(ctx, "RosterStatus", AttrTenant.String(tenant))
	st, err := s.next.RosterStatus(ctx, tenant)
	end(span, err)
	return st, err
}

// The roster's lookups are traced without the sourcedIds or identities
// they look up: those name people.

// RosterUser traces statements.RosterStore.RosterUser.
func (s *Store) RosterUser(ctx context.Context, tenant, sourcedID string) (*statements.RosterUser, error) {
	ctx, span := s.start(ctx, "RosterUser", AttrTenant.String(tenant))
	u, err := s.next.RosterUser(ctx, tenant, sourcedID)
	end(span, err)
	return u, err
}

// RosterPerson traces statements.RosterStore.RosterPerson.
func (s *Store) RosterPerson(ctx context.Context, tenant, identity string) (*statements.RosterUser, error) {
	ctx, span := s.start(ctx, "RosterPerson", AttrTenant.String(tenant))
	u, err := s.next.RosterPerson(ctx, tenant, identity)
	end(span, err)
	return u, err
}

// RosterOrg traces statements.RosterStore.RosterOrg.
func (s *Store) RosterOrg(ctx context.Context, tenant, sourcedID string) (*statements.RosterOrg, error) {
	ctx, span := s.start(ctx, "RosterOrg", AttrTenant.String(tenant))
	o, err := s.next.RosterOrg(ctx, tenant, sourcedID)
	end(span, err)
	return o, err
}

// RosterClass traces statements.RosterStore.RosterClass.
func (s *Store) RosterClass(ctx context.Context, tenant, sourcedID string) (*statements.RosterClass, error) {
	ctx, span := s.start(ctx, "RosterClass", AttrTenant.String(tenant))
	c, err := s.next.RosterClass(ctx, tenant, sourcedID)
	end(span, err)
	return c, err
}

// ClassesOf traces statements.RosterStore.ClassesOf.
func (s *Store) ClassesOf(ctx context.Context, tenant, userSourcedID, role string) ([]statements.RosterClass, error) {
	ctx, span := s.start(ctx, "ClassesOf", AttrTenant.String(tenant))
	cs, err := s.next.ClassesOf(ctx, tenant, userSourcedID, role)
	records(span, len(cs))
	end(span, err)
	return cs, err
}

// ClassMembers traces statements.RosterStore.ClassMembers.
func (s *Store) ClassMembers(ctx context.Context, tenant, classSourcedID, role string) ([]statements.RosterUser, error) {
	ctx, span := s.start(ctx, "ClassMembers", AttrTenant.String(tenant))
	us, err := s.next.ClassMembers(ctx, tenant, classSourcedID, role)
	records(span, len(us))
	end(span, err)
	return us, err
}

// SchoolClasses traces statements.RosterStore.SchoolClasses.
func (s *Store) SchoolClasses(ctx context.Context, tenant, orgSourcedID string) ([]statements.RosterClass, error) {
	ctx, span := s.start(ctx, "SchoolClasses", AttrTenant.String(tenant))
	cs, err := s.next.SchoolClasses(ctx, tenant, orgSourcedID)
	records(span, len(cs))
	end(span, err)
	return cs, err
}

// OrgMembers traces statements.RosterStore.OrgMembers.
func (s *Store) OrgMembers(ctx context.Context, tenant, orgSourcedID, role string) ([]statements.RosterUser, error) {
	ctx, span := s.start(ctx, "OrgMembers", AttrTenant.String(tenant))
	us, err := s.next.OrgMembers(ctx, tenant, orgSourcedID, role)
	records(span, len(us))
	end(span, err)
	return us, err
}
