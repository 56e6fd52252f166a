package signin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// session is what the session cookie holds: who, in which tenant, with
// which roles, its CSRF token, and its times. Nothing else.
type session struct {
	Tenant string   `json:"t"`
	Person string   `json:"p"`
	Roles  []Role   `json:"r"`
	Values []string `json:"v,omitempty"` // tenant claim values
	CSRF   string   `json:"c"`
	Start  int64    `json:"s"` // sign-in, Unix seconds
	Seen   int64    `json:"a"` // last request, Unix seconds
}

// seenEvery is how stale Seen may grow before a request refreshes the
// cookie: the idle expiry is exact to within it.
const seenEvery = time.Minute

func (s *Service) startSession(c *gin.Context, p *Person) error {
	now := s.now().Unix()
	return s.writeSession(c, &session{Tenant: p.Tenant, Person: p.ID, Roles: p.Roles, Values: p.TenantValues,
		CSRF: randomText(24), Start: now, Seen: now})
}

// maxCookie bounds the session cookie: browsers keep cookies of about
// 4096 bytes, name and attributes included.
const maxCookie = 3900

func (s *Service) writeSession(c *gin.Context, ss *session) error {
	text, err := s.seal.seal("session", ss)
	if err != nil {
		return err
	}
	if len(text) > maxCookie {
		return statements.Errorf(statements.EForbidden, "sign-in: the person holds more roles and tenant claim values (%d and %d) than a session keeps", len(ss.Roles), len(ss.Values))
	}
	s.setCookie(c, s.cfg.CookieName, text, s.path, int(s.cfg.SessionTTL/time.Second))
	return nil
}

// readSession returns the live session of the request; nil when it has
// none, or one that does not open or has expired.
func (s *Service) readSession(c *gin.Context) *session {
	text, err := c.Cookie(s.cfg.CookieName)
	if err != nil || text == "" {
		return nil
	}
	var ss session
	if s.seal.open("session", text, &ss) != nil {
		return nil
	}
	now := s.now()
	if now.After(time.Unix(ss.Start, 0).Add(s.cfg.SessionTTL)) || now.After(time.Unix(ss.Seen, 0).Add(s.cfg.SessionIdle)) {
		return nil
	}
	return &ss
}

// setCookie sets (maxAge < 0: deletes) a cookie with the flags every
// cookie of sign-in has: HttpOnly, SameSite=Lax, Secure unless the public
// URL (without one, the request) is http on loopback.
func (s *Service) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	secure := s.secure
	if s.public == nil {
		secure = c.Request.TLS != nil || !isLoopback(hostOnly(c.Request.Host))
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// origin is the LRS's origin, scheme://host: the public URL's, or
// without one the request's own.
func (s *Service) origin(c *gin.Context) string {
	if s.public != nil {
		return s.public.Scheme + "://" + s.public.Host
	}
	if c.Request.TLS != nil {
		return "https://" + c.Request.Host
	}
	return "http://" + c.Request.Host
}

// hostOnly is host:port without the port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// SignInAs starts a session for p, a person the LRS vouches for itself
// rather than the identity provider: a sandbox's test teacher or learner,
// after the vendor proved the sandbox's credential. The session is like
// any other: the roster rule of p.Tenant decides what p reads. The
// caller must have authenticated who asks, and must never pass a person
// of a tenant that is not a sandbox. p needs a tenant, an id and a role
// the LRS knows.
func (s *Service) SignInAs(c *gin.Context, p *Person) error {
	if p == nil || p.Tenant == "" || p.ID == "" || p.Role() == "" {
		return statements.Errorf(statements.EInvalid, "sign-in: a person needs a tenant, an id and a role")
	}
	if err := s.startSession(c, p); err != nil {
		return err
	}
	s.log.Info().Str("tenant", p.Tenant).Str("personHash", s.personHash(p.ID)).Str("role", string(p.Role())).Msg("signed in by the LRS")
	return nil
}

// personKey is where RequirePerson puts the Person in the gin context.
const personKey = "signin.person"

// csrfKey is where RequirePerson puts the session's CSRF token.
const csrfKey = "signin.csrf"

// PersonOf returns the person RequirePerson let through; nil outside it.
func PersonOf(c *gin.Context) *Person {
	p, _ := c.Get(personKey)
	person, _ := p.(*Person)
	return person
}

// RequirePerson lets a request through only for a signed-in person and
// puts them in the context (see PersonOf). A person is signed in by
// Authorization: Bearer with an ID token of the provider for this client
// (audience the client id, not expired, signed with the provider's keys),
// or by the session cookie; a session's state-changing request (any
// method but GET, HEAD, OPTIONS) must come from the LRS's own origin and
// carry the session's CSRF token in X-CSRF-Token or the form field csrf.
// Otherwise it answers 401 (403 for a failed CSRF check).
func (s *Service) RequirePerson(c *gin.Context) {
	if h := personAuthorization(c); h != "" {
		s.bearer(c, h)
		return
	}
	ss := s.readSession(c)
	if ss == nil {
		s.fail(c, statements.Errorf(statements.EUnauthorized, "not signed in: sign in at /auth/login"))
		return
	}
	if !safeMethod(c.Request.Method) {
		if err := s.checkCSRF(c, ss); err != nil {
			s.fail(c, err)
			return
		}
	}
	if now := s.now(); now.Sub(time.Unix(ss.Seen, 0)) >= seenEvery {
		ss.Seen = now.Unix()
		if err := s.writeSession(c, ss); err != nil {
			s.fail(c, statements.Internal(err, "session"))
			return
		}
	}
	c.Set(personKey, &Person{Tenant: ss.Tenant, ID: ss.Person, Roles: ss.Roles, TenantValues: ss.Values})
	c.Set(csrfKey, ss.CSRF)
	c.Next()
}

// RequirePage is RequirePerson for pages: a GET or HEAD of a person who
// is not signed in (no Authorization, no session) is redirected to
// /auth/login, which brings them back to the page afterwards.
func (s *Service) RequirePage(c *gin.Context) {
	if personAuthorization(c) == "" && safeMethod(c.Request.Method) && c.Request.Method != http.MethodOptions && s.readSession(c) == nil {
		c.Redirect(http.StatusFound, s.path+"auth/login?return="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	s.RequirePerson(c)
}

// personAuthorization is the request's Authorization header unless it is
// HTTP Basic: a browser that signed in to the vendor page (/ui/sandbox)
// sends that credential to every page under /ui/ by itself, and it names
// no person, so the session decides.
func personAuthorization(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if scheme, _, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Basic") {
		return ""
	}
	return h
}

// bearer lets the request through for the person of a bearer ID token.
func (s *Service) bearer(c *gin.Context, h string) {
	scheme, raw, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		c.Header("WWW-Authenticate", `Bearer`)
		s.fail(c, statements.Errorf(statements.EUnauthorized, "Authorization: want Bearer and an ID token"))
		return
	}
	if s.cfg.Issuer == "" {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.fail(c, statements.Errorf(statements.EUnauthorized, "Authorization: this LRS has no identity provider whose ID tokens it takes"))
		return
	}
	p := s.provider(c)
	if p == nil {
		return
	}
	idt, err := p.verifier.Verify(c.Request.Context(), strings.TrimSpace(raw))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.fail(c, statements.Errorf(statements.EUnauthorized, "bearer token does not verify"))
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		s.fail(c, statements.Errorf(statements.EUnauthorized, "bearer token's claims do not read"))
		return
	}
	person, err := s.personFrom(c.Request.Context(), claims)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(personKey, person)
	c.Next()
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF checks a state-changing request of a session: it must come
// from the public URL's origin (Sec-Fetch-Site, Origin when the browser
// sends them) and carry the session's token.
func (s *Service) checkCSRF(c *gin.Context, ss *session) error {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return statements.Errorf(statements.EForbidden, "CSRF: the request comes from another site")
	}
	if o := c.GetHeader("Origin"); o != "" && !strings.EqualFold(o, s.origin(c)) {
		return statements.Errorf(statements.EForbidden, "CSRF: the request comes from another origin")
	}
	token := c.GetHeader("X-CSRF-Token")
	if token == "" && strings.HasPrefix(c.ContentType(), "application/x-www-form-urlencoded") {
		token = c.PostForm("csrf")
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(ss.CSRF)) != 1 {
		return statements.Errorf(statements.EForbidden, "CSRF: X-CSRF-Token (or form field csrf) missing or wrong; GET /api/me gives it")
	}
	return nil
}

