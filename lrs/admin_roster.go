package lrs

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// RosterSync syncs a tenant's roster from its OneRoster rostering service
// on demand. lrs declares what it needs of the forwarder here; cmd/lrs
// satisfies it with the OneRoster forwarder's syncer.
type RosterSync interface {
	// SyncRoster reads the tenant's whole roster and replaces the stored
	// one with it; when it fails the stored roster stays. ENotFound when
	// the tenant has no rostering URL; EConflict when a sync of the tenant
	// is running; EUnavailable when the rostering service failed.
	SyncRoster(ctx context.Context, tenant string) error
	// RosterSyncFailure returns why the tenant's last sync failed and
	// when; "" when it did not fail or never ran.
	RosterSyncFailure(ctx context.Context, tenant string) (string, time.Time, error)
}

// RosterJSON is a tenant's stored roster in the admin API: how much of it
// there is and when it was read from the rostering service.
type RosterJSON struct {
	Tenant      string     `json:"tenant"`
	Synced      *time.Time `json:"synced,omitempty"` // absent: no roster yet
	Orgs        int        `json:"orgs"`
	Users       int        `json:"users"`
	Classes     int        `json:"classes"`
	Enrollments int        `json:"enrollments"`
	// LastError is why the last sync failed, and LastErrorAt when; absent
	// when it did not. The stored roster is then the last good one.
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
}

// RosterView returns the admin API's view of a tenant's roster status.
func RosterView(tenant string, st statements.RosterStatus) RosterJSON {
	v := RosterJSON{Tenant: tenant, Orgs: st.Orgs, Users: st.Users, Classes: st.Classes, Enrollments: st.Enrollments}
	if !st.Synced.IsZero() {
		t := st.Synced
		v.Synced = &t
	}
	return v
}

// Roster returns the status of tenant's stored roster; ENotFound when
// there is no such tenant.
func (a *Admin) Roster(ctx context.Context, tenant string) (statements.RosterStatus, error) {
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return statements.RosterStatus{}, err
	}
	return a.Store.RosterStatus(ctx, tenant)
}

// SyncRoster syncs tenant's roster now and returns the status of the
// stored roster; ENotFound when there is no such tenant or no roster sync.
func (a *Admin) SyncRoster(ctx context.Context, actor, tenant string) (statements.RosterStatus, error) {
	if a.RosterSync == nil {
		return statements.RosterStatus{}, statements.Errorf(statements.ENotFound, "roster sync is not available")
	}
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return statements.RosterStatus{}, err
	}
	// The sync goes on when the client that asked for it goes away: a
	// half-read roster would be thrown away, and the failure reported.
	serr := a.RosterSync.SyncRoster(context.WithoutCancel(ctx), tenant)
	st, err := a.Store.RosterStatus(ctx, tenant)
	if serr == nil && err != nil {
		serr = err
	}
	detail := st.String()
	if serr != nil {
		detail = "failed: " + statements.ErrorMessage(serr) + "; kept: " + detail
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.roster.sync", Tenant: tenant, Detail: detail})
	return st, serr
}

// RosterFailure returns why tenant's last roster sync failed and when; ""
// when it did not, or when the LRS has no roster sync.
func (a *Admin) RosterFailure(ctx context.Context, tenant string) (string, time.Time, error) {
	if a.RosterSync == nil {
		return "", time.Time{}, nil
	}
	return a.RosterSync.RosterSyncFailure(ctx, tenant)
}

// handleAdminGetRoster serves GET /admin/tenants/:tenant/oneroster/roster:
// the counts of the stored roster, when it was synced, and why the last
// sync failed if it did.
func (s *Server) handleAdminGetRoster(c *gin.Context) {
	tenant := c.Param("tenant")
	ops := s.adminOps()
	st, err := ops.Roster(c.Request.Context(), tenant)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := RosterView(tenant, st)
	msg, at, err := ops.RosterFailure(c.Request.Context(), tenant)
	if err != nil {
		s.fail(c, err)
		return
	}
	if msg != "" {
		v.LastError, v.LastErrorAt = msg, &at
	}
	c.JSON(http.StatusOK, v)
}

// handleAdminSyncRoster serves POST /admin/tenants/:tenant/oneroster/sync:
// reads the tenant's roster from its rostering service now and answers
// the stored roster's status; a failed sync is an error whose message
// says why, and the last good roster stays.
func (s *Server) handleAdminSyncRoster(c *gin.Context) {
	tenant := c.Param("tenant")
	st, err := s.adminOps().SyncRoster(c.Request.Context(), adminActor, tenant)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, RosterView(tenant, st))
}
