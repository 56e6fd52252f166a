package signin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
)

const teacherID = "8a3f0c2e-person-teacher-7"

// teacher is what the provider says of the person of most tests.
func teacher() map[string]any {
	return map[string]any{
		"sub":                              "sub-1",
		"urn:mpass.id:uid":                 teacherID,
		"urn:mpass.id:role":                []any{"Helsinki;00123;7B;Opettaja", "Helsinki;00123;;Oppilas"},
		"urn:mpass.id:educationProviderId": []any{"1.2.246.562.10.1"},
		"given_name":                       "Maija",
	}
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	op    *oidctest.Provider
	svc   *signin.Service
	url   string
	clock *clock
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// tenants maps the claim values of the tests to tenants.
var tenants = map[string]string{"1.2.246.562.10.1": "school-a", "1.2.246.562.10.2": "school-a", "1.2.246.562.10.9": "school-b"}

// MustStart runs the provider and an LRS-like server mounting the
// Service on 127.0.0.1, with the provider discovered.
func MustStart(tb testing.TB, mod func(*signin.Config)) *env {
	tb.Helper()
	e := &env{op: oidctest.Start(tb), clock: &clock{t: time.Now()}, logs: &syncBuffer{}}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	e.url = srv.URL
	cfg := signin.Config{Issuer: e.op.URL, ClientID: e.op.ClientID, ClientSecret: e.op.ClientSecret, PublicURL: srv.URL,
		Tenant: func(ctx context.Context, v string) (string, error) {
			if t, ok := tenants[v]; ok {
				return t, nil
			}
			return "", statements.Errorf(statements.ENotFound, "no tenant")
		},
		Logger: zerolog.New(e.logs)}
	cfg.Now = e.clock.Now
	if mod != nil {
		mod(&cfg)
	}
	svc, err := signin.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.Discover(context.Background()); err != nil {
		tb.Fatal(err)
	}
	e.svc = svc
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	svc.Mount(g, nil)
	g.POST("/api/echo", svc.RequirePerson, func(c *gin.Context) { c.String(http.StatusOK, signin.PersonOf(c).Tenant) })
	pages := svc.Pages(g)
	pages.GET("/classes", func(c *gin.Context) { c.String(http.StatusOK, signin.PersonOf(c).Tenant) })
	pages.POST("/classes", func(c *gin.Context) { c.String(http.StatusOK, signin.PersonOf(c).Tenant) })
	h = g
	e.op.SignInAs(teacher())
	return e
}

// newClient returns a client with a cookie jar that does not follow
// redirects.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// follow GETs u and follows redirects, returning every response.
func follow(tb testing.TB, c *http.Client, u string) []*http.Response {
	tb.Helper()
	var out []*http.Response
	for i := 0; i < 10; i++ {
		res, err := c.Get(u)
		if err != nil {
			tb.Fatal(err)
		}
		res.Body.Close()
		out = append(out, res)
		loc := res.Header.Get("Location")
		if loc == "" {
			return out
		}
		next, _ := res.Request.URL.Parse(loc)
		u = next.String()
	}
	tb.Fatal("too many redirects")
	return nil
}

// signIn goes through /auth/login and returns the client, signed in, and
// the callback's response.
func (e *env) signIn(tb testing.TB) (*http.Client, *http.Response) {
	tb.Helper()
	c := newClient()
	rs := follow(tb, c, e.url+"/auth/login?return=/ui/")
	if len(rs) != 4 {
		tb.Fatalf("sign-in took %d steps, want login, authorize, callback, /ui/", len(rs))
	}
	cb := rs[2]
	if got, want := cb.StatusCode, http.StatusSeeOther; got != want {
		tb.Fatalf("callback: status %d, want %d", got, want)
	}
	if got, want := cb.Header.Get("Location"), "/ui/"; got != want {
		tb.Fatalf("callback: Location %q, want %q", got, want)
	}
	return c, cb
}

type me struct {
	Person    string        `json:"person"`
	Role      string        `json:"role"`
	Roles     []signin.Role `json:"roles"`
	Tenant    string        `json:"tenant"`
	CSRFToken string        `json:"csrfToken"`
}

func (e *env) getMe(tb testing.TB, c *http.Client, bearer string) (int, me) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/me", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var m me
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestSignIn_CodeFlow(t *testing.T) {
	e := MustStart(t, nil)
	c, cb := e.signIn(t)
	if e.op.Exchanges != 1 {
		t.Errorf("provider exchanged %d codes, want 1", e.op.Exchanges)
	}
	status, m := e.getMe(t, c, "")
	if status != http.StatusOK {
		t.Fatalf("GET /api/me: %d", status)
	}
	if m.Person != teacherID || m.Tenant != "school-a" || m.Role != "teacher" || len(m.Roles) != 2 || m.CSRFToken == "" {
		t.Errorf("GET /api/me = %+v", m)
	}
	t.Run("CookieFlags", func(t *testing.T) {
		var found bool
		for _, ck := range cb.Cookies() {
			if ck.Name != signin.DefaultCookieName {
				continue
			}
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
				t.Errorf("session cookie: HttpOnly %v, SameSite %v, Secure %v; want true, Lax, false on http://127.0.0.1", ck.HttpOnly, ck.SameSite, ck.Secure)
			}
			if strings.Contains(ck.Value, teacherID) || strings.Contains(ck.Value, "Maija") {
				t.Error("session cookie shows the person in the clear")
			}
		}
		if !found {
			t.Fatal("callback set no session cookie")
		}
	})
	t.Run("NoPersonInLogs", func(t *testing.T) {
		if strings.Contains(e.logs.String(), teacherID) || strings.Contains(e.logs.String(), "Maija") {
			t.Errorf("logs name the person:\n%s", e.logs.String())
		}
	})
}

