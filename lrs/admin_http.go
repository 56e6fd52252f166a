package lrs

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// adminActor is the audit's "who" of the admin API: the holder of the
// admin token.
const adminActor = "admin-api"

// adminRoutes registers the admin API under /admin/ of e, guarded by the
// admin bearer token. Without an admin store or token it is not served.
func (s *Server) adminRoutes(e *gin.Engine) {
	if s.admin == nil || s.adminToken == ([32]byte{}) {
		return
	}
	g := e.Group("/admin", s.authenticateAdmin)
	g.POST("/tenants", s.handleAdminCreateTenant)
	g.GET("/tenants", s.handleAdminListTenants)
	g.GET("/tenants/:tenant", s.handleAdminGetTenant)
	g.PATCH("/tenants/:tenant", s.handleAdminUpdateTenant)
	g.DELETE("/tenants/:tenant", s.handleAdminDeleteTenant)
	g.POST("/tenants/:tenant/credentials", s.handleAdminCreateCredential)
	g.GET("/tenants/:tenant/credentials", s.handleAdminListCredentials)
	g.PATCH("/credentials/:key", s.handleAdminUpdateCredential)
	g.POST("/credentials/:key/rotate", s.handleAdminRotateCredential)
	g.POST("/credentials/:key/revoke", s.handleAdminRevokeCredential)
	g.GET("/audit", s.handleAdminAudit)
	g.GET("/tenants/:tenant/learners/export", s.handleAdminExportLearner)
	g.GET("/tenants/:tenant/credentials/:key/report", s.handleAdminCredentialReport)
	g.POST("/tenants/:tenant/erasures", s.handleAdminCreateErasure)
	g.GET("/tenants/:tenant/erasures/:id", s.handleAdminGetErasure)
	g.GET("/tenants/:tenant/retention", s.handleAdminGetRetention)
	g.PUT("/tenants/:tenant/retention", s.handleAdminPutRetention)

	or := g.Group("/tenants/:tenant/oneroster")
	or.GET("", s.handleAdminGetOneRoster)
	or.PUT("", s.handleAdminPutOneRoster)
	or.DELETE("", s.handleAdminDeleteOneRoster)
	or.GET("/results", s.handleAdminOneRosterResults)
	or.GET("/dead-letters", s.handleAdminOneRosterDeadLetters)
	or.POST("/dead-letters/replay", s.handleAdminOneRosterReplay)
	or.POST("/dead-letters/:sourcedId/replay", s.handleAdminOneRosterReplay)
	or.GET("/students", s.handleAdminOneRosterStudents)
	or.POST("/students", s.handleAdminSetOneRosterStudents)
	or.GET("/activities", s.handleAdminOneRosterActivities)
	or.POST("/activities", s.handleAdminSetOneRosterActivities)
	or.GET("/roster", s.handleAdminGetRoster)
	or.POST("/sync", s.handleAdminSyncRoster)

	s.sandboxRoutes(g)
}

// authenticateAdmin requires "Authorization: Bearer <admin token>".
// The token is checked first, in constant time: the right token is always
// let in, whatever others tried. Wrong tokens count as failed logins of
// the key "admin" and are slowed down.
func (s *Server) authenticateAdmin(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(token))
	if ok && subtle.ConstantTimeCompare(sum[:], s.adminToken[:]) == 1 {
		c.Next()
		return
	}
	addr := c.ClientIP()
	if wait := s.logins.wait("\x00admin", addr, s.now()); wait > 0 {
		s.prom.throttled.WithLabelValues("login").Inc()
		s.tooMany(c, wait, "Authorization: too many failed attempts; wait before trying again")
		return
	}
	s.logins.failed("\x00admin", addr, s.now(), scaleLogins(s.replicas.Count()))
	s.prom.authFails.WithLabelValues("admin").Inc()
	s.log.Warn().Str("request_id", requestIDOf(c)).Str("client", addr).Msg("admin login failed")
	de := statements.Errorf(statements.EUnauthorized, "Authorization: the admin bearer token is required")
	c.Header("WWW-Authenticate", `Bearer realm="lrs-admin"`)
	c.Set(ctxError, error(de))
	c.Set(ctxStatus, http.StatusUnauthorized)
	writeJSONError(c.Writer, requestIDOf(c), http.StatusUnauthorized, de, nil)
	c.Abort()
}