// handleLogout serves POST /auth/logout: it ends the session (checked
// against CSRF like any state-changing request) and, when the provider
// has an end_session_endpoint, sends the browser there (a JSON client
// gets {"endSessionUrl": ...} instead); otherwise to the public URL.
func (s *Service) handleLogout(c *gin.Context) {
	if ss := s.readSession(c); ss != nil {
		if err := s.checkCSRF(c, ss); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.setCookie(c, s.cfg.CookieName, "", s.path, -1)
	next := s.path
	if s.public != nil {
		next = s.public.String() + "/"
	}
	end := ""
	if p := s.prov.Load(); p != nil && p.endSession != "" {
		if u, err := urlWithQuery(p.endSession, "client_id", s.cfg.ClientID, "post_logout_redirect_uri", next); err == nil {
			end, next = u, u
		}
	}
	if strings.Contains(c.GetHeader("Accept"), "application/json") {
		c.JSON(http.StatusOK, gin.H{"endSessionUrl": end})
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// handleGetMe serves GET /api/me: who is signed in, and the CSRF token
// for the state-changing calls of a browser session ("" for a bearer
// token).
func (s *Service) handleGetMe(c *gin.Context) {
	p := PersonOf(c)
	roles := p.Roles
	if roles == nil {
		roles = []Role{}
	}
	body := gin.H{"person": p.ID, "role": p.Role(), "roles": roles, "tenant": p.Tenant, "csrfToken": c.GetString(csrfKey)}
	if s.cfg.Describe != nil {
		more, err := s.cfg.Describe(c.Request.Context(), p)
		if err != nil {
			s.fail(c, err)
			return
		}
		for k, v := range more {
			if _, taken := body[k]; !taken {
				body[k] = v
			}
		}
	}
	c.JSON(http.StatusOK, body)
}

// CSRFOf returns the CSRF token of the session RequirePerson let through,
// for a page's forms; "" for a bearer token or outside RequirePerson.
func CSRFOf(c *gin.Context) string { return c.GetString(csrfKey) }

// EndSessionOrigin returns the origin (scheme://host) of the provider's
// end_session_endpoint, where a sign-out form's redirect ends; "" when it
// has none or is not discovered yet.
func (s *Service) EndSessionOrigin() string {
	p := s.prov.Load()
	if p == nil || p.endSession == "" {
		return ""
	}
	u, err := url.Parse(p.endSession)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
