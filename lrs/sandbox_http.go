package lrs

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// sandboxRoutes registers the admin API of the vendor sandboxes on g
// (under /admin/).
func (s *Server) sandboxRoutes(g gin.IRouter) {
	g.POST("/sandboxes", s.handleAdminCreateSandbox)
	g.GET("/sandboxes", s.handleAdminListSandboxes)
	g.GET("/sandboxes/:vendor", s.handleAdminGetSandbox)
	g.DELETE("/sandboxes/:vendor", s.handleAdminDeleteSandbox)
	g.POST("/sandboxes/:vendor/reset", s.handleAdminResetSandbox)
	g.GET("/sandboxes/:vendor/results", s.handleAdminSandboxResults)
	g.GET("/sandboxes/:vendor/report", s.handleAdminSandboxReport)
}

// requestEndpoint returns the xAPI endpoint as the request reached the
// LRS, or endpoint when set.
func requestEndpoint(c *gin.Context, endpoint string) string {
	if endpoint != "" {
		return endpoint
	}
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + "/xapi/"
}

// handleAdminCreateSandbox serves POST /admin/sandboxes:
// {"vendor": "acme", "xapiVersion": "2.0.0", "endpoint": "https://..."}
// → 201 with the sandbox, its credential's secret (only this once) and
// the test learners' identities.
func (s *Server) handleAdminCreateSandbox(c *gin.Context) {
	var in struct {
		Vendor      string `json:"vendor"`
		XAPIVersion string `json:"xapiVersion"`
		Endpoint    string `json:"endpoint"`
	}
	if err := readAdminBody(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	sb, err := s.adminOps().CreateSandbox(c.Request.Context(), adminActor, NewSandbox{Vendor: in.Vendor, XAPIVersion: in.XAPIVersion,
		TTL: s.sandboxTTL, Endpoint: requestEndpoint(c, in.Endpoint)})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, sb)
}

// handleAdminListSandboxes serves GET /admin/sandboxes.
func (s *Server) handleAdminListSandboxes(c *gin.Context) {
	sbs, err := s.adminOps().Sandboxes(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sbs)
}

