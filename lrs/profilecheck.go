package lrs

import (
	"cmp"
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
	"github.com/digione/lrs/validation/profile"
)

// profileChecker applies the credentials' profile modes at ingest: a
// credential in flag mode has its statements' violations recorded, one in
// strict mode has a statement that breaks the profile fail its request.
type profileChecker struct {
	profile *profile.Profile
	// rules returns the tenant's extra rules (its identity home page);
	// nil: none.
	rules  func(ctx context.Context, tenant string) ([]*profile.ExtraRule, error)
	report *profileReport

	checked    *prometheus.CounterVec // by mode and outcome
	violations *prometheus.CounterVec // by mode, template and rule
}

func newProfileChecker(p *profile.Profile, rules func(context.Context, string) ([]*profile.ExtraRule, error), now func() time.Time) *profileChecker {
	return &profileChecker{
		profile: p,
		rules:   rules,
		report:  newProfileReport(now),
		checked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_profile_statements_total",
			Help: "Statements of credentials in flag or strict mode checked against the xAPI profile, by mode and outcome (matched, unmatched, invalid).",
		}, []string{"mode", "outcome"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_profile_violations_total",
			Help: "Broken rules of the xAPI profile, by mode (flag: accepted and recorded, strict: refused), template and rule index.",
		}, []string{"mode", "template", "rule"}),
	}
}

// profileFlags are the violations of a batch's statements in flag mode,
// recorded once the batch is stored.
type profileFlags struct {
	cred  *statements.Credential
	items []flaggedStatement
}

type flaggedStatement struct {
	id         string
	violations []profile.Violation
}

// checkProfile checks a parsed batch (raws, with their records recs) of
// cred against the profile, as its profile mode says. In strict mode a
// batch with a violation fails whole with EInvalid naming each template
// and rule; in flag mode the violations are returned, for record once the
// batch is stored. Off costs nothing. The error of strict mode is a
// validation.Errors, one per broken rule: the response lists them all.
func (s *Server) checkProfile(ctx context.Context, cred *statements.Credential, raws []validation.Parsed, recs []*statements.Record) (*profileFlags, error) {
	pc := s.profiles
	if pc == nil || cred == nil {
		return nil, nil
	}
	mode := cred.ProfileMode
	if mode != statements.ProfileFlag && mode != statements.ProfileStrict {
		return nil, nil
	}
	var opts *profile.Options
	if pc.rules != nil {
		extra, err := pc.rules(ctx, cred.Tenant)
		if err != nil {
			return nil, err
		}
		if len(extra) > 0 {
			opts = &profile.Options{Extra: extra}
		}
	}
	var flags *profileFlags
	var refused validation.Errors
	for i, raw := range raws {
		res := pc.profile.Check(raw.Doc, opts)
		pc.checked.WithLabelValues(mode, res.Outcome.String()).Inc()
		if res.Outcome != profile.Invalid {
			continue
		}
		for _, v := range res.Violations {
			pc.violations.WithLabelValues(mode, v.Template, strconv.Itoa(v.Rule)).Inc()
		}
		if mode == statements.ProfileStrict {
			for _, v := range res.Violations {
				pc.report.add(cred, reportRejected, v.Template, v.Rule, recs[i].ID)
				e := validation.Error{Rule: "xAPI profile: " + v.Error()}
				if len(raws) > 1 {
					e.Path = "/" + strconv.Itoa(i)
				}
				refused = append(refused, e)
			}
			continue
		}
		if flags == nil {
			flags = &profileFlags{cred: cred}
		}
		flags.items = append(flags.items, flaggedStatement{id: recs[i].ID, violations: res.Violations})
	}
	if len(refused) > 0 {
		return nil, refused
	}
	return flags, nil
}

// recordProfile records a stored batch: n statements accepted, and the
// flagged violations.
func (s *Server) recordProfile(cred *statements.Credential, n int, flags *profileFlags) {
	if s.profiles == nil || cred == nil || cmp.Or(cred.ProfileMode, statements.ProfileOff) == statements.ProfileOff {
		return
	}
	r := s.profiles.report
	r.accept(cred, n)
	if flags == nil {
		return
	}
	for _, f := range flags.items {
		for _, v := range f.violations {
			r.add(cred, reportFlagged, v.Template, v.Rule, f.id)
		}
	}
}

