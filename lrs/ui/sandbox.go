package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// SandboxRealm is the HTTP Basic realm of the vendor page: the browser
// asks for the sandbox credential's key and secret under this name.
const SandboxRealm = "DigiOne LRS sandbox"

// SandboxConfig is what the vendor page reads with.
type SandboxConfig struct {
	// Report checks the request's HTTP Basic credential and its limits and
	// returns the sandbox report of since (YYYY-MM-DD) for it. Its errors:
	// EUnauthorized (no or a wrong credential: the browser is asked for
	// one), EForbidden (not a sandbox's credential), ETooMany (with
	// Retry-After set), EInvalid (a bad since). Required.
	Report func(c *gin.Context, since string) (*SandboxPage, error)
	// Open checks the request's credential as Report does and signs the
	// browser in as a test teacher or learner of the sandbox (person is
	// their sourcedId); it returns the page to go to. Its errors are
	// Report's, and EInvalid for a person the sandbox does not have. nil:
	// the page offers no teacher view (no pages for people on this LRS).
	Open func(c *gin.Context, person string) (string, error)
	// FrameAncestors is the CSP frame-ancestors; default 'none'.
	FrameAncestors string
	// Log records an error the page could not show; nil: nothing.
	Log func(c *gin.Context, err error)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// SandboxPage is what a vendor reads of its sandbox.
type SandboxPage struct {
	Vendor     string
	Credential string
	Endpoint   string
	// TokenURL, RosteringURL and GradebookURL are the sandbox's OneRoster
	// provider; "" when the LRS does not serve one.
	TokenURL, RosteringURL, GradebookURL string
	ProfileMode                          string // off, flag or strict
	XAPIVersion                          string // "": not declared
	Since                                string // YYYY-MM-DD
	Expires                              time.Time
	HomePage                             string // the learners' account.homePage
	Classes                              []SandboxClass
	Teachers                             []SandboxLearner // LearnerNumber empty
	Learners                             []SandboxLearner
	LineItems                            []SandboxLineItem
	// Days is the credential's report per day.
	Days []SandboxDay
	// Gradebook is the dry run of the OneRoster mapping per day.
	Gradebook []SandboxGradebookDay
	// Results are the results in the sandbox gradebook now.
	Results   []SandboxResult
	Truncated bool
}

// SandboxClass is a test class.
type SandboxClass struct{ ID, Title string }

// SandboxLearner is a test learner and the account to put in statements.
type SandboxLearner struct{ ID, Name, LearnerNumber, Account, Class string }

// SandboxLineItem is a test line item.
type SandboxLineItem struct {
	ID, Title, Class, Activity string
	Min, Max                   float64
}

// SandboxDay is a day of the credential's report.
type SandboxDay struct {
	Day      string
	Accepted int64
	Rows     []SandboxRow
}

// SandboxRow is a count of statements rejected or flagged by one rule.
type SandboxRow struct {
	Kind string // statements.ReportRejected or statements.ReportFlagged
	// Template is the template's id, an extra rule's name, or the xAPI
	// rule a statement broke; TemplateNames its prefLabel by language.
	Template      string
	TemplateNames map[string]string
	Rule          int
	Location      string // the rule's location and selector; "" unknown
	Count         int64
	Example       string
}

// SandboxGradebookDay is a day of the gradebook's dry run.
type SandboxGradebookDay struct {
	Day      string
	Results  int
	Examples []SandboxResult
	NoResult []SandboxSkipped
}

// SandboxResult is a result a statement writes (or wrote).
type SandboxResult struct {
	Statement, Student, StudentName, LineItem, Score string
}

// SandboxSkipped counts statements that wrote no result for one reason.
type SandboxSkipped struct {
	// Reason is the kind of reason: "unknown student", "no line item",
	// "unknown line item", "no score", "voided", "invalid"; Detail the
	// whole sentence.
	Reason, Detail string
	Count          int
	Example        string
}

// Sandbox serves the vendor page.
type Sandbox struct {
	u   *UI
	cfg SandboxConfig
}

// NewSandbox loads the catalogs and the vendor page's template.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	u, err := newUI(Config{FrameAncestors: cfg.FrameAncestors, Log: cfg.Log, Now: cfg.Now}, []string{"sandbox"})
	if err != nil {
		return nil, err
	}
	return &Sandbox{u: u, cfg: cfg}, nil
}

// Routes registers GET /ui/sandbox on r, and the pages' assets when
// static is true (no other page serves them).
func (s *Sandbox) Routes(r gin.IRouter, static bool) {
	if static {
		s.u.staticRoutes(r)
	}
	r.GET("/ui/sandbox", s.u.headers, s.handlePage)
	if s.cfg.Open != nil {
		r.POST("/ui/sandbox/open", s.u.headers, s.handleOpen)
	}
}

