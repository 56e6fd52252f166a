package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// An outcome is where a student stands with one activity.
const (
	outcomePassed     = "passed"
	outcomeFailed     = "failed"
	outcomeCompleted  = "completed"
	outcomeStarted    = "started"
	outcomeNotStarted = "not-started"
)

// outcomes in the order an activity page counts them.
var outcomes = []string{outcomePassed, outcomeFailed, outcomeCompleted, outcomeStarted, outcomeNotStarted}

// maxActivityStatements bounds the statements of one student an activity
// page reads.
const maxActivityStatements = 1000

// activityStudent is a student of an activity page.
type activityStudent struct {
	Name, URL, Outcome, OutcomeLabel string
	Best                             string // best score, "" for none
	best                             int
	scored                           bool
	Statements                       int
	Last, LastISO                    string
	last                             time.Time
}

// outcomeCount is a row of the count of outcomes.
type outcomeCount struct {
	Key, Label string
	Count      int
}

// bar is a bucket of the score distribution as the chart draws it.
type bar struct {
	Label          string // "0–9"
	Count          int
	X, Y, H, TextY int
}

type activityData struct {
	Name, NameLang, ID string
	Class, ClassURL    string
	Window             string
	Windows            []windowOption
	Students           []activityStudent
	Outcomes           []outcomeCount
	Bars               []bar
	Scored             int
	ChartDesc          string
	Partial            bool
	title              template.HTML
}

func (d activityData) titleHTML() template.HTML { return d.title }

// The chart's geometry, in its viewBox units.
const (
	chartW, chartH, chartTop, chartBase = 440, 220, 20, 190
	barW, barGap, barLeft               = 36, 8, 4
)

// handleActivity serves GET /ui/classes/{class}/activity?id=&since=: who
// of the class has passed, failed, completed, started or not started the
// activity id (an IRI), and the distribution of their best scores as a
// chart and a table.
func (u *UI) handleActivity(c *gin.Context) {
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
	id := c.Query("id")
	if !absoluteIRI(id) {
		u.invalid(c, lang, sc, "id")
		return
	}
	window, days, ok := windowParam(c.DefaultQuery("since", "all"))
	if !ok {
		u.invalid(c, lang, sc, "since")
		return
	}
	q := people.Query{Activity: id}
	if days > 0 {
		q.Since = u.cfg.Now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	classPath := "/ui/classes/" + url.PathEscape(class.SourcedID)
	rows := make([]activityStudent, len(students))
	var named []*statements.Record
	partial := make([]bool, len(students))
	errs := make(chan error, len(students))
	slots := make(chan struct{}, 4)
	firsts := make([]*statements.Record, len(students))
	for i := range students {
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			errs <- u.activityStudent(c, sc.Viewer.Tenant, &students[i], q, &rows[i], &partial[i], &firsts[i])
		}()
	}
	var first error
	for range students {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		u.fail(c, lang, sc, first)
		return
	}
	u.audit(c, sc, "activity", "class:"+class.SourcedID+" activity:"+id)
	for _, r := range firsts {
		if r != nil {
			named = append(named, r)
		}
	}
	d := activityData{ID: id, Class: class.Title, ClassURL: classPath + "?lang=" + lang, Window: window}
	d.Name, d.NameLang = u.activityName(ctx, sc.Viewer.Tenant, lang, id, named)
	for _, w := range windows {
		d.Windows = append(d.Windows, windowOption{Value: w.Value, Label: u.cat.T(lang, "overview.window."+w.Value), Selected: w.Value == window})
	}
	counts := map[string]int{}
	buckets := make([]int, 10)
	for i := range rows {
		r := &rows[i]
		r.Name = fullName(students[i])
		r.URL = classPath + "/students/" + url.PathEscape(students[i].SourcedID) + "?" + url.Values{"activity": {id}, "lang": {lang}}.Encode()
		r.OutcomeLabel = u.cat.T(lang, "outcome."+r.Outcome)
		counts[r.Outcome]++
		if r.scored {
			d.Scored++
			buckets[bucket(r.best)]++
			r.Best = fmt.Sprintf("%d %%", r.best)
		}
		if !r.last.IsZero() {
			r.Last = r.last.In(Zone).Format("2006-01-02 15:04")
			r.LastISO = r.last.UTC().Format(time.RFC3339)
		}
		d.Partial = d.Partial || partial[i]
	}
	slices.SortStableFunc(rows, func(a, b activityStudent) int {
		return cmp.Or(cmp.Compare(slices.Index(outcomes, a.Outcome), slices.Index(outcomes, b.Outcome)), cmp.Compare(a.Name, b.Name))
	})
	d.Students = rows
	for _, o := range outcomes {
		d.Outcomes = append(d.Outcomes, outcomeCount{Key: o, Label: u.cat.T(lang, "outcome."+o), Count: counts[o]})
	}
	d.Bars = chartBars(buckets)
	d.ChartDesc = u.cat.T(lang, "activity.chart.desc", d.Scored, len(rows))
	d.title = u.htmlT(lang, "activity.title", langHTML("em", d.NameLang, d.Name))
	u.render(c, http.StatusOK, "activity", lang, u.cat.T(lang, "activity.title", d.Name), sc, d)
}

