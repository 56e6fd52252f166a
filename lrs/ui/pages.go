package ui

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// classRow is a class on "My classes".
type classRow struct {
	Title, Code, URL string
	Students         int
}

// handleClasses serves GET /ui/classes: the classes a teacher teaches,
// those of a principal's school.
func (u *UI) handleClasses(c *gin.Context) {
	lang := u.lang(c)
	sc, ok := u.scope(c, lang)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	classes, err := sc.Classes(ctx)
	if err != nil {
		u.fail(c, lang, sc, err)
		return
	}
	rows := make([]classRow, 0, len(classes))
	for _, cl := range classes {
		_, students, err := sc.Class(ctx, cl.SourcedID)
		if err != nil {
			u.fail(c, lang, sc, err)
			return
		}
		rows = append(rows, classRow{Title: cl.Title, Code: cl.ClassCode, Students: len(students),
			URL: withLang(c, "classes/"+url.PathEscape(cl.SourcedID))})
	}
	u.render(c, http.StatusOK, "classes", lang, u.cat.T(lang, "classes.title"), sc, rows)
}

// windows are the time windows of an overview: query value → days (0: all).
var windows = []struct {
	Value string
	Days  int
}{{"7", 7}, {"30", 30}, {"all", 0}}

// column is a sortable column of an overview.
type column struct {
	Key, Label, URL, Sort string // Sort: aria-sort
}

// overviewRow is a student of an overview as a page shows it.
type overviewRow struct {
	people.Row
	Name, Status, StatusIcon, Last, Mean string
	LastISO                              string // Last for machines; "" for never
	URL                                  string // the student's stream
	// Done of Total line items of the class are completed or passed; no
	// progress without line items.
	Done, Total int
}

type overviewData struct {
	Class   string
	Window  string
	Windows []windowOption
	Columns []column
	Rows    []overviewRow
	CSV     string
	Partial bool
	Sort    string // the sort parameter: key or -key
	// Activities are the class's activities with a line item, and the
	// one the overview is of.
	Activities []activityLink
	// Activity is the activity the overview is of; nil: every activity.
	Activity *activityLink
	// Live is the URL of the overview's live updates; "": none.
	Live string
}

func (d overviewData) live() bool { return d.Live != "" }

// activityLink is an activity of a class and its page.
type activityLink struct {
	ID, Name, Lang string
	URL            string
	Selected       bool // the overview is of this activity
}

// keep adds the overview's activity filter to v.
func (ov *overviewRead) keep(v url.Values) url.Values {
	if ov.activity != "" {
		v.Set("activity", ov.activity)
	}
	return v
}

type windowOption struct {
	Value, Label string
	Selected     bool
}

// overviewRead is a class's overview as a request asked for it.
type overviewRead struct {
	class    *statements.RosterClass
	rows     []overviewRow
	window   string
	activity string // "": every activity
	sc       *people.Scope
	items    []string // the class's line items
}

// overview reads a class's overview for the request (since, activity,
// sort); false when it has answered the request.
func (u *UI) overview(c *gin.Context, lang string) (*overviewRead, bool) {
	ctx := c.Request.Context()
	window := c.DefaultQuery("since", "30")
	days := -1
	for _, w := range windows {
		if w.Value == window {
			days = w.Days
		}
	}
	if days < 0 {
		window, days = "30", 30
	}
	sc, ok := u.scope(c, lang)
	if !ok {
		return nil, false
	}
	activity := c.Query("activity")
	if activity != "" && !absoluteIRI(activity) {
		u.invalid(c, lang, sc, "activity")
		return nil, false
	}
	class, students, err := sc.Class(ctx, c.Param("class"))
	if err != nil {
		u.fail(c, lang, sc, err)
		return nil, false
	}
	o, err := u.overviewOf(c, sc, class.SourcedID, days)
	if err != nil {
		u.fail(c, lang, sc, err)
		return nil, false
	}
	o.Activity = activity
	rows, err := u.cfg.Reader.Overview(ctx, sc.Viewer.Tenant, students, o)
	if err != nil {
		u.fail(c, lang, sc, err)
		return nil, false
	}
	u.audit(c, sc, "overview", "class:"+class.SourcedID)
	out := make([]overviewRow, len(rows))
	for i, r := range rows {
		out[i] = u.overviewRow(lang, class.SourcedID, r, len(o.LineItems))
	}
	key, desc := sortParam(c.Query("sort"))
	sortRows(out, key, desc)
	return &overviewRead{class: class, rows: out, window: window, activity: activity, sc: sc, items: o.LineItems}, true
}

// overviewRow is r as a page shows it, of a class with total line items.
func (u *UI) overviewRow(lang, class string, r people.Row, total int) overviewRow {
	v := overviewRow{Row: r, Name: strings.TrimSpace(r.GivenName + " " + r.FamilyName),
		Status: u.cat.T(lang, "status."+r.Status), StatusIcon: statusIcons[r.Status],
		Last: u.cat.T(lang, "overview.never"), Mean: u.cat.T(lang, "overview.nomean"),
		Total: total,
		URL:   "/ui/classes/" + url.PathEscape(class) + "/students/" + url.PathEscape(r.SourcedID) + "?lang=" + lang}
	if r.LastActivity != nil {
		v.Last = r.LastActivity.In(Zone).Format("2006-01-02 15:04")
		v.LastISO = r.LastActivity.UTC().Format(time.RFC3339)
	}
	if r.MeanScaled != nil {
		v.Mean = fmt.Sprintf("%.0f %%", *r.MeanScaled*100)
	}
	if v.Total > 0 {
		v.Done = min(r.LineItemsDone, v.Total)
	}
	return v
}