// handleOpen serves POST /ui/sandbox/open (form field person): the
// sandbox credential's browser becomes a test teacher or learner and goes
// to their pages. Only a form of the vendor page itself may ask: the
// browser sends HTTP Basic credentials to any site's form, so a request
// another site sends (Sec-Fetch-Site, Origin) is refused.
func (s *Sandbox) handleOpen(c *gin.Context) {
	lang := s.u.lang(c)
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		s.fail(c, lang, statements.Errorf(statements.EForbidden, "the request comes from another site"))
		return
	}
	if o := c.GetHeader("Origin"); o != "" && !strings.EqualFold(o, requestOrigin(c)) {
		s.fail(c, lang, statements.Errorf(statements.EForbidden, "the request comes from another origin"))
		return
	}
	next, err := s.cfg.Open(c, c.PostForm("person"))
	if err != nil {
		s.fail(c, lang, err)
		return
	}
	if l := c.PostForm("lang"); l != "" {
		next += "?lang=" + url.QueryEscape(l)
	}
	c.Redirect(http.StatusSeeOther, next)
}

// requestOrigin is the origin the request was sent to.
func requestOrigin(c *gin.Context) string {
	if c.Request.TLS != nil {
		return "https://" + c.Request.Host
	}
	return "http://" + c.Request.Host
}

// sandboxView is the template's data.
type sandboxView struct {
	*SandboxPage
	Message     string
	Open        bool // the teacher view can be opened
	ProfileMode string
	XAPIVersion string
	Expires     string
	Days        []sandboxDayView
	Gradebook   []sandboxGradebookView
}

type sandboxDayView struct {
	Day      string
	Accepted int64
	Rows     []sandboxRowView
}

type sandboxRowView struct {
	SandboxRow
	KindLabel, Name, NameLang string
}

type sandboxGradebookView struct {
	SandboxGradebookDay
	NoResult []sandboxSkippedView
}

type sandboxSkippedView struct {
	SandboxSkipped
	Label string
}

// handlePage serves GET /ui/sandbox?since=YYYY-MM-DD: the sandbox of the
// credential the browser signs in with over HTTP Basic.
func (s *Sandbox) handlePage(c *gin.Context) {
	lang := s.u.lang(c)
	since := c.Query("since")
	p, err := s.cfg.Report(c, since)
	if err != nil {
		s.fail(c, lang, err)
		return
	}
	cat := s.u.cat
	v := sandboxView{SandboxPage: p, ProfileMode: cat.T(lang, "sandbox.mode."+p.ProfileMode),
		XAPIVersion: p.XAPIVersion, Expires: p.Expires.UTC().Format(time.DateOnly), Open: s.cfg.Open != nil}
	if v.XAPIVersion == "" {
		v.XAPIVersion = cat.T(lang, "sandbox.version.none")
	}
	for _, d := range p.Days {
		dv := sandboxDayView{Day: d.Day, Accepted: d.Accepted}
		for _, r := range d.Rows {
			rv := sandboxRowView{SandboxRow: r, KindLabel: cat.T(lang, "sandbox.kind."+r.Kind), Name: r.Template}
			if n, l := PickLang(r.TemplateNames, lang); n != "" {
				rv.Name, rv.NameLang = n, l
			}
			dv.Rows = append(dv.Rows, rv)
		}
		v.Days = append(v.Days, dv)
	}
	for _, g := range p.Gradebook {
		gv := sandboxGradebookView{SandboxGradebookDay: g}
		for _, n := range g.NoResult {
			label := cat.T(lang, "sandbox.reason."+strings.ReplaceAll(n.Reason, " ", "-"))
			if strings.HasPrefix(label, "sandbox.reason.") {
				label = n.Detail
			}
			gv.NoResult = append(gv.NoResult, sandboxSkippedView{SandboxSkipped: n, Label: label})
		}
		v.Gradebook = append(v.Gradebook, gv)
	}
	s.u.render(c, http.StatusOK, "sandbox", lang, cat.T(lang, "sandbox.title", p.Vendor), nil, v)
}

// fail answers err as the vendor page with a message: a 401 asks the
// browser for the sandbox credential.
func (s *Sandbox) fail(c *gin.Context, lang string, err error) {
	status, key := http.StatusInternalServerError, "error.other"
	var args []any
	switch statements.ErrorCode(err) {
	case statements.EUnauthorized:
		status, key = http.StatusUnauthorized, "sandbox.signin"
		c.Header("WWW-Authenticate", `Basic realm="`+SandboxRealm+`", charset="UTF-8"`)
	case statements.EForbidden:
		status, key = http.StatusForbidden, "sandbox.forbidden"
	case statements.ETooMany:
		status, key = http.StatusTooManyRequests, "sandbox.wait"
		secs, _ := strconv.Atoi(c.Writer.Header().Get("Retry-After"))
		args = append(args, max(secs, 1))
	case statements.EInvalid:
		status, key = http.StatusBadRequest, "sandbox.badsince"
		if c.Request.Method == http.MethodPost {
			key = "sandbox.badperson"
		}
	default:
		s.u.log(c, err)
	}
	s.u.render(c, status, "sandbox", lang, s.u.cat.T(lang, "sandbox.title.plain"), nil,
		sandboxView{Message: s.u.cat.T(lang, key, args...)})
	c.Abort()
}