// adminOps returns the operations for a request of the admin API.
func (s *Server) adminOps() *Admin {
	return &Admin{Store: s.store, Admin: s.admin, OneRoster: s.oneRoster, RosterSync: s.rosterSync, Log: s.log, Now: s.now,
		Changed: func(tenant, key string) {
			s.auth.forget(tenant, key)
			s.tenantOrigins.forget()
			if key != "" {
				s.rates.forget(key)
			}
		}}
}

// TenantJSON is a tenant in the admin API.
type TenantJSON struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Created  time.Time   `json:"created"`
	Disabled bool        `json:"disabled"`
	Limits   *LimitsJSON `json:"limits,omitempty"`
	// CORSOrigins are the origins whose browser content may call /xapi/
	// with the tenant's credentials.
	CORSOrigins []string `json:"corsOrigins,omitempty"`
	// IdentityValues are the sign-in claim values the tenant owns.
	IdentityValues []string `json:"identityValues,omitempty"`
}

// LimitsJSON is statements.Limits in the admin API; absent or 0 = not set,
// negative = no limit.
type LimitsJSON struct {
	Rate       float64 `json:"rate,omitempty"`
	Burst      int     `json:"burst,omitempty"`
	Batch      int     `json:"batch,omitempty"`
	QueryLimit int     `json:"queryLimit,omitempty"`
	BodyBytes  int64   `json:"bodyBytes,omitempty"`
}

// CredentialJSON is a credential in the admin API. Secret is only there
// when the credential was created or rotated by the request.
type CredentialJSON struct {
	Key       string          `json:"key"`
	Secret    string          `json:"secret,omitempty"`
	Tenant    string          `json:"tenant"`
	Name      string          `json:"name,omitempty"`
	Scopes    []string        `json:"scopes"`
	Authority json.RawMessage `json:"authority,omitempty"`
	Created   time.Time       `json:"created"`
	Revoked   bool            `json:"revoked"`
	Limits    *LimitsJSON     `json:"limits,omitempty"`
	// XAPIVersion is the xAPI version the app declared it speaks.
	XAPIVersion string `json:"xapiVersion,omitempty"`
	// ProfileMode is what the LRS does with statements that break the
	// xAPI profile: off, flag or strict.
	ProfileMode string `json:"profileMode"`
}

func limitsJSON(l statements.Limits) *LimitsJSON {
	if l == (statements.Limits{}) {
		return nil
	}
	j := LimitsJSON(l)
	return &j
}

func limitsOfJSON(j *LimitsJSON) statements.Limits {
	if j == nil {
		return statements.Limits{}
	}
	return statements.Limits(*j)
}

// TenantView returns the admin API's view of t.
func TenantView(t statements.Tenant) TenantJSON {
	return TenantJSON{ID: t.ID, Name: t.Name, Created: t.Created, Disabled: t.Disabled, Limits: limitsJSON(t.Limits),
		CORSOrigins: t.CORSOrigins, IdentityValues: t.IdentityValues}
}

// CredentialView returns the admin API's view of c, without its secret
// hash.
func CredentialView(c statements.Credential, secret string) CredentialJSON {
	return CredentialJSON{Key: c.Key, Secret: secret, Tenant: c.Tenant, Name: c.Name, Scopes: c.Scopes,
		Authority: c.Authority, Created: c.Created, Revoked: c.Revoked, Limits: limitsJSON(c.Limits), XAPIVersion: c.XAPIVersion,
		ProfileMode: cmp.Or(c.ProfileMode, statements.ProfileOff)}
}

