package ui

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	// The pages tell days in Finnish time also where the system has no
	// zoneinfo (a scratch container).
	_ "time/tzdata"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// Zone is the time zone of the pages' days and times.
var Zone = mustZone("Europe/Helsinki")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// streamPage is how many statements a stream page shows.
const streamPage = 50

// streamData is a stream of statements grouped by day, newest first.
type streamData struct {
	Days []day
	// Older continues the stream with older statements; "" at its end.
	Older string
	// Live is the URL of the live updates of the stream; "": none.
	Live string
}

func (d streamData) live() bool { return d.Live != "" }

// day is the statements of one day, in Zone.
type day struct {
	Label, ISO string
	Entries    []entryRow
}

// entryRow is a statement in a stream.
type entryRow struct {
	Time, ISO string
	Position  int64
	HTML      template.HTML
}

// dayLabel names the day of t (in Zone) in lang: today, yesterday, or its
// weekday and date.
func (u *UI) dayLabel(lang string, t time.Time) string {
	t = t.In(Zone)
	now := u.cfg.Now().In(Zone)
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return u.cat.T(lang, "day.today")
	case time.Date(ny, nm, nd-1, 0, 0, 0, 0, Zone).Equal(time.Date(y, m, d, 0, 0, 0, 0, Zone)):
		return u.cat.T(lang, "day.yesterday")
	}
	return u.cat.T(lang, "day.label", u.cat.T(lang, "weekday."+strconv.Itoa(int(t.Weekday()))), t.Format(u.cat.T(lang, "date.layout")))
}

// entryOf is a record as a stream shows it.
func (u *UI) entryOf(lang, actor string, r *statements.Record, href func(string) string) entryRow {
	t := r.Stored.In(Zone)
	return entryRow{Time: t.Format("15:04"), ISO: r.Stored.UTC().Format(time.RFC3339), Position: r.Position,
		HTML: SentenceHTML(u.cat, lang, actor, r.Statement, href)}
}

// days groups records, newest first, by their day in Zone.
func (u *UI) days(lang, actor string, recs []*statements.Record, href func(string) string) []day {
	var out []day
	for _, r := range recs {
		iso := r.Stored.In(Zone).Format("2006-01-02")
		if len(out) == 0 || out[len(out)-1].ISO != iso {
			out = append(out, day{ISO: iso, Label: u.dayLabel(lang, r.Stored)})
		}
		out[len(out)-1].Entries = append(out[len(out)-1].Entries, u.entryOf(lang, actor, r, href))
	}
	return out
}

// verbFilters are the verbs a stream filters by: query value → verb.
var verbFilters = []struct{ Value, Verb string }{
	{"completed", people.VerbCompleted}, {"passed", people.VerbPassed}, {"failed", people.VerbFailed},
}

// streamQuery reads a stream's filters: since (a window), verb (one of
// verbFilters), activity (an absolute IRI) and more (the cursor of an
// older page). It returns the query, the window, and the name of a
// parameter that breaks its rule.
func (u *UI) streamQuery(c *gin.Context) (people.Query, string, string) {
	q := people.Query{Limit: streamPage}
	window, days, ok := windowParam(c.DefaultQuery("since", "all"))
	if !ok {
		return q, "", "since"
	}
	if days > 0 {
		q.Since = u.cfg.Now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	if v := c.Query("verb"); v != "" {
		for _, f := range verbFilters {
			if f.Value == v {
				q.Verb = f.Verb
			}
		}
		if q.Verb == "" {
			return q, window, "verb"
		}
	}
	if v := c.Query("activity"); v != "" {
		if !absoluteIRI(v) {
			return q, window, "activity"
		}
		q.Activity = v
	}
	if v := c.Query("more"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return q, window, "more"
		}
		q.Before = n
	}
	return q, window, ""
}

// windowParam returns the window of a since parameter and its days (0:
// all); false when it is none of windows.
func windowParam(v string) (string, int, bool) {
	for _, w := range windows {
		if w.Value == v {
			return v, w.Days, true
		}
	}
	return "", 0, false
}

func absoluteIRI(v string) bool {
	p, err := url.Parse(v)
	return err == nil && p.Scheme != "" && len(v) <= 2048
}

// invalid answers a request whose parameter field breaks its rule.
func (u *UI) invalid(c *gin.Context, lang string, sc *people.Scope, field string) {
	u.render(c, http.StatusBadRequest, "error", lang, u.cat.T(lang, "error.title"), sc, u.cat.T(lang, "error.invalid", field))
	c.Abort()
}

// filterForm is the filters of a stream as its form shows them.
type filterForm struct {
	Windows  []windowOption
	Verbs    []windowOption
	Activity string // the activity filtered by, as its IRI
	// ActivityName is the activity's name; ActivityLang its language
	// when not the page's.
	ActivityName, ActivityLang string
	// Clear is the stream without the activity filter.
	Clear string
}