// statusIcons mark a status besides its text, never instead of it.
var statusIcons = map[string]string{
	people.StatusNotStarted: "○", people.StatusActive: "●", people.StatusStalled: "◐", people.StatusCompleted: "✓",
}

// sortKeys are the columns an overview sorts by.
var sortKeys = []string{"name", "status", "last", "completed", "passed", "failed", "mean"}

// sortParam parses sort=key or sort=-key (descending); default name.
func sortParam(v string) (string, bool) {
	key, desc := strings.TrimPrefix(v, "-"), strings.HasPrefix(v, "-")
	if !slices.Contains(sortKeys, key) {
		return "name", false
	}
	return key, desc
}

func sortRows(rows []overviewRow, key string, desc bool) {
	slices.SortStableFunc(rows, func(a, b overviewRow) int {
		var n int
		switch key {
		case "status":
			n = cmp.Compare(a.Status, b.Status)
		case "last":
			n = cmp.Compare(unix(a.LastActivity), unix(b.LastActivity))
		case "completed":
			n = cmp.Compare(a.Completed, b.Completed)
		case "passed":
			n = cmp.Compare(a.Passed, b.Passed)
		case "failed":
			n = cmp.Compare(a.Failed, b.Failed)
		case "mean":
			n = cmp.Compare(mean(a.MeanScaled), mean(b.MeanScaled))
		}
		if n == 0 {
			n = cmp.Or(cmp.Compare(a.FamilyName, b.FamilyName), cmp.Compare(a.GivenName, b.GivenName))
		}
		if desc {
			return -n
		}
		return n
	})
}

func unix(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixNano()
}

func mean(m *float64) float64 {
	if m == nil {
		return -1
	}
	return *m
}

// handleOverview serves GET /ui/classes/{class}?since=&sort=: one row per
// student of the class.
func (u *UI) handleOverview(c *gin.Context) {
	lang := u.lang(c)
	ov, ok := u.overview(c, lang)
	if !ok {
		return
	}
	class, rows, window, sc := ov.class, ov.rows, ov.window, ov.sc
	key, desc := sortParam(c.Query("sort"))
	d := overviewData{Class: class.Title, Window: window, Rows: rows, Sort: key}
	if desc {
		d.Sort = "-" + key
	}
	for _, w := range windows {
		d.Windows = append(d.Windows, windowOption{Value: w.Value, Label: u.cat.T(lang, "overview.window."+w.Value), Selected: w.Value == window})
	}
	for _, k := range sortKeys {
		col := column{Key: k, Label: u.cat.T(lang, "overview.col."+k), Sort: "none"}
		next := k
		if k == key {
			col.Sort = "ascending"
			if desc {
				col.Sort = "descending"
			} else {
				next = "-" + k
			}
		}
		q := ov.keep(url.Values{"since": {window}, "sort": {next}, "lang": {lang}})
		col.URL = "?" + q.Encode()
		d.Columns = append(d.Columns, col)
	}
	for _, r := range rows {
		d.Partial = d.Partial || r.Partial
	}
	q := ov.keep(url.Values{"since": {window}, "sort": {c.Query("sort")}, "lang": {lang}})
	d.CSV = url.PathEscape(class.SourcedID) + "/overview.csv?" + q.Encode()
	classPath := "/ui/classes/" + url.PathEscape(class.SourcedID)
	items := ov.items
	if ov.activity != "" && !slices.Contains(items, ov.activity) {
		items = append(slices.Clone(items), ov.activity)
	}
	for _, id := range items {
		a := activityLink{ID: id, URL: classPath + "/activity?" + url.Values{"id": {id}, "since": {window}, "lang": {lang}}.Encode(),
			Selected: id == ov.activity}
		a.Name, a.Lang = u.activityName(c.Request.Context(), sc.Viewer.Tenant, lang, id, nil)
		d.Activities = append(d.Activities, a)
		if a.Selected {
			d.Activity = &d.Activities[len(d.Activities)-1]
		}
	}
	if u.cfg.Hub != nil {
		d.Live = classPath + "/live?" + ov.keep(url.Values{"lang": {lang}, "since": {window}}).Encode()
	}
	u.render(c, http.StatusOK, "overview", lang, u.cat.T(lang, "overview.title", class.Title), sc, d)
}

// handleOverviewCSV serves GET /ui/classes/{class}/overview.csv: the
// overview as CSV, its header in the request's language.
func (u *UI) handleOverviewCSV(c *gin.Context) {
	lang := u.lang(c)
	ov, ok := u.overview(c, lang)
	if !ok {
		return
	}
	class, rows := ov.class, ov.rows
	h := c.Writer.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, safeName(class.SourcedID)))
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	var head []string
	for _, k := range []string{"name", "status", "last", "completed", "passed", "failed", "mean"} {
		head = append(head, u.cat.T(lang, "overview.col."+k))
	}
	w.Write(head)
	for _, r := range rows {
		last, mean := "", ""
		if r.LastActivity != nil {
			last = r.LastActivity.UTC().Format(time.RFC3339)
		}
		if r.MeanScaled != nil {
			mean = strconv.FormatFloat(*r.MeanScaled*100, 'f', 0, 64)
		}
		w.Write([]string{csvSafe(r.Name), r.Status, last, strconv.Itoa(r.Completed), strconv.Itoa(r.Passed),
			strconv.Itoa(r.Failed), mean})
	}
	w.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// safeName keeps the letters, digits, '-' and '_' of a file name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "class"
	}
	return b.String()
}
