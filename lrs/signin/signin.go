package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
	"golang.org/x/oauth2"

	"github.com/digione/lrs/statements"
)

// loginTTL is how long a sign-in may take at the provider.
const loginTTL = 10 * time.Minute

// Service signs people in through one OpenID Connect provider and tells
// the people API who is asking. Create it with New, discover the
// provider with Run (or Discover), and mount its routes with Mount.
type Service struct {
	cfg    Config
	seal   *sealer
	log    zerolog.Logger
	now    func() time.Time
	client *http.Client
	public *url.URL // nil: the request's own origin (no PublicURL)
	secure bool     // cookies are Secure (with a PublicURL)
	path   string   // cookie path: the public URL's path
	fail   func(*gin.Context, error)
	prov   atomic.Pointer[provider]
	jwks   *jwksThrottle
}

// provider is what discovery found.
type provider struct {
	oidc       *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string
}

// New returns a Service for cfg, which must pass Check. It does not
// contact the provider: until Run or Discover succeeds, sign-in and
// bearer tokens are answered 503.
func New(cfg Config) (*Service, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.PersonClaim == "" {
		cfg.PersonClaim = DefaultPersonClaim
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = DefaultRoleClaim
	}
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = DefaultTenantClaim
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile"}
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	seal, err := newSealer(cfg.SessionKeys)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, seal: seal, log: cfg.Logger, now: cfg.Now, client: cfg.HTTPClient}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	next := s.client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	s.jwks = &jwksThrottle{next: next, now: s.now}
	client := *s.client
	client.Transport = s.jwks
	s.client = &client
	s.path = "/"
	if cfg.PublicURL != "" {
		s.public, _ = url.Parse(strings.TrimSuffix(cfg.PublicURL, "/"))
		s.secure = !(s.public.Scheme == "http" && isLoopback(s.public.Hostname()))
		s.path = strings.TrimSuffix(s.public.Path, "/") + "/"
	}
	s.fail = defaultFail
	return s, nil
}

// Discover fetches the provider's discovery document once; the Service
// serves sign-in from then on.
func (s *Service) Discover(ctx context.Context) error {
	// NewProvider keeps the context to fetch the JWKS later: it must not
	// end with ctx. The client's timeout bounds each request.
	op, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), s.client), s.cfg.Issuer)
	if err != nil {
		return err
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
		JWKS       string `json:"jwks_uri"`
	}
	_ = op.Claims(&extra)
	s.jwks.url.Store(&extra.JWKS)
	p := &provider{
		oidc:       op,
		verifier:   op.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now}),
		endSession: extra.EndSession,
		oauth: oauth2.Config{
			ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: op.Endpoint(),
			RedirectURL: s.public.String() + "/auth/callback",
			Scopes:      append([]string{oidc.ScopeOpenID}, s.cfg.Scopes...),
		},
	}
	s.prov.Store(p)
	return nil
}

// Run discovers the provider, retrying with back-off (1 s doubling up to
// 1 min) until it succeeds or ctx ends; it returns then. Serving xAPI
// does not wait for it.
func (s *Service) Run(ctx context.Context) {
	if s.cfg.Issuer == "" {
		return
	}
	wait := time.Second
	for {
		err := s.Discover(ctx)
		if err == nil {
			s.log.Info().Str("issuer", s.cfg.Issuer).Msg("sign-in: provider discovered")
			return
		}
		s.log.Warn().Err(err).Str("issuer", s.cfg.Issuer).Dur("retryIn", wait).Msg("sign-in: provider discovery failed; /auth/login answers 503 until it succeeds")
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Minute)
	}
}

// Ready reports whether the provider has been discovered.
func (s *Service) Ready() bool { return s.prov.Load() != nil }

// Mount registers the routes of sign-in and the people API on r:
// GET /auth/login, GET /auth/callback, POST /auth/logout and, behind
// RequirePerson, GET /api/me. fail answers every error (nil: a JSON body
// {"error": code, "message": text}).
func (s *Service) Mount(r gin.IRouter, fail func(*gin.Context, error)) gin.IRouter {
	if fail != nil {
		s.fail = fail
	}
	a := r.Group("/auth", noStore)
	a.GET("/login", s.handleLogin)
	a.GET("/callback", s.handleCallback)
	a.POST("/logout", s.handleLogout)

	api := r.Group("/api", noStore, s.RequirePerson)
	api.GET("/me", s.handleGetMe)
	return api
}

// Pages returns the group of /ui/ on r, where only signed-in people
// arrive (RequirePage): a page asked for without a session redirects to
// the sign-in.
func (s *Service) Pages(r gin.IRouter) gin.IRouter {
	return r.Group("/ui", s.RequirePage)
}

