package lrs

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/ui"
	"github.com/digione/lrs/statements"
)

// sandboxPageRoutes serves the vendor page, GET /ui/sandbox, on r: a
// vendor signs in with the sandbox credential over HTTP Basic, through
// the same check, failed-login slowdown and rate limit as the xAPI API,
// and reads its sandbox's report. static serves the pages' assets too
// (no other page does).
func (s *Server) sandboxPageRoutes(r gin.IRouter, static bool) {
	if s.admin == nil {
		return
	}
	cfg := ui.SandboxConfig{
		Report: s.sandboxPage,
		Open:   s.sandboxOpen,
		Log: func(c *gin.Context, err error) {
			s.log.Error().Err(err).Str("path", c.Request.URL.Path).Msg("page")
		},
		Now: s.now,
	}
	if s.pages != nil {
		cfg.FrameAncestors = s.pages.FrameAncestors
	}
	if _, ok := s.people.(SessionStarter); !ok || static {
		cfg.Open = nil
	}
	p, err := ui.NewSandbox(cfg)
	if err != nil {
		// The template and catalogs are embedded: this is a bug.
		panic(err)
	}
	p.Routes(r, static)
}

// SessionStarter is what People also does when it can start a session
// for a person the LRS vouches for: a sandbox's test person (signin's
// SignInAs).
type SessionStarter interface {
	SignInAs(c *gin.Context, p *signin.Person) error
}

// sandboxOpen serves the vendor page's "open the teacher view": after the
// sandbox credential is checked (sandboxLogin), it signs the browser in
// as person, a test teacher or learner of the sandbox's seeded school,
// and returns the page to go to. The session is a person's: the sandbox's
// roster decides what they read, as for anyone signed in.
func (s *Server) sandboxOpen(c *gin.Context, person string) (string, error) {
	cred, t, err := s.sandboxLogin(c)
	if err != nil {
		return "", err
	}
	seed := SandboxSeed(t.Sandbox)
	for _, tp := range seed.People() {
		if tp.SourcedID != person {
			continue
		}
		kind, next := signin.Learner, "/ui/me"
		if tp.Role == statements.RoleTeacher {
			kind, next = signin.Teacher, "/ui/"
		}
		p := &signin.Person{Tenant: cred.Tenant, ID: tp.Account.Name}
		for _, cl := range tp.Classes {
			p.Roles = append(p.Roles, signin.Role{School: seed.SourcedID, Group: cl, Kind: kind})
		}
		if err := s.people.(SessionStarter).SignInAs(c, p); err != nil {
			return "", err
		}
		return next, nil
	}
	return "", statements.Errorf(statements.EInvalid, "person: %q is not a test teacher or learner of the sandbox", person)
}

