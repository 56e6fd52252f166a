package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// LangCookie is the cookie that remembers a person's language.
const LangCookie = "lrs_lang"

// Config is what the pages read with; lrs gives it, from the same pieces
// as the people API.
type Config struct {
	// Scope works out what the request's person may read by the roster
	// rule. Required.
	Scope func(c *gin.Context) (*people.Scope, error)
	// Reader reads learners' statements and class overviews. Required.
	Reader *people.Reader
	// Overview returns how a class's overview is made (line items,
	// stalled-after) for the class of the scope's tenant; nil: defaults.
	Overview func(ctx context.Context, tenant, class string) (people.Overview, error)
	// Audit records that the person read something (what: "overview",
	// "statements"; target: "class:…", "self"). nil: nothing recorded.
	Audit func(c *gin.Context, sc *people.Scope, what, target string)
	// Log records an error a page could not show; nil: nothing.
	Log func(c *gin.Context, err error)
	// FrameAncestors is the CSP frame-ancestors of the pages; default
	// 'none'.
	FrameAncestors string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// CSRF returns the CSRF token of the request's session, which the
	// sign-out form carries; "" (no sign-out form) for a request without
	// a session. nil: none.
	CSRF func(c *gin.Context) string
	// SignOut is the path of the sign-out (a POST with the form field
	// csrf); default /auth/logout.
	SignOut string
	// FormAction returns the origins besides the LRS's own where a form
	// of the pages may end after redirects (the identity provider's end of
	// session); nil: none.
	FormAction func() []string
	// Activity returns the LRS's definition of an activity (JSON);
	// ENotFound when it has none. nil: names come from statements only.
	Activity func(ctx context.Context, tenant, id string) ([]byte, error)
	// Hub hands out new statements for the pages' live updates; nil: the
	// pages do not update live.
	Hub *people.Hub
	// Heartbeat is how often a live update stream sends a comment and
	// asks the rule again; default 15 s.
	Heartbeat time.Duration
	// Export is the path of a learner's download of their data; default
	// /api/me/export.
	Export string
	// Reads and Streams, when set, run before every page and every live
	// update stream (limits per person).
	Reads, Streams gin.HandlerFunc
}

// UI serves the pages.
type UI struct {
	cfg   Config
	cat   Catalog
	pages map[string]*template.Template
	csp   string
}

// pageNames are the templates rendered inside layout.html.
var pageNames = []string{"classes", "overview", "me", "error", "student", "activity"}

// New loads the catalogs and templates.
func New(cfg Config) (*UI, error) {
	if cfg.Scope == nil || cfg.Reader == nil {
		return nil, fmt.Errorf("ui: Scope and Reader are required")
	}
	return newUI(cfg, pageNames)
}