// noStore keeps every answer of sign-in and the people API out of caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// defaultFail answers err as JSON with the status of its code.
func defaultFail(c *gin.Context, err error) {
	code := statements.ErrorCode(err)
	msg := "internal error"
	var de *statements.Error
	if errors.As(err, &de) && code != statements.EInternal {
		msg = de.Message
	}
	status := http.StatusInternalServerError
	switch code {
	case statements.EInvalid:
		status = http.StatusBadRequest
	case statements.EUnauthorized:
		status = http.StatusUnauthorized
	case statements.EForbidden:
		status = http.StatusForbidden
	case statements.ENotFound:
		status = http.StatusNotFound
	case statements.EUnavailable:
		status = http.StatusServiceUnavailable
	}
	c.AbortWithStatusJSON(status, gin.H{"error": code, "message": msg})
}

func (s *Service) provider(c *gin.Context) *provider {
	if s.cfg.Issuer == "" {
		s.fail(c, statements.Errorf(statements.ENotFound, "sign-in: this LRS has no identity provider (--oidc-issuer); a sandbox's test people are signed in from the vendor page, /ui/sandbox"))
		return nil
	}
	p := s.prov.Load()
	if p == nil {
		c.Header("Retry-After", "5")
		s.fail(c, statements.Errorf(statements.EUnavailable, "sign-in: the identity provider has not answered yet; try again soon"))
	}
	return p
}

// pending is the sign-in under way, kept in the login cookie.
type pending struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
	Expires  int64  `json:"e"`
}

func (s *Service) loginCookie() string { return s.cfg.CookieName + "_login" }

// handleLogin serves GET /auth/login?return=/path: it sends the browser
// to the provider, with a fresh state, nonce and PKCE verifier sealed in
// the login cookie. return must be a path on this site; default "/".
func (s *Service) handleLogin(c *gin.Context) {
	ret, ok := returnPath(c.Query("return"))
	if !ok {
		s.fail(c, statements.Errorf(statements.EInvalid, "return: must be a path on this site, such as /ui/"))
		return
	}
	p := s.provider(c)
	if p == nil {
		return
	}
	pd := pending{State: randomText(24), Nonce: randomText(24), Verifier: oauth2.GenerateVerifier(),
		Return: ret, Expires: s.now().Add(loginTTL).Unix()}
	text, err := s.seal.seal("login", pd)
	if err != nil {
		s.fail(c, statements.Internal(err, "sign-in"))
		return
	}
	s.setCookie(c, s.loginCookie(), text, s.path+"auth/", int(loginTTL/time.Second))
	c.Redirect(http.StatusFound, p.oauth.AuthCodeURL(pd.State, oauth2.S256ChallengeOption(pd.Verifier), oidc.Nonce(pd.Nonce)))
}

// returnPath reports whether ret is a path on this site (no scheme, host,
// backslash or control character that a browser could turn into another
// site); "" is "/".
func returnPath(ret string) (string, bool) {
	if ret == "" {
		return "/", true
	}
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || len(ret) > 2048 {
		return "", false
	}
	for _, r := range ret {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "", false
	}
	return ret, true
}

// handleCallback serves GET /auth/callback: the provider's answer. The
// state must match the login cookie's; the code is exchanged with the
// PKCE verifier; the ID token is verified against the provider's keys and
// must carry the nonce. Then the session cookie is set and the browser
// goes to the return path.
func (s *Service) handleCallback(c *gin.Context) {
	p := s.provider(c)
	if p == nil {
		return
	}
	var pd pending
	ck, err := c.Cookie(s.loginCookie())
	s.setCookie(c, s.loginCookie(), "", s.path+"auth/", -1)
	if err != nil || s.seal.open("login", ck, &pd) != nil || s.now().Unix() > pd.Expires {
		s.fail(c, statements.Errorf(statements.EInvalid, "sign-in: no sign-in under way in this browser, or it took too long; start again at /auth/login"))
		return
	}
	if c.Query("error") != "" {
		s.log.Info().Str("providerError", truncate(c.Query("error"), 64)).Msg("sign-in: the provider refused")
		s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the identity provider refused the sign-in"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(c.Query("state")), []byte(pd.State)) != 1 {
		s.fail(c, statements.Errorf(statements.EInvalid, "sign-in: state does not match the sign-in under way"))
		return
	}
	code := c.Query("code")
	if code == "" {
		s.fail(c, statements.Errorf(statements.EInvalid, "sign-in: code: required"))
		return
	}
	ctx := context.WithValue(c.Request.Context(), oauth2.HTTPClient, s.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pd.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			s.log.Info().Int("status", re.Response.StatusCode).Str("providerError", truncate(re.ErrorCode, 64)).Msg("sign-in: the provider refused the code")
			s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the identity provider refused the code"))
			return
		}
		s.fail(c, statements.Errorf(statements.EUnavailable, "sign-in: the identity provider did not answer"))
		s.log.Warn().Err(err).Msg("sign-in: token endpoint")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the identity provider sent no ID token"))
		return
	}
	idt, err := p.verifier.Verify(oidc.ClientContext(c.Request.Context(), s.client), raw)
	if err != nil {
		s.log.Info().Str("reason", err.Error()).Msg("sign-in: ID token refused")
		s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the ID token does not verify"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pd.Nonce)) != 1 {
		s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the ID token's nonce does not match the sign-in under way"))
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		s.fail(c, statements.Errorf(statements.EForbidden, "sign-in: the ID token's claims do not read"))
		return
	}
	if claims[s.cfg.PersonClaim] == nil || claims[s.cfg.RoleClaim] == nil || claims[s.cfg.TenantClaim] == nil {
		s.userInfo(c.Request.Context(), p, tok, idt.Subject, claims)
	}
	person, err := s.personFrom(c.Request.Context(), claims)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.startSession(c, person); err != nil {
		if statements.ErrorCode(err) == statements.EForbidden {
			s.log.Warn().Str("personHash", s.personHash(person.ID)).Int("roles", len(person.Roles)).Msg("sign-in refused: too many roles for a session")
			s.fail(c, err)
			return
		}
		s.fail(c, statements.Internal(err, "sign-in"))
		return
	}
	c.Redirect(http.StatusSeeOther, pd.Return)
}