// sandboxLogin checks the request's HTTP Basic credential as the xAPI API
// does (failed-login slowdown, rate limit) and returns it with its sandbox
// tenant; EForbidden for a credential that is not a sandbox's
// (sandboxOf).
func (s *Server) sandboxLogin(c *gin.Context) (*statements.Credential, *statements.Tenant, error) {
	p, wait, err := s.login(c)
	if wait > 0 {
		s.prom.throttled.WithLabelValues("login").Inc()
		c.Header("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
		return nil, nil, statements.Errorf(statements.ETooMany, "Authorization: too many failed attempts; wait before trying again")
	}
	if err != nil {
		return nil, nil, err
	}
	if ok, wait := s.rates.allow(p.cred.Key, perReplica(p.limits, s.replicas.Count()), s.now()); !ok {
		s.prom.throttled.WithLabelValues("rate").Inc()
		c.Header("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
		return nil, nil, statements.Errorf(statements.ETooMany, "rate limit of this credential exceeded")
	}
	t, err := s.sandboxOf(c, p.cred)
	if err != nil {
		return nil, nil, err
	}
	return p.cred, t, nil
}

// sandboxPage returns the vendor page's data for the request's sandbox
// credential from since (YYYY-MM-DD; "" a week ago).
func (s *Server) sandboxPage(c *gin.Context, since string) (*ui.SandboxPage, error) {
	cred, t, err := s.sandboxLogin(c)
	if err != nil {
		return nil, err
	}
	vendor := t.Sandbox
	if since == "" {
		since = s.now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, since); err != nil {
		return nil, statements.Errorf(statements.EInvalid, "since: must be a date, YYYY-MM-DD, got %q", since)
	}
	ctx := c.Request.Context()
	a := s.adminOps()
	if err := s.FlushReports(ctx); err != nil {
		return nil, err
	}
	rep, err := a.SandboxReport(ctx, vendor, since)
	if err != nil {
		return nil, err
	}
	days, err := s.report(ctx, cred.Tenant, cred.Key, since)
	if err != nil {
		return nil, err
	}
	seed := SandboxSeed(vendor)
	names := map[string]string{}
	endpoint := requestEndpoint(c, "")
	or := SandboxOneRosterURLs(endpoint)
	p := &ui.SandboxPage{Vendor: vendor, Credential: cred.Key, Endpoint: endpoint,
		TokenURL: or.TokenURL, RosteringURL: or.RosteringURL, GradebookURL: or.GradebookURL,
		ProfileMode: cmp.Or(cred.ProfileMode, statements.ProfileOff), XAPIVersion: cred.XAPIVersion, Since: since,
		Expires: t.Expires, HomePage: oneroster.DefaultIdentityHomePage, Truncated: rep.Truncated}
	for _, cl := range seed.Classes {
		p.Classes = append(p.Classes, ui.SandboxClass{ID: cl.SourcedID, Title: cl.Title})
	}
	for _, tp := range seed.Teachers {
		p.Teachers = append(p.Teachers, ui.SandboxLearner{ID: tp.SourcedID, Name: tp.Name, Account: tp.Account.Name,
			Class: strings.Join(tp.Classes, ", ")})
	}
	for _, l := range seed.Learners {
		names[l.SourcedID] = l.Name
		p.Learners = append(p.Learners, ui.SandboxLearner{ID: l.SourcedID, Name: l.Name, LearnerNumber: l.LearnerNumber,
			Account: l.Account.Name, Class: strings.Join(l.Classes, ", ")})
	}
	for _, li := range seed.LineItems {
		p.LineItems = append(p.LineItems, ui.SandboxLineItem{ID: li.SourcedID, Title: li.Title, Class: li.Class,
			Activity: li.Activity, Min: li.Min, Max: li.Max})
	}
	for _, d := range days {
		pd := ui.SandboxDay{Day: d.Day, Accepted: d.Accepted}
		for _, r := range d.Rows {
			pr := ui.SandboxRow{Kind: r.Kind, Template: r.Template, Rule: r.Rule, Count: r.Count, Example: r.Example}
			if tp := s.profiles.profile.Template(r.Template); tp != nil {
				pr.TemplateNames = tp.PrefLabel
				if r.Rule >= 0 && r.Rule < len(tp.Rules) {
					rule := tp.Rules[r.Rule]
					pr.Location = rule.Location
					if rule.Selector != "" {
						pr.Location += " selector " + rule.Selector
					}
				}
			}
			pd.Rows = append(pd.Rows, pr)
		}
		p.Days = append(p.Days, pd)
	}
	result := func(statement string, r oneroster.Result) ui.SandboxResult {
		out := ui.SandboxResult{Statement: cmp.Or(statement, r.Metadata["xapiStatementId"]), Student: r.Student.SourcedID,
			StudentName: names[r.Student.SourcedID], LineItem: r.LineItem.SourcedID, Score: r.TextScore}
		if r.Score != nil {
			out.Score = strconv.FormatFloat(*r.Score, 'f', -1, 64)
		}
		return out
	}
	for _, g := range rep.Gradebook {
		pg := ui.SandboxGradebookDay{Day: g.Day, Results: g.Results}
		for _, e := range g.ResultExamples {
			if e.Result != nil {
				pg.Examples = append(pg.Examples, result(e.Statement, *e.Result))
			}
		}
		for _, n := range g.NoResult {
			kind, _, _ := strings.Cut(n.Reason, ":")
			pg.NoResult = append(pg.NoResult, ui.SandboxSkipped{Reason: kind, Detail: n.Reason, Count: n.Count, Example: n.Example.Statement})
		}
		p.Gradebook = append(p.Gradebook, pg)
	}
	for _, r := range rep.Results {
		p.Results = append(p.Results, result("", r))
	}
	return p, nil
}