// bucket is the bar of a score in per cent: 0–9, 10–19, …, 90–100.
func bucket(pct int) int {
	return min(max(pct, 0)/10, 9)
}

// chartBars lays out the buckets of the score distribution.
func chartBars(buckets []int) []bar {
	top := slices.Max(buckets)
	out := make([]bar, len(buckets))
	for i, n := range buckets {
		h := 0
		if top > 0 {
			h = n * (chartBase - chartTop - 14) / top
		}
		lo, hi := i*10, i*10+9
		if i == len(buckets)-1 {
			hi = 100
		}
		out[i] = bar{Label: fmt.Sprintf("%d–%d", lo, hi), Count: n, X: barLeft + i*(barW+barGap), H: h, Y: chartBase - h, TextY: chartBase - h - 4}
	}
	return out
}

// activitySummary is the part of a statement an activity page reads.
type activitySummary struct {
	Verb struct {
		ID string `json:"id"`
	} `json:"verb"`
	Result *struct {
		Score *struct {
			Scaled *float64 `json:"scaled"`
			Raw    *float64 `json:"raw"`
			Max    *float64 `json:"max"`
		} `json:"score"`
	} `json:"result"`
}

// activityStudent reads how student stands with q's activity into row.
func (u *UI) activityStudent(c *gin.Context, tenant string, student *statements.RosterUser, q people.Query,
	row *activityStudent, partial *bool, named **statements.Record) error {
	verbs := map[string]bool{}
	for {
		p, err := u.cfg.Reader.Statements(c.Request.Context(), tenant, student.SourcedID, q)
		if err != nil {
			return err
		}
		for _, r := range p.Records {
			if row.Statements == maxActivityStatements {
				*partial = true
				break
			}
			if row.Statements == 0 {
				row.last = r.Stored
				*named = r
			}
			row.Statements++
			var s activitySummary
			if json.Unmarshal(r.Statement, &s) != nil {
				continue
			}
			verbs[s.Verb.ID] = true
			if s.Result != nil && s.Result.Score != nil {
				if pct, ok := percent(s.Result.Score.Scaled, s.Result.Score.Raw, s.Result.Score.Max); ok && (!row.scored || pct > row.best) {
					row.best, row.scored = pct, true
				}
			}
		}
		if !p.More || *partial {
			break
		}
		q.Before = p.Next
	}
	switch {
	case verbs[people.VerbPassed]:
		row.Outcome = outcomePassed
	case verbs[people.VerbFailed]:
		row.Outcome = outcomeFailed
	case verbs[people.VerbCompleted]:
		row.Outcome = outcomeCompleted
	case row.Statements > 0:
		row.Outcome = outcomeStarted
	default:
		row.Outcome = outcomeNotStarted
	}
	return nil
}
