package lrs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation/profile"
	"github.com/digione/lrs/validation/profile/digione"
)

// Config holds the dependencies of a Server.
type Config struct {
	// Store keeps the statements, tenants and credentials. Required.
	Store statements.Store
	// Logger receives one line per request and internal errors; the zero
	// value logs nothing.
	Logger zerolog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// NewID returns a new statement id; default a random (version 4) UUID.
	NewID func() string
	// MaxBodyBytes bounds a request body where the credential's limits
	// set no BodyBytes, and always what the LRS holds in memory whole (a
	// JSON body, a document, the statements part of a multipart/mixed
	// body); default 16 MiB.
	MaxBodyBytes int64
	// PageBytes bounds a page of GET /xapi/statements by the size of its
	// statements as stored: the page ends before the statement that would
	// take it past PageBytes (it holds at least one), and its more link
	// continues after the last statement it holds. A GET holds at most
	// about this much of statements in memory; default DefaultPageBytes.
	PageBytes int64
	// AuthCacheTTL is how long a verified credential is trusted without
	// checking its secret hash again; default 1 minute. A credential
	// revoked or rotated, or a tenant disabled, through another process
	// stops working within it; through this process's admin API, at once.
	AuthCacheTTL time.Duration
	// Admin keeps the tenants' state and limits and the audit log, usually
	// the Store itself. With it, credentials of a disabled tenant are
	// refused and the tenants' limits apply; without it (nil), neither.
	Admin statements.AdminStore
	// AdminToken is the bearer token of the admin API under /admin/; the
	// API is served only with a token and an Admin store. Default none.
	AdminToken string
	// TrustedProxies are the addresses (IPs or CIDRs) of the reverse
	// proxies whose X-Forwarded-For names the client, for the per-address
	// slowdown of failed logins; default none: the peer address is the
	// client.
	TrustedProxies []string
	// CORSOrigins are the origins whose browser content may call the xAPI
	// API with credentials (cookies or cached HTTP authentication): each
	// is answered with its own origin and Access-Control-Allow-Credentials.
	// Default none: every origin is answered with "*" and no credentials,
	// which serves content that sends its Authorization header itself.
	// The admin API answers no CORS at all.
	CORSOrigins []string
	// BodyGrace and MinBodyRate bound how slowly a request body may
	// arrive: BodyGrace plus one second per MinBodyRate bytes; slower is a
	// 400 and the connection is dropped. Defaults DefaultBodyGrace and
	// DefaultMinBodyRate; a negative MinBodyRate sets no bound.
	BodyGrace   time.Duration
	MinBodyRate int64
	// Internal, when set, moves /metrics and the admin API off the
	// Server's own routes to the handler Internal returns, for a listener
	// of their own that only operators reach. Default false: the Server
	// serves them too.
	Internal bool
	// ReadyRequiresSinks makes /readyz answer 503 while a sink (Kafka, a
	// gradebook) has been failing for 30 s. Default false: /readyz means
	// "can take writes", and a failing sink is only reported in its body,
	// since the store keeps what the sink has yet to take.
	ReadyRequiresSinks bool
	// LoginPause is the longest a wrong attempt waits for its answer
	// while failures make attempts from its address wait; default
	// DefaultLoginPause.
	LoginPause time.Duration
	// Limits are the limits of a credential where neither it nor its
	// tenant sets one; fields left zero take DefaultLimits.
	Limits statements.Limits
	// Ready reports, for /readyz, what else the LRS needs to be ready
	// (the forwarders' sinks); nil = nothing else.
	Ready func() error
	// Metrics writes more metrics in the Prometheus text format after the
	// server's own on /metrics (the relay's, the write-back's); nil: none.
	Metrics func(io.Writer) error
	// Replicas counts the LRS processes serving the deployment: each
	// credential's rate and burst, and the failed-login slowdown, are
	// divided among them (see Replicas). Default nil: this process alone.
	Replicas *Replicas
	// Sizer reports the store's size for /metrics (lrs_store_size_bytes,
	// lrs_store_statements), read at most every StoreSizeEvery; default
	// nil: no such metrics.
	Sizer statements.Sizer
	// OneRoster holds the operations of the OneRoster gradebook
	// write-back, served by the admin API under
	// /admin/tenants/{id}/oneroster; nil = those routes answer 404.
	OneRoster *oneroster.Admin
	// TracerProvider makes a span of each request (see traceRequest);
	// nil: no spans and no cost.
	TracerProvider trace.TracerProvider
	// People serves people's sign-in under /auth/ and the people API
	// under /api/ (lrs/signin's Service); nil = neither is served.
	People PeopleRoutes
	// RosterSync syncs a tenant's roster on demand, for POST
	// /admin/tenants/{id}/oneroster/sync; nil = that route answers 404.
	RosterSync RosterSync
	// ReadyNotes returns what /readyz reports in the body of a 200 and
	// never makes a 503 (a failing roster sync: the last good roster
	// stays); "" for nothing. nil = nothing.
	ReadyNotes func() string
	// PeopleAPI is what the people API reads with (the roster rule, the
	// identity rule); nil = only /api/me is served.
	PeopleAPI *PeopleAPI
	// Pages are the settings of the pages people read under /ui/, served
	// when People can guard pages (PageRoutes) and PeopleAPI is set; nil:
	// default settings.
	Pages *Pages
	// Profile is the xAPI profile that credentials in flag or strict
	// profile mode are checked against; nil: the DigiOne profile.
	Profile *profile.Profile
	// ProfileRules returns a tenant's rules beyond the profile document
	// (the DigiOne profile's identity home page rule); nil: none.
	ProfileRules func(ctx context.Context, tenant string) ([]*profile.ExtraRule, error)
	// SandboxTTL is how long a sandbox created by the admin API lives;
	// 0 = DefaultSandboxTTL.
	SandboxTTL time.Duration
}