// readAdminBody decodes a JSON request body of at most 64 KiB into v.
func readAdminBody(c *gin.Context, v any) error { return readAdminBodyMax(c, v, 64<<10) }

// readAdminBodyMax decodes a JSON request body of at most limit bytes into
// v; a field v does not have is EInvalid, naming it.
func readAdminBodyMax(c *gin.Context, v any, limit int64) error {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		return statements.Errorf(statements.EInvalid, "body: %v", err)
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return statements.Errorf(statements.EInvalid, "body: %v", err)
	}
	return nil
}

// handleAdminCreateTenant serves POST /admin/tenants:
// {"id": "espoo", "name": "Espoon kaupunki", "limits": {...},
// "identityValues": ["1.2.246.562.10.1"]} → 201.
func (s *Server) handleAdminCreateTenant(c *gin.Context) {
	var in struct {
		ID             string      `json:"id"`
		Name           string      `json:"name"`
		Limits         *LimitsJSON `json:"limits"`
		IdentityValues []string    `json:"identityValues"`
	}
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.adminOps().CreateTenant(c.Request.Context(), adminActor, NewTenant{ID: in.ID, Name: in.Name,
		Limits: limitsOfJSON(in.Limits), IdentityValues: in.IdentityValues})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, TenantView(*t))
}

// handleAdminListTenants serves GET /admin/tenants.
func (s *Server) handleAdminListTenants(c *gin.Context) {
	ts, err := s.adminOps().Tenants(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]TenantJSON, len(ts))
	for i, t := range ts {
		out[i] = TenantView(t)
	}
	c.JSON(http.StatusOK, out)
}

// handleAdminGetTenant serves GET /admin/tenants/:tenant.
func (s *Server) handleAdminGetTenant(c *gin.Context) {
	t, err := s.admin.Tenant(c.Request.Context(), c.Param("tenant"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, TenantView(*t))
}

// handleAdminUpdateTenant serves PATCH /admin/tenants/:tenant:
// {"disabled": true} disables it; "name", "limits", "corsOrigins" and
// "identityValues" change those.
func (s *Server) handleAdminUpdateTenant(c *gin.Context) {
	var in struct {
		Name           *string     `json:"name"`
		Disabled       *bool       `json:"disabled"`
		Limits         *LimitsJSON `json:"limits"`
		CORSOrigins    *[]string   `json:"corsOrigins"`
		IdentityValues *[]string   `json:"identityValues"`
	}
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u := TenantUpdate{Name: in.Name, Disabled: in.Disabled, CORSOrigins: in.CORSOrigins, IdentityValues: in.IdentityValues}
	if in.Limits != nil {
		l := limitsOfJSON(in.Limits)
		u.Limits = &l
	}
	t, err := s.adminOps().UpdateTenant(c.Request.Context(), adminActor, c.Param("tenant"), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, TenantView(*t))
}

// handleAdminCreateCredential serves POST /admin/tenants/:tenant/credentials:
// {"scopes": ["statements/write"], "name": "...", "app": "...", "limits": {...},
// "xapiVersion": "1.0.3", "profileMode": "strict"} → 201 with the key and
// the secret, shown only this once.
func (s *Server) handleAdminCreateCredential(c *gin.Context) {
	var in struct {
		Scopes      []string    `json:"scopes"`
		Name        string      `json:"name"`
		App         string      `json:"app"`
		Limits      *LimitsJSON `json:"limits"`
		XAPIVersion string      `json:"xapiVersion"`
		ProfileMode string      `json:"profileMode"`
	}
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cred, secret, err := s.adminOps().CreateCredential(c.Request.Context(), adminActor, NewCredential{
		Tenant: c.Param("tenant"), Scopes: in.Scopes, Name: in.Name, App: in.App, Limits: limitsOfJSON(in.Limits),
		XAPIVersion: in.XAPIVersion, ProfileMode: in.ProfileMode})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, CredentialView(*cred, secret))
}