// newUI loads the catalogs and the templates of names.
func newUI(cfg Config, names []string) (*UI, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Export == "" {
		cfg.Export = "/api/me/export"
	}
	if cfg.SignOut == "" {
		cfg.SignOut = "/auth/logout"
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if strings.TrimSpace(cfg.FrameAncestors) == "" {
		cfg.FrameAncestors = "'none'"
	}
	cat, err := LoadCatalog()
	if err != nil {
		return nil, err
	}
	u := &UI{cfg: cfg, cat: cat, pages: map[string]*template.Template{},
		csp: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors " +
			cfg.FrameAncestors + "; base-uri 'none'; form-action 'self'"}
	for _, name := range names {
		t, err := template.New("layout.html").Funcs(funcs(cat, Languages[0])).
			ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		u.pages[name] = t
	}
	return u, nil
}

// funcs are the template functions for lang.
func funcs(cat Catalog, lang string) template.FuncMap {
	return template.FuncMap{
		"T": func(key string, args ...any) string { return cat.T(lang, key, args...) },
	}
}

// Routes registers the pages on g, the group of /ui/ whose middleware has
// signed the person in; static assets go on r, needing no sign-in.
func (u *UI) Routes(r gin.IRouter, g gin.IRouter) {
	u.staticRoutes(r)
	g.Use(u.headers)
	reads := []gin.HandlerFunc{}
	if u.cfg.Reads != nil {
		reads = append(reads, u.cfg.Reads)
	}
	get := func(path string, h gin.HandlerFunc) { g.GET(path, append(reads, h)...) }
	get("/", u.handleHome)
	get("/classes", u.handleClasses)
	get("/classes/:class", u.handleOverview)
	get("/classes/:class/overview.csv", u.handleOverviewCSV)
	get("/classes/:class/students/:student", u.handleStudent)
	get("/classes/:class/activity", u.handleActivity)
	get("/me", u.handleMe)
	live := []gin.HandlerFunc{}
	if u.cfg.Streams != nil {
		live = append(live, u.cfg.Streams)
	}
	g.GET("/classes/:class/live", append(live, u.handleLive)...)
}

// staticRoutes serves the pages' assets on r, needing no sign-in.
func (u *UI) staticRoutes(r gin.IRouter) {
	static, _ := fs.Sub(staticFS, "static")
	r.GET("/ui/static/*file", u.headers, func(c *gin.Context) {
		f := c.Param("file")
		if strings.HasSuffix(f, "/") {
			// No listings of the assets.
			c.Status(http.StatusNotFound)
			return
		}
		c.Header("Cache-Control", "public, max-age=3600")
		c.FileFromFS(f, http.FS(static))
	})
}

// headers sets the security headers of every page.
func (u *UI) headers(c *gin.Context) {
	h := c.Writer.Header()
	csp := u.csp
	if u.cfg.FormAction != nil {
		for _, o := range u.cfg.FormAction() {
			csp += " " + o
		}
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// lang works out the request's language and remembers a chosen one.
func (u *UI) lang(c *gin.Context) string {
	q := c.Query("lang")
	cookie, _ := c.Cookie(LangCookie)
	l := Negotiate(q, cookie, c.GetHeader("Accept-Language"))
	if q == l && cookie != l {
		http.SetCookie(c.Writer, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
	}
	return l
}

// page is what every page template gets.
type page struct {
	Lang    string
	Title   string
	Langs   []langLink
	Learner bool
	Teacher bool
	// CSRF is the session's token for the sign-out form; "": no form.
	CSRF    string
	SignOut string
	// TitleHTML, when set, is Title as HTML (with language marks).
	TitleHTML template.HTML
	// Script is true on the pages that update live (static/live.js).
	Script bool
	Data   any
}

type langLink struct {
	Code, URL string
	Current   bool
}

func (u *UI) langLinks(c *gin.Context, cur string) []langLink {
	out := make([]langLink, 0, len(Languages))
	for _, l := range Languages {
		q := c.Request.URL.Query()
		q.Set("lang", l)
		out = append(out, langLink{Code: l, URL: c.Request.URL.Path + "?" + q.Encode(), Current: l == cur})
	}
	return out
}

// render answers a page.
func (u *UI) render(c *gin.Context, status int, name, lang, title string, sc *people.Scope, data any) {
	t, err := u.pages[name].Clone()
	if err == nil {
		t.Funcs(funcs(u.cat, lang))
	}
	p := page{Lang: lang, Title: title, Langs: u.langLinks(c, lang), Data: data, SignOut: u.cfg.SignOut}
	if u.cfg.CSRF != nil {
		p.CSRF = u.cfg.CSRF(c)
	}
	if l, ok := data.(interface{ live() bool }); ok {
		p.Script = l.live()
	}
	if h, ok := data.(interface{ titleHTML() template.HTML }); ok {
		p.TitleHTML = h.titleHTML()
	}
	if sc != nil {
		p.Learner = sc.Viewer.Role == people.Learner
		p.Teacher = !p.Learner
	}
	var b bytes.Buffer
	if err == nil {
		err = t.Execute(&b, p)
	}
	if err != nil {
		u.log(c, err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(u.cat.T(lang, "error.other")+"\n"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// htmlT is T as HTML: the catalog's text escaped, its placeholders
// replaced by pieces of HTML.
func (u *UI) htmlT(lang, key string, pieces ...template.HTML) template.HTML {
	marks := make([]any, len(pieces))
	pairs := make([]string, 0, 2*len(pieces))
	for i, p := range pieces {
		m := fmt.Sprintf("\x01%d\x01", i)
		marks[i] = m
		pairs = append(pairs, m, string(p))
	}
	s := template.HTMLEscapeString(u.cat.T(lang, key, marks...))
	return template.HTML(strings.NewReplacer(pairs...).Replace(s))
}

// langHTML is text as HTML, marked with its language tag when set.
func langHTML(el, tag, text string) template.HTML {
	if tag == "" {
		return template.HTML("<" + el + ">" + template.HTMLEscapeString(text) + "</" + el + ">")
	}
	return template.HTML("<" + el + ` lang="` + template.HTMLEscapeString(tag) + `">` + template.HTMLEscapeString(text) + "</" + el + ">")
}

func (u *UI) log(c *gin.Context, err error) {
	if u.cfg.Log != nil {
		u.cfg.Log(c, err)
	}
}

// fail answers an error as a page in lang.
func (u *UI) fail(c *gin.Context, lang string, sc *people.Scope, err error) {
	status, key := http.StatusInternalServerError, "error.other"
	switch statements.ErrorCode(err) {
	case statements.ENotFound:
		status, key = http.StatusNotFound, "error.notfound"
	case statements.EForbidden:
		status, key = http.StatusForbidden, "error.forbidden"
	case statements.EUnauthorized:
		status, key = http.StatusUnauthorized, "error.forbidden"
	case statements.EInvalid:
		status, key = http.StatusBadRequest, "error.other"
	default:
		u.log(c, err)
	}
	u.render(c, status, "error", lang, u.cat.T(lang, "error.title"), sc, u.cat.T(lang, key))
	c.Abort()
}

// scope works out what the request's person may read; false when it has
// answered the request with an error page.
func (u *UI) scope(c *gin.Context, lang string) (*people.Scope, bool) {
	sc, err := u.cfg.Scope(c)
	if err != nil {
		u.fail(c, lang, nil, err)
		return nil, false
	}
	return sc, true
}

func (u *UI) audit(c *gin.Context, sc *people.Scope, what, target string) {
	if u.cfg.Audit != nil {
		u.cfg.Audit(c, sc, what, target)
	}
}

// handleHome serves GET /ui/: a learner's activity, everyone else's
// classes.
func (u *UI) handleHome(c *gin.Context) {
	lang := u.lang(c)
	sc, ok := u.scope(c, lang)
	if !ok {
		return
	}
	to := "classes"
	if sc.Viewer.Role == people.Learner {
		to = "me"
	}
	c.Redirect(http.StatusSeeOther, withLang(c, strings.TrimSuffix(c.Request.URL.Path, "/")+"/"+to))
}

// withLang returns path with the request's lang query kept.
func withLang(c *gin.Context, path string) string {
	if l := c.Query("lang"); known(l) {
		return path + "?lang=" + url.QueryEscape(l)
	}
	return path
}