func TestSignIn_SecureCookieOnHTTPS(t *testing.T) {
	e := MustStart(t, nil)
	svc, err := signin.New(signin.Config{Issuer: e.op.URL, ClientID: "lrs", ClientSecret: "x", PublicURL: "https://lrs.example.fi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := gin.New()
	svc.Mount(g, nil)
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/auth/login", nil))
	res := w.Result()
	if len(res.Cookies()) != 1 || !res.Cookies()[0].Secure || !res.Cookies()[0].HttpOnly {
		t.Fatalf("login cookie on an https public URL: %v, want Secure and HttpOnly", res.Header["Set-Cookie"])
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	if got, want := loc.Query().Get("redirect_uri"), "https://lrs.example.fi/auth/callback"; got != want {
		t.Errorf("redirect_uri %q, want %q", got, want)
	}
	if loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("code_challenge") == "" || loc.Query().Get("nonce") == "" {
		t.Errorf("authorization request without PKCE S256 or nonce: %s", loc.RawQuery)
	}
}

func TestSignIn_Refused(t *testing.T) {
	for _, tt := range []struct {
		name   string
		m      oidctest.Misbehave
		claims func(map[string]any)
		want   int
	}{
		{"WrongNonce", oidctest.Misbehave{Nonce: "other"}, nil, http.StatusForbidden},
		{"WrongAudience", oidctest.Misbehave{Audience: "another-client"}, nil, http.StatusForbidden},
		{"OtherIssuer", oidctest.Misbehave{Issuer: "https://evil.example"}, nil, http.StatusForbidden},
		{"Expired", oidctest.Misbehave{ExpiresIn: -time.Minute}, nil, http.StatusForbidden},
		{"BadSignature", oidctest.Misbehave{BadSignature: true}, nil, http.StatusForbidden},
		{"NoTenant", oidctest.Misbehave{}, func(c map[string]any) { c["urn:mpass.id:educationProviderId"] = "1.2.246.562.10.404" }, http.StatusForbidden},
		{"TwoTenants", oidctest.Misbehave{}, func(c map[string]any) {
			c["urn:mpass.id:educationProviderId"] = []any{"1.2.246.562.10.1", "1.2.246.562.10.9"}
		}, http.StatusForbidden},
		{"NoKnownRole", oidctest.Misbehave{}, func(c map[string]any) { c["urn:mpass.id:role"] = "Helsinki;00123;;Koulusihteeri" }, http.StatusForbidden},
		{"TooManyRoles", oidctest.Misbehave{}, func(c map[string]any) {
			var roles []any
			for i := 0; i < 200; i++ {
				roles = append(roles, fmt.Sprintf("Helsinki;00123;group-%d;Opettaja", i))
			}
			c["urn:mpass.id:role"] = roles
		}, http.StatusForbidden},
		{"NoPerson", oidctest.Misbehave{}, func(c map[string]any) { delete(c, "urn:mpass.id:uid") }, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStart(t, nil)
			claims := teacher()
			if tt.claims != nil {
				tt.claims(claims)
			}
			e.op.SignInAs(claims)
			e.op.Misbehave(tt.m)
			c := newClient()
			rs := follow(t, c, e.url+"/auth/login")
			last := rs[len(rs)-1]
			if got := last.StatusCode; got != tt.want {
				t.Fatalf("callback: status %d, want %d", got, tt.want)
			}
			if status, _ := e.getMe(t, c, ""); status != http.StatusUnauthorized {
				t.Errorf("GET /api/me after a refused sign-in: %d, want 401", status)
			}
			if strings.Contains(e.logs.String(), teacherID) {
				t.Errorf("logs name the person:\n%s", e.logs.String())
			}
		})
	}
}

func TestSignIn_ClaimsFromUserInfo(t *testing.T) {
	e := MustStart(t, nil)
	e.op.Misbehave(oidctest.Misbehave{ClaimsInUserInfo: true})
	c, _ := e.signIn(t)
	if status, m := e.getMe(t, c, ""); status != http.StatusOK || m.Person != teacherID {
		t.Fatalf("GET /api/me: %d %+v", status, m)
	}
}

func TestCallback_State(t *testing.T) {
	e := MustStart(t, nil)
	c := newClient()
	res, err := c.Get(e.url + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = c.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))
	t.Run("Mismatch", func(t *testing.T) {
		u := *cb
		q := u.Query()
		q.Set("state", "forged")
		u.RawQuery = q.Encode()
		if rs := follow(t, c, u.String()); rs[0].StatusCode != http.StatusBadRequest {
			t.Errorf("forged state: %d, want 400", rs[0].StatusCode)
		}
	})
	t.Run("NoLoginCookie", func(t *testing.T) {
		// The login under way lives in the browser: another browser
		// cannot finish it, and the server kept nothing of it.
		if rs := follow(t, newClient(), cb.String()); rs[0].StatusCode != http.StatusBadRequest {
			t.Errorf("callback without the login cookie: %d, want 400", rs[0].StatusCode)
		}
	})
	t.Run("ProviderError", func(t *testing.T) {
		c2 := newClient()
		res, _ := c2.Get(e.url + "/auth/login")
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		res, err := c2.Get(e.url + "/auth/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=" + loc.Query().Get("state"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || strings.Contains(b.String(), "script") {
			t.Errorf("provider error: %d %s, want 403 without the error echoed", res.StatusCode, b.String())
		}
	})
}

func TestLogin_OpenRedirect(t *testing.T) {
	e := MustStart(t, nil)
	for _, ret := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "evil.example"} {
		res, err := newClient().Get(e.url + "/auth/login?return=" + url.QueryEscape(ret))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("return=%q: %d, want 400", ret, res.StatusCode)
		}
	}
}

func TestLogin_ManyPending(t *testing.T) {
	// Hostile clients looping on /auth/login: each gets its own sealed
	// cookie and the provider sees each; nothing is kept server-side, so
	// the last one still finishes.
	e := MustStart(t, nil)
	c := newClient()
	for i := 0; i < 200; i++ {
		res, err := c.Get(e.url + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound {
			t.Fatalf("login %d: %d", i, res.StatusCode)
		}
	}
	c, _ = e.signIn(t)
	if status, _ := e.getMe(t, c, ""); status != http.StatusOK {
		t.Errorf("GET /api/me: %d", status)
	}
}

func TestSession(t *testing.T) {
	t.Run("Tampered", func(t *testing.T) {
		e := MustStart(t, nil)
		c, cb := e.signIn(t)
		u, _ := url.Parse(e.url)
		for _, ck := range cb.Cookies() {
			if ck.Name == signin.DefaultCookieName {
				b := []byte(ck.Value)
				b[len(b)/2] ^= 1
				if b[len(b)/2] == '-' || b[len(b)/2] == '_' {
					b[len(b)/2] = 'A'
				}
				ck.Value = string(b)
				c.Jar.SetCookies(u, []*http.Cookie{ck})
			}
		}
		if status, _ := e.getMe(t, c, ""); status != http.StatusUnauthorized {
			t.Errorf("tampered session: %d, want 401", status)
		}
	})
	t.Run("Idle", func(t *testing.T) {
		e := MustStart(t, nil)
		c, _ := e.signIn(t)
		e.clock.Add(59 * time.Minute)
		if status, _ := e.getMe(t, c, ""); status != http.StatusOK {
			t.Fatalf("after 59 min: %d, want 200", status)
		}
		e.clock.Add(59 * time.Minute) // the request above renewed it
		if status, _ := e.getMe(t, c, ""); status != http.StatusOK {
			t.Fatalf("59 min after the last request: %d, want 200", status)
		}
		e.clock.Add(61 * time.Minute)
		if status, _ := e.getMe(t, c, ""); status != http.StatusUnauthorized {
			t.Errorf("idle 61 min: %d, want 401", status)
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		e := MustStart(t, nil)
		c, _ := e.signIn(t)
		for i := 0; i < 9; i++ {
			e.clock.Add(55 * time.Minute)
			e.getMe(t, c, "")
		}
		if status, _ := e.getMe(t, c, ""); status != http.StatusUnauthorized {
			t.Errorf("8 h 15 min after sign-in: %d, want 401", status)
		}
	})
	t.Run("KeyRotation", func(t *testing.T) {
		old, next := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		e := MustStart(t, func(c *signin.Config) { c.SessionKeys = [][]byte{old} })
		c, _ := e.signIn(t)
		e2 := MustStart(t, func(c *signin.Config) { c.SessionKeys = [][]byte{next, old} })
		moveCookies(t, c, e.url, e2.url)
		if status, _ := e2.getMe(t, c, ""); status != http.StatusOK {
			t.Errorf("session sealed with the previous key: %d, want 200", status)
		}
		e3 := MustStart(t, func(c *signin.Config) { c.SessionKeys = [][]byte{next} })
		moveCookies(t, c, e.url, e3.url)
		if status, _ := e3.getMe(t, c, ""); status != http.StatusUnauthorized {
			t.Errorf("session sealed with a dropped key: %d, want 401", status)
		}
	})
}

// moveCookies copies the cookies of one test server to another (both on
// 127.0.0.1, the jar keeps them per host).
func moveCookies(tb testing.TB, c *http.Client, from, to string) {
	f, _ := url.Parse(from)
	t, _ := url.Parse(to)
	c.Jar.SetCookies(t, c.Jar.Cookies(f))
}

func TestCSRF(t *testing.T) {
	e := MustStart(t, nil)
	c, _ := e.signIn(t)
	_, m := e.getMe(t, c, "")
	post := func(path string, h map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, e.url+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tt := range []struct {
		name   string
		path   string
		header map[string]string
		want   int
	}{
		{"APINoToken", "/api/echo", nil, http.StatusForbidden},
		{"APIWrongToken", "/api/echo", map[string]string{"X-CSRF-Token": "x"}, http.StatusForbidden},
		{"APIOtherOrigin", "/api/echo", map[string]string{"X-CSRF-Token": m.CSRFToken, "Origin": "https://evil.example"}, http.StatusForbidden},
		{"APICrossSite", "/api/echo", map[string]string{"X-CSRF-Token": m.CSRFToken, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"APIToken", "/api/echo", map[string]string{"X-CSRF-Token": m.CSRFToken, "Origin": e.url, "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"LogoutNoToken", "/auth/logout", nil, http.StatusForbidden},
		{"LogoutToken", "/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken, "Accept": "application/json"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.path, tt.header); got != tt.want {
				t.Errorf("POST %s: %d, want %d", tt.path, got, tt.want)
			}
		})
	}
	if status, _ := e.getMe(t, c, ""); status != http.StatusUnauthorized {
		t.Errorf("GET /api/me after logout: %d, want 401", status)
	}
}

func TestBearer(t *testing.T) {
	e := MustStart(t, nil)
	for _, tt := range []struct {
		name string
		m    oidctest.Misbehave
		want int
	}{
		{"OK", oidctest.Misbehave{}, http.StatusOK},
		{"WrongAudience", oidctest.Misbehave{Audience: "portal"}, http.StatusUnauthorized},
		{"Expired", oidctest.Misbehave{ExpiresIn: -time.Minute}, http.StatusUnauthorized},
		{"BadSignature", oidctest.Misbehave{BadSignature: true}, http.StatusUnauthorized},
		{"OtherIssuer", oidctest.Misbehave{Issuer: "https://evil.example"}, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.op.Misbehave(tt.m)
			tok := e.op.Token(t, teacher())
			e.op.Misbehave(oidctest.Misbehave{})
			status, m := e.getMe(t, http.DefaultClient, tok)
			if status != tt.want {
				t.Fatalf("GET /api/me: %d, want %d", status, tt.want)
			}
			if status == http.StatusOK && (m.Person != teacherID || m.Tenant != "school-a" || m.CSRFToken != "") {
				t.Errorf("GET /api/me = %+v", m)
			}
		})
	}
	t.Run("ForgedTokensFetchKeysRarely", func(t *testing.T) {
		e.op.Misbehave(oidctest.Misbehave{BadSignature: true})
		forged := e.op.Token(t, teacher())
		e.op.Misbehave(oidctest.Misbehave{})
		before := e.op.KeyFetches
		for i := 0; i < 20; i++ {
			if status, _ := e.getMe(t, http.DefaultClient, forged); status != http.StatusUnauthorized {
				t.Fatalf("forged token: %d, want 401", status)
			}
		}
		if got := e.op.KeyFetches - before; got > 1 {
			t.Errorf("20 forged tokens fetched the provider's keys %d times, want at most 1", got)
		}
	})
	t.Run("RotatedKey", func(t *testing.T) {
		e.clock.Add(11 * time.Second) // past the bound on fetching keys
		e.op.RotateKey(t)
		if status, _ := e.getMe(t, http.DefaultClient, e.op.Token(t, teacher())); status != http.StatusOK {
			t.Errorf("token signed with a new key: %d, want 200", status)
		}
	})
	t.Run("NoCSRFNeeded", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/echo", nil)
		req.Header.Set("Authorization", "Bearer "+e.op.Token(t, teacher()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("POST with a bearer token: %d, want 200", res.StatusCode)
		}
	})
}

func TestNotDiscovered(t *testing.T) {
	svc, err := signin.New(signin.Config{Issuer: "http://127.0.0.1:1", ClientID: "lrs", ClientSecret: "x", PublicURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	g := gin.New()
	svc.Mount(g, nil)
	for _, r := range []*http.Request{httptest.NewRequest(http.MethodGet, "/auth/login", nil), httptest.NewRequest(http.MethodGet, "/auth/callback?code=x&state=y", nil)} {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s before discovery: %d, want 503", r.URL.Path, w.Code)
		}
	}
}

func TestRequirePage(t *testing.T) {
	e := MustStart(t, nil)
	t.Run("NotSignedIn", func(t *testing.T) {
		res, err := newClient().Get(e.url + "/ui/classes?since=7&sort=-name")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc.Path != "/auth/login" || loc.Query().Get("return") != "/ui/classes?since=7&sort=-name" {
			t.Errorf("%d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("BackAfterSignIn", func(t *testing.T) {
		rs := follow(t, newClient(), e.url+"/ui/classes?since=7")
		last := rs[len(rs)-1]
		if last.StatusCode != http.StatusOK || last.Request.URL.RequestURI() != "/ui/classes?since=7" {
			t.Errorf("ended at %d %s", last.StatusCode, last.Request.URL)
		}
	})
	t.Run("PostIs401", func(t *testing.T) {
		res, err := newClient().Post(e.url+"/ui/classes", "application/x-www-form-urlencoded", strings.NewReader("a=1"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%d, want 401", res.StatusCode)
		}
	})
	t.Run("Bearer", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/ui/classes", nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		res, err := newClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a bad bearer token: %d, want 401, not a redirect", res.StatusCode)
		}
	})
}

// TestSignInAs_NoProvider: with no identity provider, /auth/login is not
// there, a session the LRS starts with SignInAs works like any other
// (cookie, /api/me, CSRF against the request's own origin, sign-out),
// the cookie is Secure unless the request is http to a loopback host,
// and a browser's remembered Basic credential does not stand in for the
// session.
func TestSignInAs_NoProvider(t *testing.T) {
	svc, err := signin.New(signin.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	svc.Mount(r, nil)
	r.POST("/open", func(c *gin.Context) {
		p := &signin.Person{Tenant: "sandbox-acme", ID: "MPASSOID.test.1", Roles: []signin.Role{{School: "s", Group: "7a", Kind: signin.Teacher}}}
		if c.Query("bad") != "" {
			p.Roles = nil
		}
		if err := svc.SignInAs(c, p); err != nil {
			c.String(http.StatusBadRequest, err.Error())
			return
		}
		c.Status(http.StatusNoContent)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := newClient()

	res, err := client.Get(srv.URL + "/auth/login?return=/ui/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/auth/login: %d, want 404", res.StatusCode)
	}
	if res, _ := client.Post(srv.URL+"/open?bad=1", "", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a person with no role: %d, want 400", res.StatusCode)
	}
	res, err = client.Post(srv.URL+"/open", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || len(res.Cookies()) != 1 || res.Cookies()[0].Secure || !res.Cookies()[0].HttpOnly {
		t.Fatalf("SignInAs on http loopback: %d %v, want one HttpOnly cookie, not Secure", res.StatusCode, res.Cookies())
	}
	code, m := (&env{url: srv.URL}).getMe(t, client, "")
	if code != http.StatusOK || m.Tenant != "sandbox-acme" || m.Person != "MPASSOID.test.1" || m.Role != "teacher" || m.CSRFToken == "" {
		t.Fatalf("/api/me: %d %+v", code, m)
	}
	// A Basic credential the browser sends by itself names no person.
	req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
	req.SetBasicAuth("sandbox-key", "secret")
	if res, err := client.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/api/me with the session and a Basic credential: %v %v, want 200", err, res)
	}
	// Sign-out: CSRF checked against the request's own origin.
	logout := func(origin string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/auth/logout", strings.NewReader(url.Values{"csrf": {m.CSRFToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	if code, _ := logout("https://evil.example"); code != http.StatusForbidden {
		t.Errorf("sign-out from another origin: %d, want 403", code)
	}
	if code, to := logout(srv.URL); code != http.StatusSeeOther || to != "/" {
		t.Errorf("sign-out: %d to %q, want 303 to /", code, to)
	}
	if code, _ := (&env{url: srv.URL}).getMe(t, client, ""); code != http.StatusUnauthorized {
		t.Errorf("/api/me after sign-out: %d, want 401", code)
	}

	// A request to a host that is not loopback gets a Secure cookie.
	req, _ = http.NewRequest("POST", srv.URL+"/open", nil)
	req.Host = "lrs.example.fi"
	if res, err := http.DefaultClient.Do(req); err != nil || len(res.Cookies()) != 1 || !res.Cookies()[0].Secure {
		t.Errorf("SignInAs for host lrs.example.fi: %v %v, want a Secure cookie", err, res)
	}
}