// Kinds of report rows.
const (
	reportFlagged  = "flagged"
	reportRejected = "rejected"
)

// Bounds of the in-memory report.
const (
	reportDays = 8   // days kept per credential
	reportRows = 200 // rows per credential and day; beyond, one "other" row
)

// profileReport counts, per credential and day (UTC), the statements
// accepted and the violations flagged or refused by template and rule,
// with an example statement id for each. It is bounded: reportRows rows
// per credential and day, reportDays days.
type profileReport struct {
	now  func() time.Time
	mu   sync.Mutex
	days map[reportKey]*reportDay

	today    string    // the current day, YYYY-MM-DD (UTC)
	tomorrow time.Time // when today ends
}

type reportKey struct {
	tenant, credential, day string
}

type reportDay struct {
	accepted int64
	rows     map[reportRowKey]*ReportRow
}

type reportRowKey struct {
	kind, template string
	rule           int
}

// ReportRow is one line of a credential's daily report: how many
// statements broke one rule of one template on one day, flagged (accepted)
// or rejected, and one of them.
type ReportRow struct {
	Day      string `json:"day"`
	Kind     string `json:"kind"`
	Template string `json:"template"`
	Rule     int    `json:"rule"`
	Count    int64  `json:"count"`
	Example  string `json:"example"`
}

// ReportOtherTemplate stands for the rows past a day's bound.
const ReportOtherTemplate = "other"

func newProfileReport(now func() time.Time) *profileReport {
	return &profileReport{now: now, days: map[reportKey]*reportDay{}}
}

// day returns the report of cred today; r.mu is held.
func (r *profileReport) day(cred *statements.Credential) *reportDay {
	if now := r.now(); r.today == "" || !now.Before(r.tomorrow) {
		d := now.UTC().Truncate(24 * time.Hour)
		r.today, r.tomorrow = d.Format(time.DateOnly), d.Add(24*time.Hour)
		oldest := d.AddDate(0, 0, -reportDays).Format(time.DateOnly)
		for k := range r.days {
			if k.day <= oldest {
				delete(r.days, k)
			}
		}
	}
	k := reportKey{cred.Tenant, cred.Key, r.today}
	d := r.days[k]
	if d == nil {
		d = &reportDay{rows: map[reportRowKey]*ReportRow{}}
		r.days[k] = d
	}
	return d
}

func (r *profileReport) accept(cred *statements.Credential, n int) {
	r.mu.Lock()
	r.day(cred).accepted += int64(n)
	r.mu.Unlock()
}

func (r *profileReport) add(cred *statements.Credential, kind, template string, rule int, example string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.day(cred)
	k := reportRowKey{kind, template, rule}
	row := d.rows[k]
	if row == nil {
		if len(d.rows) >= reportRows {
			k = reportRowKey{kind, ReportOtherTemplate, -1}
			row = d.rows[k]
		}
		if row == nil {
			row = &ReportRow{Kind: kind, Template: k.template, Rule: k.rule, Example: example}
			d.rows[k] = row
		}
	}
	row.Count++
}

// ReportDay is a credential's report of one day.
type ReportDay struct {
	Day      string      `json:"day"`
	Accepted int64       `json:"accepted"`
	Rows     []ReportRow `json:"rows"`
}

// read returns the days of a credential from since (a date, "" for all),
// oldest first, rows ordered by kind, template and rule.
func (r *profileReport) read(tenant, key, since string) []ReportDay {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ReportDay
	for k, d := range r.days {
		if k.tenant != tenant || k.credential != key || k.day < since {
			continue
		}
		rd := ReportDay{Day: k.day, Accepted: d.accepted, Rows: make([]ReportRow, 0, len(d.rows))}
		for _, row := range d.rows {
			c := *row
			c.Day = k.day
			rd.Rows = append(rd.Rows, c)
		}
		sort.Slice(rd.Rows, func(i, j int) bool {
			a, b := rd.Rows[i], rd.Rows[j]
			if a.Kind != b.Kind {
				return a.Kind < b.Kind
			}
			if a.Template != b.Template {
				return a.Template < b.Template
			}
			return a.Rule < b.Rule
		})
		out = append(out, rd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}
