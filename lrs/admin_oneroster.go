package lrs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// The operator actions of the OneRoster write-back (oneroster.Admin),
// checked and audited alike for the admin API and the CLI.

// DefaultPageLimit is the page size of the admin API's listings when the
// request names none.
const DefaultPageLimit = 100

// maxMappingsPerRequest bounds the mappings of one POST of the admin API;
// the CLI sends a file of any size.
const maxMappingsPerRequest = 10000

// oneRoster returns the OneRoster operations for tenant: ENotFound when
// the LRS has none, or when there is no such tenant.
func (a *Admin) oneRoster(ctx context.Context, tenant string) (*oneroster.Admin, error) {
	if a.OneRoster == nil {
		return nil, statements.Errorf(statements.ENotFound, "OneRoster write-back is not available")
	}
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return nil, err
	}
	return a.OneRoster, nil
}

// OneRosterConfig returns tenant's OneRoster configuration, without its
// client secret; ENotFound when it has none.
func (a *Admin) OneRosterConfig(ctx context.Context, tenant string) (*oneroster.ConfigView, error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return or.Config(ctx, tenant)
}

// SetOneRosterConfig stores tenant's OneRoster configuration and returns
// it as shown. An empty ClientSecret keeps the stored one; EInvalid,
// naming the field, when c is incomplete.
func (a *Admin) SetOneRosterConfig(ctx context.Context, actor, tenant string, c oneroster.TenantConfig) (*oneroster.ConfigView, error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return nil, err
	}
	secret := "kept"
	if c.ClientSecret != "" {
		secret = "set"
	}
	if err := or.SetConfig(ctx, tenant, c); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("baseUrl=%s tokenUrl=%s clientId=%s clientSecret=%s", c.BaseURL, c.TokenURL, c.ClientID, secret)
	if c.IdentityHomePage != "" {
		detail += " identityHomePage=" + c.IdentityHomePage
	}
	if len(c.Verbs) > 0 {
		detail += " verbs=" + strings.Join(c.Verbs, ",")
	}
	detail += fmt.Sprintf(" requireStudentMapping=%t disabled=%t", c.RequireStudentMapping, c.Disabled)
	if c.RetractOnErasure {
		detail += " retractOnErasure=true"
	}
	if c.RosterURL != "" {
		detail += " rosterUrl=" + c.RosterURL
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.config.set", Tenant: tenant, Detail: detail})
	return or.Config(ctx, tenant)
}

// DeleteOneRosterConfig removes tenant's OneRoster configuration; its
// statements make no results from then on. Deleting none is no error.
func (a *Admin) DeleteOneRosterConfig(ctx context.Context, actor, tenant string) error {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return err
	}
	if err := or.DeleteConfig(ctx, tenant); err != nil {
		return err
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.config.delete", Tenant: tenant})
	return nil
}

// OneRosterResults returns up to limit of tenant's results in state (""
// for any; oneroster.StateDead for the dead letters), by sourcedId, after
// the sourcedId after; more is the after of the next page, "" at the end.
func (a *Admin) OneRosterResults(ctx context.Context, tenant, state, after string, limit int) (rs []oneroster.ResultView, more string, err error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	return page(limit, func(n int) ([]oneroster.ResultView, error) { return or.Results(ctx, tenant, state, after, n) },
		func(r oneroster.ResultView) string { return r.SourcedID })
}

// ReplayOneRoster makes tenant's dead letter sourcedID, or all its dead
// letters when sourcedID is "", due again now; it returns how many.
// ENotFound when sourcedID is not a dead letter.
func (a *Admin) ReplayOneRoster(ctx context.Context, actor, tenant, sourcedID string) (int, error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n, err := or.Replay(ctx, tenant, sourcedID)
	if err != nil && n == 0 {
		return 0, err
	}
	detail := fmt.Sprintf("replayed=%d", n)
	if sourcedID != "" {
		detail = "result=" + sourcedID + " " + detail
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.replay", Tenant: tenant, Detail: detail})
	return n, err
}

// SetOneRosterStudents writes tenant's student mappings (an empty
// SourcedID removes one) and returns how many. The audit counts them; it
// does not name the students.
func (a *Admin) SetOneRosterStudents(ctx context.Context, actor, tenant string, ms []oneroster.StudentMapping) (int, error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n, err := or.SetStudents(ctx, tenant, ms)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, m := range ms {
		if m.SourcedID == "" {
			removed++
		}
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.students.set", Tenant: tenant,
		Detail: fmt.Sprintf("written=%d removed=%d", n-removed, removed)})
	return n, nil
}