func (u *UI) filterForm(c *gin.Context, tenant, lang, window string, q people.Query, recs []*statements.Record) filterForm {
	f := filterForm{Activity: q.Activity}
	for _, w := range windows {
		f.Windows = append(f.Windows, windowOption{Value: w.Value, Label: u.cat.T(lang, "overview.window."+w.Value), Selected: w.Value == window})
	}
	f.Verbs = append(f.Verbs, windowOption{Value: "", Label: u.cat.T(lang, "stream.allverbs"), Selected: q.Verb == ""})
	for _, v := range verbFilters {
		f.Verbs = append(f.Verbs, windowOption{Value: v.Value, Label: u.cat.T(lang, "overview.col."+v.Value), Selected: q.Verb == v.Verb})
	}
	if q.Activity != "" {
		f.ActivityName, f.ActivityLang = u.activityName(c.Request.Context(), tenant, lang, q.Activity, recs)
		v := c.Request.URL.Query()
		v.Del("activity")
		v.Del("more")
		v.Set("lang", lang)
		f.Clear = "?" + v.Encode()
	}
	return f
}

// activityName returns the name of activity id in lang and its language
// when not lang: the LRS's definition, else the first of recs that names
// it, else the id.
func (u *UI) activityName(ctx context.Context, tenant, lang, id string, recs []*statements.Record) (string, string) {
	if u.cfg.Activity != nil {
		if b, err := u.cfg.Activity(ctx, tenant, id); err == nil {
			var def struct {
				Name map[string]string `json:"name"`
			}
			if json.Unmarshal(b, &def) == nil {
				if s, tag := PickLang(def.Name, lang); s != "" {
					return s, otherLang(tag, lang)
				}
			}
		}
	}
	for _, r := range recs {
		if e, ok := ReadEntry(u.cat, lang, r.Statement); ok && e.ObjectID == id && e.Object != id {
			return e.Object, e.ObjectLang
		}
	}
	return id, ""
}

// studentData is a student's stream.
type studentData struct {
	streamData
	Name, Class, ClassURL string
	Filters               filterForm
	Student               string
}

// handleStudent serves GET /ui/classes/{class}/students/{student}
// ?since=&verb=&activity=&more=: the student's statements as sentences,
// newest first, grouped by day, a page at a time.
func (u *UI) handleStudent(c *gin.Context) {
	lang := u.lang(c)
	sc, ok := u.scope(c, lang)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	class, students, err := sc.Class(ctx, c.Param("class"))
	if err != nil {
		u.fail(c, lang, sc, err)
		return
	}
	var student *statements.RosterUser
	for i := range students {
		if students[i].SourcedID == c.Param("student") {
			student = &students[i]
		}
	}
	if student == nil {
		u.fail(c, lang, sc, statements.Errorf(statements.ENotFound, "student: not in the class, or not yours to read"))
		return
	}
	q, window, bad := u.streamQuery(c)
	if bad != "" {
		u.invalid(c, lang, sc, bad)
		return
	}
	p, err := u.cfg.Reader.Statements(ctx, sc.Viewer.Tenant, student.SourcedID, q)
	if err != nil {
		u.fail(c, lang, sc, err)
		return
	}
	u.audit(c, sc, "statements", "class:"+class.SourcedID+" learner:"+student.SourcedID)
	name := fullName(*student)
	classPath := "/ui/classes/" + url.PathEscape(class.SourcedID)
	href := func(activity string) string {
		return classPath + "/activity?" + url.Values{"id": {activity}, "lang": {lang}}.Encode()
	}
	d := studentData{Name: name, Class: class.Title, ClassURL: classPath + "?lang=" + lang, Student: student.SourcedID,
		Filters: u.filterForm(c, sc.Viewer.Tenant, lang, window, q, p.Records)}
	d.Days = u.days(lang, name, p.Records, href)
	if p.More {
		v := c.Request.URL.Query()
		v.Set("more", strconv.FormatInt(p.Next, 10))
		d.Older = "?" + v.Encode()
	}
	if u.cfg.Hub != nil && q.Before == 0 && q.Verb == "" && q.Activity == "" {
		d.Live = classPath + "/live?" + url.Values{"lang": {lang}, "student": {student.SourcedID}}.Encode()
	}
	u.render(c, http.StatusOK, "student", lang, name, sc, d)
}

func fullName(u statements.RosterUser) string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// meData is "My activity".
type meData struct {
	streamData
	Learner bool
	Export  string
}

// handleMe serves GET /ui/me?more=: the person's own statements as
// sentences, newest first, grouped by day, and the download of their
// data.
func (u *UI) handleMe(c *gin.Context) {
	lang := u.lang(c)
	sc, ok := u.scope(c, lang)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	d := meData{}
	if sc.Self != nil && sc.Viewer.Role == people.Learner {
		may, err := sc.MayRead(ctx, sc.Self.SourcedID)
		if err != nil {
			u.fail(c, lang, sc, err)
			return
		}
		d.Learner = may
	}
	if d.Learner {
		d.Export = u.cfg.Export
		q := people.Query{Limit: streamPage}
		if v := c.Query("more"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				u.invalid(c, lang, sc, "more")
				return
			}
			q.Before = n
		}
		p, err := u.cfg.Reader.Statements(ctx, sc.Viewer.Tenant, sc.Self.SourcedID, q)
		if err != nil {
			u.fail(c, lang, sc, err)
			return
		}
		u.audit(c, sc, "statements", "self")
		d.Days = u.days(lang, fullName(*sc.Self), p.Records, nil)
		if p.More {
			d.Older = "?" + url.Values{"more": {strconv.FormatInt(p.Next, 10)}, "lang": {lang}}.Encode()
		}
	}
	u.render(c, http.StatusOK, "me", lang, u.cat.T(lang, "me.title"), sc, d)
}