// handleAdminListCredentials serves GET /admin/tenants/:tenant/credentials.
func (s *Server) handleAdminListCredentials(c *gin.Context) {
	cs, err := s.adminOps().Credentials(c.Request.Context(), c.Param("tenant"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]CredentialJSON, len(cs))
	for i, cr := range cs {
		out[i] = CredentialView(cr, "")
	}
	c.JSON(http.StatusOK, out)
}

// handleAdminUpdateCredential serves PATCH /admin/credentials/:key:
// {"name": "...", "scopes": [...], "limits": {...}, "xapiVersion": "2.0.0",
// "profileMode": "flag"};
// absent fields are kept.
func (s *Server) handleAdminUpdateCredential(c *gin.Context) {
	var in struct {
		Name        *string     `json:"name"`
		Scopes      []string    `json:"scopes"`
		Limits      *LimitsJSON `json:"limits"`
		XAPIVersion *string     `json:"xapiVersion"`
		ProfileMode *string     `json:"profileMode"`
	}
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u := CredentialUpdate{Name: in.Name, Scopes: in.Scopes, XAPIVersion: in.XAPIVersion, ProfileMode: in.ProfileMode}
	if in.Limits != nil {
		l := limitsOfJSON(in.Limits)
		u.Limits = &l
	}
	cred, err := s.adminOps().UpdateCredential(c.Request.Context(), adminActor, c.Param("key"), u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, CredentialView(*cred, ""))
}

// handleAdminRotateCredential serves POST /admin/credentials/:key/rotate:
// a new secret, shown only this once; the old one stops working at once.
func (s *Server) handleAdminRotateCredential(c *gin.Context) {
	cred, secret, err := s.adminOps().RotateCredential(c.Request.Context(), adminActor, c.Param("key"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, CredentialView(*cred, secret))
}

// handleAdminRevokeCredential serves POST /admin/credentials/:key/revoke.
func (s *Server) handleAdminRevokeCredential(c *gin.Context) {
	cred, err := s.adminOps().RevokeCredential(c.Request.Context(), adminActor, c.Param("key"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, CredentialView(*cred, ""))
}

// AuditJSON is an audit entry in the admin API.
type AuditJSON struct {
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Tenant     string    `json:"tenant,omitempty"`
	Credential string    `json:"credential,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// handleAdminAudit serves GET /admin/audit?limit=: the latest admin
// actions, newest first (default 100).
func (s *Server) handleAdminAudit(c *gin.Context) {
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.fail(c, statements.Errorf(statements.EInvalid, "limit: 1 to 10000"))
			return
		}
		limit = n
	}
	es, err := s.admin.Audit(c.Request.Context(), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]AuditJSON, len(es))
	for i, e := range es {
		out[i] = AuditJSON{Time: e.Time, Actor: e.Actor, Action: e.Action, Tenant: e.Tenant, Credential: e.Target, Detail: e.Detail}
	}
	c.JSON(http.StatusOK, out)
}

// handleAdminExportLearner serves GET
// /admin/tenants/:tenant/learners/export?agent=: everything the LRS holds
// about the learner, as a ZIP archive streamed as it is read (see
// Admin.ExportLearner). A failure after the first byte ends the archive
// short: the connection is dropped, so the client sees a broken response.
func (s *Server) handleAdminExportLearner(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := allowParams(q, "agent"); err != nil {
		s.fail(c, err)
		return
	}
	if len(q["agent"]) != 1 || q.Get("agent") == "" {
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: one xAPI Agent object (JSON) is required"))
		return
	}
	tenant := c.Param("tenant")
	opened := false
	err := s.adminOps().ExportLearner(c.Request.Context(), adminActor, tenant, []byte(q.Get("agent")), func() (io.Writer, error) {
		opened = true
		h := c.Writer.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="learner-export-`+tenant+`.zip"`)
		h.Set("Cache-Control", "no-store")
		c.Status(http.StatusOK)
		return c.Writer, nil
	})
	switch {
	case err != nil && !opened:
		s.fail(c, err)
	case err != nil:
		s.cutShort(c, err)
	}
}