// OneRosterStudents returns up to limit of tenant's student mappings, by
// account, after the account after; more is the after of the next page.
func (a *Admin) OneRosterStudents(ctx context.Context, tenant, after string, limit int) (ms []oneroster.StudentMapping, more string, err error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	return page(limit, func(n int) ([]oneroster.StudentMapping, error) { return or.Students(ctx, tenant, after, n) },
		func(m oneroster.StudentMapping) string { return m.Account })
}

// SetOneRosterActivities writes tenant's activity mappings (an empty
// LineItem removes one) and returns how many.
func (a *Admin) SetOneRosterActivities(ctx context.Context, actor, tenant string, ms []oneroster.ActivityMapping) (int, error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n, err := or.SetActivities(ctx, tenant, ms)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, m := range ms {
		if m.LineItem == "" {
			removed++
		}
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "oneroster.activities.set", Tenant: tenant,
		Detail: fmt.Sprintf("written=%d removed=%d", n-removed, removed)})
	return n, nil
}

// OneRosterActivities returns up to limit of tenant's activity mappings,
// by activity id, after the id after; more is the after of the next page.
func (a *Admin) OneRosterActivities(ctx context.Context, tenant, after string, limit int) (ms []oneroster.ActivityMapping, more string, err error) {
	or, err := a.oneRoster(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	return page(limit, func(n int) ([]oneroster.ActivityMapping, error) { return or.Activities(ctx, tenant, after, n) },
		func(m oneroster.ActivityMapping) string { return m.ActivityID })
}

// page fetches one page of at most limit items (DefaultPageLimit when
// limit <= 0, never above statements.MaxLimit), asking for one more to
// tell whether another page follows; more is the key of the last item
// then.
func page[T any](limit int, fetch func(n int) ([]T, error), key func(T) string) ([]T, string, error) {
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	limit = min(limit, statements.MaxLimit)
	n := min(limit+1, statements.MaxLimit)
	items, err := fetch(n)
	if err != nil {
		return nil, "", err
	}
	if items == nil {
		items = []T{}
	}
	more := ""
	switch {
	case len(items) > limit:
		items = items[:limit]
		more = key(items[limit-1])
	case len(items) == limit && n == limit:
		// A page of MaxLimit: more may follow.
		more = key(items[limit-1])
	}
	return items, more, nil
}

// OneRosterResultsJSON is a page of results (or dead letters) in the
// admin API; More is the after of the next page, "" at the end.
type OneRosterResultsJSON struct {
	Results []oneroster.ResultView `json:"results"`
	More    string                 `json:"more"`
}

// OneRosterStudentsJSON is a page of student mappings in the admin API.
type OneRosterStudentsJSON struct {
	Students []oneroster.StudentMapping `json:"students"`
	More     string                     `json:"more"`
}

// OneRosterActivitiesJSON is a page of activity mappings in the admin
// API.
type OneRosterActivitiesJSON struct {
	Activities []oneroster.ActivityMapping `json:"activities"`
	More       string                      `json:"more"`
}

// pageQuery reads the after and limit parameters of a listing.
func pageQuery(c *gin.Context) (after string, limit int, err error) {
	limit = DefaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > statements.MaxLimit {
			return "", 0, statements.Errorf(statements.EInvalid, "limit: 1 to %d, got %q", statements.MaxLimit, v)
		}
		limit = n
	}
	return c.Query("after"), limit, nil
}

