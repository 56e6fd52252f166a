package lrs

import (
	"context"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// StartTenantDeletion takes tenant out of service at once: it disables
// the tenant and revokes each of its credentials (their requests get 401
// or 403 from now on), and keeps an audit entry. DeleteTenantData then
// removes its data. ENotFound when there is no such tenant.
func (a *Admin) StartTenantDeletion(ctx context.Context, actor, tenant string) error {
	t, err := a.Admin.Tenant(ctx, tenant)
	if err != nil {
		return err
	}
	if !t.Disabled {
		t.Disabled = true
		if err := a.Admin.UpdateTenant(ctx, *t); err != nil {
			return err
		}
	}
	creds, err := a.Admin.Credentials(ctx, tenant)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if c.Revoked {
			continue
		}
		c.Revoked = true
		if err := a.Admin.UpdateCredential(ctx, c); err != nil {
			return err
		}
		a.changed(tenant, c.Key)
	}
	a.changed(tenant, "")
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "tenant.delete", Tenant: tenant})
	return nil
}

// DeleteTenantData removes everything tenant holds, a short write at a
// time (Store.DeleteTenant), and returns when it is gone.
func (a *Admin) DeleteTenantData(ctx context.Context, tenant string) error {
	for {
		done, err := a.Store.DeleteTenant(ctx, tenant)
		if err != nil {
			return err
		}
		if done {
			a.changed(tenant, "")
			a.Log.Info().Str("tenant", tenant).Msg("tenant deleted")
			return nil
		}
	}
}

// DeleteTenant is StartTenantDeletion, then DeleteTenantData.
func (a *Admin) DeleteTenant(ctx context.Context, actor, tenant string) error {
	if err := a.StartTenantDeletion(ctx, actor, tenant); err != nil {
		return err
	}
	return a.DeleteTenantData(ctx, tenant)
}

// tenantDeletions are the tenant deletions this process runs.
type tenantDeletions struct {
	mu      sync.Mutex
	running map[string]bool
}

func (d *tenantDeletions) start(tenant string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running[tenant] {
		return false
	}
	if d.running == nil {
		d.running = map[string]bool{}
	}
	d.running[tenant] = true
	return true
}

func (d *tenantDeletions) done(tenant string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.running, tenant)
}

// tenantDeletionJSON is the answer of DELETE /admin/tenants/{tenant}.
type tenantDeletionJSON struct {
	Tenant string `json:"tenant"`
	Status string `json:"status"` // "deleting"
}

// handleAdminDeleteTenant serves DELETE /admin/tenants/:tenant: the
// tenant's credentials are revoked before the answer (202); its data goes
// in the background, after which GET /admin/tenants/{tenant} is 404.
// Deleting a tenant being deleted is 202 again.
func (s *Server) handleAdminDeleteTenant(c *gin.Context) {
	tenant := c.Param("tenant")
	ops := s.adminOps()
	if err := ops.StartTenantDeletion(c.Request.Context(), adminActor, tenant); err != nil {
		s.fail(c, err)
		return
	}
	if s.tenantDeletions.start(tenant) {
		ctx := context.WithoutCancel(c.Request.Context())
		go func() {
			defer s.tenantDeletions.done(tenant)
			if err := ops.DeleteTenantData(ctx, tenant); err != nil {
				s.log.Error().Err(err).Str("tenant", tenant).Msg("tenant deletion failed; delete it again to resume")
			}
		}()
	}
	c.JSON(http.StatusAccepted, tenantDeletionJSON{Tenant: tenant, Status: "deleting"})
}
