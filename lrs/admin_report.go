package lrs

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// ReportJSON is a credential's report in the admin API.
type ReportJSON struct {
	Tenant      string      `json:"tenant"`
	Credential  string      `json:"credential"`
	ProfileMode string      `json:"profileMode"`
	Profile     string      `json:"profile,omitempty"`
	Since       string      `json:"since"`
	Days        []ReportDay `json:"days"`
}

// handleAdminCredentialReport serves GET
// /admin/tenants/:tenant/credentials/:key/report?since=YYYY-MM-DD: per
// day, the statements the credential had accepted and the profile rules
// they broke, flagged or rejected, each with an example statement id.
// The counts of the last seconds, not yet in the store, are included.
func (s *Server) handleAdminCredentialReport(c *gin.Context) {
	tenant, key := c.Param("tenant"), c.Param("key")
	since := c.Query("since")
	if since == "" {
		since = s.now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, since); err != nil {
		s.fail(c, statements.Errorf(statements.EInvalid, "since: must be a date, YYYY-MM-DD, got %q", since))
		return
	}
	cred, err := s.store.Credential(c.Request.Context(), key)
	if err == nil && cred.Tenant != tenant {
		err = statements.Errorf(statements.ENotFound, "tenant %s has no credential %s", tenant, key)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	days, err := s.report(c.Request.Context(), tenant, key, since)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ReportJSON{Tenant: tenant, Credential: key, ProfileMode: cmp.Or(cred.ProfileMode, statements.ProfileOff),
		Profile: s.profiles.profile.ID, Since: since, Days: days})
}

// CredentialReport returns the stored report of the credential key of
// tenant from since (YYYY-MM-DD; "" for all): what `lrs credential
// report` prints. A serving LRS adds the counts of its last seconds,
// which the store has yet to get (GET .../report).
func (a *Admin) CredentialReport(ctx context.Context, tenant, key, since string) (*ReportJSON, error) {
	if since != "" {
		if _, err := time.Parse(time.DateOnly, since); err != nil {
			return nil, statements.Errorf(statements.EInvalid, "since: must be a date, YYYY-MM-DD, got %q", since)
		}
	}
	cred, err := a.Store.Credential(ctx, key)
	if err == nil && cred.Tenant != tenant {
		err = statements.Errorf(statements.ENotFound, "tenant %s has no credential %s", tenant, key)
	}
	if err != nil {
		return nil, err
	}
	rows, err := a.Store.Report(ctx, tenant, key, since)
	if err != nil {
		return nil, err
	}
	return &ReportJSON{Tenant: tenant, Credential: key, ProfileMode: cmp.Or(cred.ProfileMode, statements.ProfileOff),
		Since: since, Days: ReportDays(rows, since)}, nil
}