// handleAdminGetOneRoster serves GET /admin/tenants/:tenant/oneroster: the
// tenant's configuration, never its client secret.
func (s *Server) handleAdminGetOneRoster(c *gin.Context) {
	v, err := s.adminOps().OneRosterConfig(c.Request.Context(), c.Param("tenant"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// handleAdminPutOneRoster serves PUT /admin/tenants/:tenant/oneroster with
// a oneroster.TenantConfig; an omitted clientSecret keeps the stored one.
func (s *Server) handleAdminPutOneRoster(c *gin.Context) {
	var in oneroster.TenantConfig
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.adminOps().SetOneRosterConfig(c.Request.Context(), adminActor, c.Param("tenant"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// handleAdminDeleteOneRoster serves DELETE /admin/tenants/:tenant/oneroster.
func (s *Server) handleAdminDeleteOneRoster(c *gin.Context) {
	if err := s.adminOps().DeleteOneRosterConfig(c.Request.Context(), adminActor, c.Param("tenant")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handleAdminOneRosterResults serves GET
// /admin/tenants/:tenant/oneroster/results?state=&after=&limit=.
func (s *Server) handleAdminOneRosterResults(c *gin.Context) {
	s.listOneRosterResults(c, c.Query("state"))
}

// handleAdminOneRosterDeadLetters serves GET
// /admin/tenants/:tenant/oneroster/dead-letters?after=&limit=.
func (s *Server) handleAdminOneRosterDeadLetters(c *gin.Context) {
	s.listOneRosterResults(c, oneroster.StateDead)
}

func (s *Server) listOneRosterResults(c *gin.Context, state string) {
	after, limit, err := pageQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	rs, more, err := s.adminOps().OneRosterResults(c.Request.Context(), c.Param("tenant"), state, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, OneRosterResultsJSON{Results: rs, More: more})
}

// handleAdminOneRosterReplay serves POST
// /admin/tenants/:tenant/oneroster/dead-letters/replay (every dead letter)
// and .../dead-letters/:sourcedId/replay (one): {"replayed": n}.
func (s *Server) handleAdminOneRosterReplay(c *gin.Context) {
	n, err := s.adminOps().ReplayOneRoster(c.Request.Context(), adminActor, c.Param("tenant"), c.Param("sourcedId"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"replayed": n})
}

// handleAdminOneRosterStudents serves GET
// /admin/tenants/:tenant/oneroster/students?after=&limit=.
func (s *Server) handleAdminOneRosterStudents(c *gin.Context) {
	after, limit, err := pageQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ms, more, err := s.adminOps().OneRosterStudents(c.Request.Context(), c.Param("tenant"), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, OneRosterStudentsJSON{Students: ms, More: more})
}

// handleAdminSetOneRosterStudents serves POST
// /admin/tenants/:tenant/oneroster/students
// {"students": [{"account": "...", "sourcedId": "..."}]}: an empty
// sourcedId removes the mapping. → {"written": n}.
func (s *Server) handleAdminSetOneRosterStudents(c *gin.Context) {
	var in struct {
		Students []oneroster.StudentMapping `json:"students"`
	}
	if err := readAdminBodyMax(c, &in, 4<<20); err != nil {
		s.fail(c, err)
		return
	}
	if len(in.Students) > maxMappingsPerRequest {
		s.fail(c, statements.Errorf(statements.EInvalid, "students: at most %d in one request, got %d", maxMappingsPerRequest, len(in.Students)))
		return
	}
	n, err := s.adminOps().SetOneRosterStudents(c.Request.Context(), adminActor, c.Param("tenant"), in.Students)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"written": n})
}

// handleAdminOneRosterActivities serves GET
// /admin/tenants/:tenant/oneroster/activities?after=&limit=.
func (s *Server) handleAdminOneRosterActivities(c *gin.Context) {
	after, limit, err := pageQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ms, more, err := s.adminOps().OneRosterActivities(c.Request.Context(), c.Param("tenant"), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, OneRosterActivitiesJSON{Activities: ms, More: more})
}

// handleAdminSetOneRosterActivities serves POST
// /admin/tenants/:tenant/oneroster/activities {"activities": [{"activityId":
// "...", "lineItem": "...", "class": "...", "scale": {"min": 0, "max": 10}}]}:
// an empty lineItem removes the mapping. → {"written": n}.
func (s *Server) handleAdminSetOneRosterActivities(c *gin.Context) {
	var in struct {
		Activities []oneroster.ActivityMapping `json:"activities"`
	}
	if err := readAdminBodyMax(c, &in, 4<<20); err != nil {
		s.fail(c, err)
		return
	}
	if len(in.Activities) > maxMappingsPerRequest {
		s.fail(c, statements.Errorf(statements.EInvalid, "activities: at most %d in one request, got %d", maxMappingsPerRequest, len(in.Activities)))
		return
	}
	n, err := s.adminOps().SetOneRosterActivities(c.Request.Context(), adminActor, c.Param("tenant"), in.Activities)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"written": n})
}