// Pages are the settings of the pages under /ui/.
type Pages struct {
	// FrameAncestors is the CSP frame-ancestors of the pages, the
	// origins that may frame them; default 'none'.
	FrameAncestors string
}

// PageRoutes is what People also does when it can guard pages: it returns
// the group of /ui/, where a person not signed in is sent to sign in.
type PageRoutes interface {
	Pages(r gin.IRouter) gin.IRouter
}

// PeopleRoutes mounts the routes of people's sign-in and the people API
// on the router, answering errors through fail, the server's one error
// responder. It returns the group of /api/, where only signed-in people
// arrive.
type PeopleRoutes interface {
	Mount(r gin.IRouter, fail func(*gin.Context, error)) gin.IRouter
}

// Server serves the LRS over HTTP. It is an http.Handler.
type Server struct {
	store    statements.Store // writes through writes
	writes   *writeWatch
	log      zerolog.Logger
	now      func() time.Time
	newID    func() string
	maxBody  int64
	auth     *authenticator
	merged   mergedDefinitions
	parsing  chan struct{} // slots of the statements being parsed; see parseSlots
	forms    chan struct{} // slots of the alternate-request forms being read
	docLocks *docLocks     // writes of one document, one at a time

	// pageBytes bounds a page of statements; see Config.PageBytes.
	pageBytes   int64
	bodyGrace   time.Duration
	minBodyRate int64 // bytes per second; 0: no bound
	loginPause  time.Duration

	admin      statements.AdminStore
	adminToken [32]byte // SHA-256 of the admin token; zero: no admin API
	logins     *loginGuard
	rates      *rateLimiter
	replicas   *Replicas // nil: 1
	sizes      *sizeCache
	engine     *gin.Engine

	ready         func() error
	metrics       func(io.Writer) error
	oneRoster     *oneroster.Admin
	people        PeopleRoutes
	pages         *Pages
	rosterSync    RosterSync
	readyNotes    func() string
	readers       *peopleAPI      // nil without Config.PeopleAPI
	corsOrigins   map[string]bool // nil: "*" without credentials
	tenantOrigins *tenantOrigins

	internal           *gin.Engine // /metrics and /admin/ with Config.Internal; nil otherwise
	prom               *serverMetrics
	readyRequiresSinks bool
	tracer             trace.Tracer // nil: requests are not traced
	profiles           *profileChecker
	erasures           erasureRuns     // the erasures running in the background
	tenantDeletions    tenantDeletions // the tenant deletions running in the background
	sandboxTTL         time.Duration
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:   cfg.Store,
		log:     cfg.Logger,
		now:     cfg.Now,
		newID:   cfg.NewID,
		maxBody: cfg.MaxBodyBytes,

		pageBytes: cfg.PageBytes,
		admin:     cfg.Admin,
		logins:    newLoginGuard(),
		rates:     newRateLimiter(),
		ready:     cfg.Ready,
		metrics:   cfg.Metrics,

		oneRoster: cfg.OneRoster,
		people:    cfg.People,
		pages:     cfg.Pages,
		parsing:   make(chan struct{}, parseSlots()),
		forms:     make(chan struct{}, alternateForms),
		docLocks:  newDocLocks(),
	}
	if cfg.Store != nil {
		s.writes = &writeWatch{Store: cfg.Store, now: func() time.Time { return s.now() }}
		s.store = s.writes
		if cfg.PeopleAPI != nil {
			s.readers = newPeopleAPI(*cfg.PeopleAPI, cfg.Store)
			if s.readers.hub != nil {
				s.writes.stored = s.readers.hub.Notify
			}
		}
	}
	if cfg.AdminToken != "" {
		s.adminToken = sha256.Sum256([]byte(cfg.AdminToken))
	}
	s.readyRequiresSinks = cfg.ReadyRequiresSinks
	if cfg.TracerProvider != nil {
		s.tracer = cfg.TracerProvider.Tracer(TraceScope)
	}
	s.rosterSync, s.readyNotes = cfg.RosterSync, cfg.ReadyNotes
	s.sandboxTTL = cfg.SandboxTTL
	s.prom = newServerMetrics()
	s.profiles = newProfileChecker(cmp.Or(cfg.Profile, digione.Profile()), cfg.ProfileRules, func() time.Time { return s.now() })
	s.prom.reg.MustRegister(s.profiles.checked, s.profiles.violations)
	s.replicas = cfg.Replicas
	s.prom.reg.MustRegister(replicasGauge(s.replicas))
	if cfg.Sizer != nil {
		s.sizes = &sizeCache{sizer: cfg.Sizer, now: func() time.Time { return s.now() }}
		s.prom.reg.MustRegister(s.sizes)
	}
	if cfg.Internal {
		s.internal = gin.New()
		s.internal.HandleMethodNotAllowed = true
	}
	s.tenantOrigins = &tenantOrigins{now: func() time.Time { return s.now() }}
	if cfg.Store != nil {
		s.tenantOrigins.store = cfg.Store
	}
	s.bodyGrace, s.minBodyRate, s.loginPause = cfg.BodyGrace, cfg.MinBodyRate, cfg.LoginPause
	if s.loginPause <= 0 {
		s.loginPause = DefaultLoginPause
	}
	if s.bodyGrace <= 0 {
		s.bodyGrace = DefaultBodyGrace
	}
	switch {
	case s.minBodyRate == 0:
		s.minBodyRate = DefaultMinBodyRate
	case s.minBodyRate < 0:
		s.minBodyRate = 0
	}
	for _, o := range cfg.CORSOrigins {
		if s.corsOrigins == nil {
			s.corsOrigins = map[string]bool{}
		}
		s.corsOrigins[normalOrigin(o)] = true
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.NewString() }
	}
	if s.maxBody <= 0 {
		s.maxBody = 16 << 20
	}
	if s.pageBytes <= 0 {
		s.pageBytes = DefaultPageBytes
	}
	ttl := cfg.AuthCacheTTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	s.auth = newAuthenticator(cfg.Store, ttl, s.now)
	s.auth.defaults = cfg.Limits.Over(DefaultLimits)
	if cfg.Admin != nil {
		s.auth.tenant = cfg.Admin.Tenant
	}
	gin.SetMode(gin.ReleaseMode)
	s.engine = gin.New()
	s.engine.HandleMethodNotAllowed = true
	if err := s.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		s.log.Error().Err(err).Msg("TrustedProxies: ignored")
		s.engine.SetTrustedProxies(nil)
	}
	s.routes()
	return s
}

