package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// liveRow is the "row" event of an overview's live updates: a student's
// row as it is now.
type liveRow struct {
	Student     string `json:"student"`
	Status      string `json:"status"`
	StatusLabel string `json:"statusLabel"`
	Icon        string `json:"icon"`
	Last        string `json:"last"`
	LastISO     string `json:"lastISO"`
	Completed   int    `json:"completed"`
	Passed      int    `json:"passed"`
	Failed      int    `json:"failed"`
	Mean        string `json:"mean"`
	Done        int    `json:"done"`
	Total       int    `json:"total"`
	Progress    string `json:"progress"`
	Announce    string `json:"announce"`
}

// liveEntry is the "entry" event of a student's stream: a new statement.
type liveEntry struct {
	Student  string `json:"student"`
	Day      string `json:"day"`
	DayLabel string `json:"dayLabel"`
	Time     string `json:"time"`
	ISO      string `json:"iso"`
	Position int64  `json:"position"`
	HTML     string `json:"html"`
	Announce string `json:"announce"`
}

// handleLive serves GET /ui/classes/{class}/live?lang=&since=&student=:
// Server-Sent Events that keep a page up to date, in the page's language.
// For an overview (no student) each new statement of a student the person
// may read brings a "row" event with the student's row as it now is (in
// the window since, of the activity when set); for a student's stream, an "entry" event with the
// statement as the stream shows it. A "reset" event ends it when the
// person falls behind or the class's roster changes: the page is to be
// loaded again. It reads through the roster rule like the pages and asks
// it again every heartbeat.
func (u *UI) handleLive(c *gin.Context) {
	lang := u.lang(c)
	ctx := c.Request.Context()
	sc, ok := u.scope(c, lang)
	if !ok {
		return
	}
	classID := c.Param("class")
	class, students, err := sc.Class(ctx, classID)
	if err != nil {
		u.fail(c, lang, sc, err)
		return
	}
	if u.cfg.Hub == nil {
		u.fail(c, lang, sc, statements.Errorf(statements.EUnavailable, "this store has no log to stream from"))
		return
	}
	_, days, ok := windowParam(c.DefaultQuery("since", "30"))
	if !ok {
		u.invalid(c, lang, sc, "since")
		return
	}
	activity := c.Query("activity")
	if activity != "" && !absoluteIRI(activity) {
		u.invalid(c, lang, sc, "activity")
		return
	}
	watched := students
	if id := c.Query("student"); id != "" {
		i := slices.IndexFunc(students, func(s statements.RosterUser) bool { return s.SourcedID == id })
		if i < 0 {
			u.fail(c, lang, sc, statements.Errorf(statements.ENotFound, "student: not in the class, or not yours to read"))
			return
		}
		watched = students[i : i+1]
	}
	of := map[string]*statements.RosterUser{} // agent key → student
	var keys []string
	for i := range watched {
		ks, err := u.cfg.Reader.Agents.Agents(ctx, sc.Viewer.Tenant, watched[i].SourcedID)
		if err != nil {
			u.fail(c, lang, sc, err)
			return
		}
		for _, k := range ks {
			of[k] = &watched[i]
		}
		keys = append(keys, ks...)
	}
	u.audit(c, sc, "stream", "class:"+class.SourcedID)
	sub := u.cfg.Hub.Subscribe(ctx, sc.Viewer.Tenant, keys)
	defer sub.Close()

	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": live updates\n\n")
	w.Flush()
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	}
	reset := func() {
		send("reset", map[string]string{"announce": u.cat.T(lang, "live.reset")})
		w.Flush()
	}
	classPath := "/ui/classes/" + url.PathEscape(class.SourcedID)
	href := func(activity string) string {
		return classPath + "/activity?" + url.Values{"id": {activity}, "lang": {lang}}.Encode()
	}
	t := time.NewTicker(u.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case rec, open := <-sub.C:
			if !open {
				reset()
				return
			}
			// Take what else has come, so that a burst makes one row per
			// student.
			recs := []*statements.Record{rec}
			sub.Took(rec)
		more:
			for {
				select {
				case r, open := <-sub.C:
					if !open {
						break more
					}
					sub.Took(r)
					recs = append(recs, r)
				default:
					break more
				}
			}
			if c.Query("student") != "" {
				for _, r := range recs {
					st := of[people.ActorKey(r.Statement)]
					if st == nil {
						continue
					}
					name := fullName(*st)
					e := u.entryOf(lang, name, r, href)
					send("entry", liveEntry{Student: st.SourcedID, Day: r.Stored.In(Zone).Format("2006-01-02"), DayLabel: u.dayLabel(lang, r.Stored),
						Time: e.Time, ISO: e.ISO, Position: e.Position, HTML: string(e.HTML), Announce: u.cat.T(lang, "live.entry", name)})
				}
			} else {
				var changed []statements.RosterUser
				for _, r := range recs {
					if st := of[people.ActorKey(r.Statement)]; st != nil && !slices.ContainsFunc(changed, func(s statements.RosterUser) bool { return s.SourcedID == st.SourcedID }) {
						changed = append(changed, *st)
					}
				}
				o, err := u.overviewOf(c, sc, class.SourcedID, days)
				if err != nil {
					u.log(c, err)
					return
				}
				o.Activity = activity
				rows, err := u.cfg.Reader.Overview(ctx, sc.Viewer.Tenant, changed, o)
				if err != nil {
					u.log(c, err)
					return
				}
				for _, r := range rows {
					v := u.overviewRow(lang, class.SourcedID, r, len(o.LineItems))
					lr := liveRow{Student: r.SourcedID, Status: r.Status, StatusLabel: v.Status, Icon: v.StatusIcon, Last: v.Last, LastISO: v.LastISO,
						Completed: r.Completed, Passed: r.Passed, Failed: r.Failed, Mean: v.Mean, Done: v.Done, Total: v.Total,
						Announce: u.cat.T(lang, "live.row", v.Name, v.Status)}
					if v.Total > 0 {
						lr.Progress = u.cat.T(lang, "overview.progress", v.Done, v.Total)
					}
					send("row", lr)
				}
			}
			w.Flush()
		case <-t.C:
			// The roster may have changed: the rule is asked again.
			now, err := u.cfg.Scope(c)
			if err != nil {
				reset()
				return
			}
			if _, st, err := now.Class(ctx, classID); err != nil || !sameStudents(st, students) {
				reset()
				return
			}
			sc = now
			fmt.Fprint(w, ": heartbeat\n\n")
			w.Flush()
		}
	}
}

func sameStudents(a, b []statements.RosterUser) bool {
	return slices.EqualFunc(a, b, func(x, y statements.RosterUser) bool { return x.SourcedID == y.SourcedID })
}

// overviewOf returns how the overview of class is made for sc, in a
// window of days (0: all).
func (u *UI) overviewOf(c *gin.Context, sc *people.Scope, class string, days int) (people.Overview, error) {
	var o people.Overview
	if u.cfg.Overview != nil {
		var err error
		if o, err = u.cfg.Overview(c.Request.Context(), sc.Viewer.Tenant, class); err != nil {
			return o, err
		}
	}
	o.Now = u.cfg.Now()
	if days > 0 {
		o.Since = o.Now.Add(-time.Duration(days) * 24 * time.Hour)
	}
	return o, nil
}