// handleAdminGetSandbox serves GET /admin/sandboxes/:vendor.
func (s *Server) handleAdminGetSandbox(c *gin.Context) {
	sb, err := s.adminOps().Sandbox(c.Request.Context(), c.Param("vendor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sb.SetEndpoint(requestEndpoint(c, ""))
	c.JSON(http.StatusOK, sb)
}

// handleAdminDeleteSandbox serves DELETE /admin/sandboxes/:vendor: the
// sandbox is gone when the answer (204) comes.
func (s *Server) handleAdminDeleteSandbox(c *gin.Context) {
	if err := s.adminOps().DeleteSandbox(c.Request.Context(), adminActor, c.Param("vendor")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handleAdminResetSandbox serves POST /admin/sandboxes/:vendor/reset: the
// sandbox's statements, documents and results are gone when the answer
// (200, the sandbox) comes; its credentials and roster stay.
func (s *Server) handleAdminResetSandbox(c *gin.Context) {
	sb, err := s.adminOps().ResetSandbox(c.Request.Context(), adminActor, c.Param("vendor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	sb.SetEndpoint(requestEndpoint(c, ""))
	c.JSON(http.StatusOK, sb)
}

// handleAdminSandboxResults serves GET /admin/sandboxes/:vendor/results:
// the results in the sandbox gradebook.
func (s *Server) handleAdminSandboxResults(c *gin.Context) {
	res, err := s.adminOps().SandboxResults(c.Request.Context(), c.Param("vendor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// handleAdminSandboxReport serves GET
// /admin/sandboxes/:vendor/report?since=YYYY-MM-DD (default: a week ago).
func (s *Server) handleAdminSandboxReport(c *gin.Context) {
	since := c.Query("since")
	if since == "" {
		since = s.now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	}
	if err := s.FlushReports(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	rep, err := s.adminOps().SandboxReport(c.Request.Context(), c.Param("vendor"), since)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// SandboxSweep returns the sweep of expired sandboxes acting through the
// server's admin operations, so that a deleted sandbox's credentials stop
// working at once in this process too; holder names this process in the
// sweep's lease ("": no lease).
func (s *Server) SandboxSweep(holder string) *SandboxSweep {
	return &SandboxSweep{Admin: s.adminOps(), Holder: holder}
}

// sandboxOneRosterRoutes registers the sandboxes' OneRoster provider on r.
func (s *Server) sandboxOneRosterRoutes(r gin.IRouter) {
	if s.admin == nil {
		return
	}
	r.POST(sandboxTokenPath, s.handleSandboxToken)

	ro := r.Group(sandboxRosteringPath, s.sandboxBearer(oneroster.ScopeRosterCore, oneroster.ScopeRoster))
	ro.GET("/orgs", orList(s, "orgs", func(_ *gin.Context, p *sandboxProvider) ([]orOrg, error) { return p.orgs(), nil }))
	ro.GET("/orgs/:id", orOne(s, "org", "org", func(_ *gin.Context, p *sandboxProvider) ([]orOrg, error) { return p.orgs(), nil }))
	ro.GET("/schools", orList(s, "orgs", func(_ *gin.Context, p *sandboxProvider) ([]orOrg, error) { return p.orgs(), nil }))
	ro.GET("/schools/:id", orOne(s, "org", "school", func(_ *gin.Context, p *sandboxProvider) ([]orOrg, error) { return p.orgs(), nil }))
	ro.GET("/classes", orList(s, "classes", func(_ *gin.Context, p *sandboxProvider) ([]orClass, error) { return p.classes(), nil }))
	ro.GET("/classes/:id", orOne(s, "class", "class", func(_ *gin.Context, p *sandboxProvider) ([]orClass, error) { return p.classes(), nil }))
	ro.GET("/classes/:id/students", orList(s, "users", func(c *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.classUsers(c.Param("id"), statements.RoleStudent)
	}))
	ro.GET("/classes/:id/teachers", orList(s, "users", func(c *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.classUsers(c.Param("id"), statements.RoleTeacher)
	}))
	ro.GET("/users", orList(s, "users", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) { return p.users(""), nil }))
	ro.GET("/users/:id", orOne(s, "user", "user", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) { return p.users(""), nil }))
	ro.GET("/students", orList(s, "users", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.users(statements.RoleStudent), nil
	}))
	ro.GET("/students/:id", orOne(s, "user", "student", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.users(statements.RoleStudent), nil
	}))
	ro.GET("/teachers", orList(s, "users", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.users(statements.RoleTeacher), nil
	}))
	ro.GET("/teachers/:id", orOne(s, "user", "teacher", func(_ *gin.Context, p *sandboxProvider) ([]orUser, error) {
		return p.users(statements.RoleTeacher), nil
	}))
	ro.GET("/enrollments", orList(s, "enrollments", func(_ *gin.Context, p *sandboxProvider) ([]orEnrollment, error) {
		return p.enrollments(), nil
	}))
	ro.GET("/enrollments/:id", orOne(s, "enrollment", "enrollment", func(_ *gin.Context, p *sandboxProvider) ([]orEnrollment, error) {
		return p.enrollments(), nil
	}))
	ro.GET("/courses", orList(s, "courses", func(_ *gin.Context, p *sandboxProvider) ([]orCourse, error) { return p.courses(), nil }))
	ro.GET("/courses/:id", orOne(s, "course", "course", func(_ *gin.Context, p *sandboxProvider) ([]orCourse, error) { return p.courses(), nil }))
	ro.GET("/academicSessions", orList(s, "academicSessions", func(_ *gin.Context, p *sandboxProvider) ([]orAcademicSession, error) {
		return p.terms(), nil
	}))
	ro.GET("/academicSessions/:id", orOne(s, "academicSession", "academicSession", func(_ *gin.Context, p *sandboxProvider) ([]orAcademicSession, error) {
		return p.terms(), nil
	}))
	ro.GET("/terms", orList(s, "academicSessions", func(_ *gin.Context, p *sandboxProvider) ([]orAcademicSession, error) { return p.terms(), nil }))
	ro.GET("/terms/:id", orOne(s, "academicSession", "term", func(_ *gin.Context, p *sandboxProvider) ([]orAcademicSession, error) {
		return p.terms(), nil
	}))

	gb := r.Group(sandboxGradebookPath, s.sandboxBearer(ScopeGradebookRead))
	gb.GET("/lineItems", orList(s, "lineItems", func(_ *gin.Context, p *sandboxProvider) ([]orLineItem, error) { return p.lineItems(""), nil }))
	gb.GET("/lineItems/:id", orOne(s, "lineItem", "lineItem", func(_ *gin.Context, p *sandboxProvider) ([]orLineItem, error) {
		return p.lineItems(""), nil
	}))
	gb.GET("/categories", orList(s, "categories", func(_ *gin.Context, p *sandboxProvider) ([]orCategory, error) { return p.categories(), nil }))
	gb.GET("/categories/:id", orOne(s, "category", "category", func(_ *gin.Context, p *sandboxProvider) ([]orCategory, error) {
		return p.categories(), nil
	}))
	gb.GET("/results", orList(s, "results", func(c *gin.Context, p *sandboxProvider) ([]orResult, error) { return s.sandboxORResults(c, p, "") }))
	gb.GET("/results/:id", orOne(s, "result", "result", func(c *gin.Context, p *sandboxProvider) ([]orResult, error) {
		return s.sandboxORResults(c, p, "")
	}))
	gb.GET("/classes/:id/lineItems", orList(s, "lineItems", func(c *gin.Context, p *sandboxProvider) ([]orLineItem, error) {
		if !p.hasClass(c.Param("id")) {
			return nil, p.noClass(c.Param("id"))
		}
		return p.lineItems(c.Param("id")), nil
	}))
	gb.GET("/classes/:id/results", orList(s, "results", func(c *gin.Context, p *sandboxProvider) ([]orResult, error) {
		if !p.hasClass(c.Param("id")) {
			return nil, p.noClass(c.Param("id"))
		}
		return s.sandboxORResults(c, p, c.Param("id"))
	}))
}