// ServeHTTP handles one request: the alternate request syntax of xAPI
// 1.0.3 is rewritten into an ordinary request before routing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.withMinRate(w, r)
	if isAlternate(r) {
		start := s.now()
		var nr *http.Request
		var err error = errBusy
		select {
		case s.forms <- struct{}{}:
			nr, err = alternateRequest(r, s.maxBody)
			<-s.forms
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
		if err != nil {
			rid := requestID(r)
			w.Header().Set("X-Request-Id", rid)
			if err == errBusy {
				w.Header().Set("Retry-After", "1")
			}
			de, _ := asDomainError(err)
			writeError(w, rid, err)
			s.logRequest(r, rid, statusOf(de.Code), start, err)
			return
		}
		r = nr
	}
	s.engine.ServeHTTP(w, r)
}

// Internal returns the handler of the operators' routes (/metrics, the
// admin API under /admin/, /healthz and /readyz) when Config.Internal is
// set, for a listener of their own; nil otherwise.
func (s *Server) Internal() http.Handler {
	if s.internal == nil {
		return nil
	}
	return s.internal
}

// routes is the one route table of the service.
func (s *Server) routes() {
	e := s.engine
	if s.tracer != nil {
		e.Use(s.traceRequest)
	}
	e.Use(s.recoverer, s.requestLog, s.announceVersion, s.cors)
	e.NoRoute(s.handleNotFound)
	e.NoMethod(s.handleMethodNotAllowed)

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/openapi.json", s.handleOpenAPI)
	ops := e // the operators' routes
	if s.internal != nil {
		ops = s.internal
		if s.tracer != nil {
			ops.Use(s.traceRequest)
		}
		ops.Use(s.recoverer, s.requestLog)
		ops.NoRoute(s.handleNotFound)
		ops.NoMethod(s.handleMethodNotAllowed)
		ops.GET("/healthz", s.handleHealth)
		ops.GET("/readyz", s.handleReady)
	}
	ops.GET("/metrics", s.handleMetrics)

	x := e.Group("/xapi")
	x.GET("/about", s.handleGetAbout)
	x.HEAD("/about", s.handleGetAbout)

	api := x.Group("", s.negotiateVersion, s.authenticate, s.limit)
	st := api.Group("/statements", s.consistentThrough)
	st.PUT("", s.require(scopeStatementsWrite), s.handlePutStatement)
	st.POST("", s.require(scopeStatementsWrite), s.handlePostStatements)
	st.GET("", s.require(scopeStatementsReadMine), s.handleGetStatements)
	st.HEAD("", s.require(scopeStatementsReadMine), s.handleGetStatements)
	s.documentRoutes(api)
	s.activityRoutes(api)

	s.adminRoutes(ops)

	pages := false
	if s.people != nil {
		s.peopleRoutes(s.people.Mount(e, s.fail))
		if pr, ok := s.people.(PageRoutes); ok && s.readers != nil {
			s.pageRoutes(e, pr.Pages(e))
			pages = true
		}
	}
	s.sandboxPageRoutes(e, !pages)
	s.sandboxOneRosterRoutes(e)
}

// handleHealth serves GET /healthz: the process is alive.
func (s *Server) handleHealth(c *gin.Context) {
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("ok\n"))
}

func (s *Server) handleNotFound(c *gin.Context) {
	s.fail(c, statements.Errorf(statements.ENotFound, "no resource at %s", c.Request.URL.Path))
}

func (s *Server) handleMethodNotAllowed(c *gin.Context) {
	c.Header("Allow", "GET, HEAD, PUT, POST, DELETE, OPTIONS")
	c.Set(ctxStatus, http.StatusMethodNotAllowed)
	writeErrorStatus(c.Writer, requestIDOf(c), http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed on "+c.Request.URL.Path)
	c.Abort()
}