// userInfo adds to claims the claims it lacks from the provider's
// userinfo, when that answers for the same subject.
func (s *Service) userInfo(ctx context.Context, p *provider, tok *oauth2.Token, sub string, claims map[string]any) {
	ui, err := p.oidc.UserInfo(oidc.ClientContext(ctx, s.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		s.log.Info().Str("reason", err.Error()).Msg("sign-in: userinfo")
		return
	}
	if ui.Subject != sub {
		s.log.Warn().Msg("sign-in: userinfo answered for another subject; ignored")
		return
	}
	more := map[string]any{}
	if ui.Claims(&more) != nil {
		return
	}
	for _, k := range []string{s.cfg.PersonClaim, s.cfg.RoleClaim, s.cfg.TenantClaim} {
		if claims[k] == nil && more[k] != nil {
			claims[k] = more[k]
		}
	}
}

// personFrom reads a Person from verified claims and finds their tenant.
// A refusal is logged with a keyed hash of the person id, never the id.
func (s *Service) personFrom(ctx context.Context, claims map[string]any) (*Person, error) {
	id := claimString(claims[s.cfg.PersonClaim])
	if id == "" {
		s.log.Warn().Str("claim", s.cfg.PersonClaim).Msg("sign-in refused: no person claim")
		return nil, statements.Errorf(statements.EForbidden, "sign-in: the identity provider sent no %s", s.cfg.PersonClaim)
	}
	refuse := func(reason string) error {
		s.log.Warn().Str("personHash", s.personHash(id)).Str("reason", reason).Msg("sign-in refused")
		return statements.Errorf(statements.EForbidden, "sign-in: %s", reason)
	}
	p := &Person{ID: id, Roles: ParseRoles(claims[s.cfg.RoleClaim])}
	if len(p.Roles) == 0 {
		return nil, refuse("no role the LRS knows (learner, teacher or principal) in " + s.cfg.RoleClaim)
	}
	p.TenantValues = dedupe(claimStrings(claims[s.cfg.TenantClaim]))
	if len(p.TenantValues) == 0 {
		return nil, refuse("no " + s.cfg.TenantClaim)
	}
	if s.cfg.Tenant == nil {
		s.log.Error().Msg("sign-in refused: this LRS cannot map identities to tenants")
		return nil, statements.Errorf(statements.EUnavailable, "sign-in: not available on this LRS")
	}
	var tenants []string
	for _, v := range p.TenantValues {
		t, err := s.cfg.Tenant(ctx, v)
		switch {
		case statements.ErrorCode(err) == statements.ENotFound || (err == nil && t == ""):
		case err != nil:
			return nil, statements.Internal(err, "sign-in: tenant lookup")
		default:
			tenants = dedupe(append(tenants, t))
		}
	}
	switch len(tenants) {
	case 0:
		return nil, refuse("no tenant of this LRS owns the person's " + s.cfg.TenantClaim)
	case 1:
		p.Tenant = tenants[0]
	default:
		return nil, refuse("the person's " + s.cfg.TenantClaim + " values belong to more than one tenant")
	}
	return p, nil
}

// personHash is what logs may say of a person id: a keyed hash, stable
// while the first session key stays, that cannot be reversed without it.
func (s *Service) personHash(id string) string { return s.seal.sum("person", id)[:16] }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// urlWithQuery returns raw with the name-value pairs added to its query.
func urlWithQuery(raw string, kv ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
