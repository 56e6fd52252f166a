package lrs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
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
				pc.report.add(cred, statements.ReportRejected, v.Template, v.Rule, recs[i].ID, 1)
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
func (s *Server) recordProfile(ctx context.Context, cred *statements.Credential, n int, flags *profileFlags) {
	if s.profiles == nil || cred == nil || cmp.Or(cred.ProfileMode, statements.ProfileOff) == statements.ProfileOff {
		return
	}
	r := s.profiles.report
	r.add(cred, statements.ReportAccepted, "", 0, "", int64(n))
	if flags != nil {
		for _, f := range flags.items {
			for _, v := range f.violations {
				r.add(cred, statements.ReportFlagged, v.Template, v.Rule, f.id, 1)
			}
		}
	}
	s.flushReportsSometimes(ctx)
}

// ReportXAPIPrefix starts the Template of a report row that counts
// statements the xAPI rules refused: "xAPI 2.0.0: /actor/mbox: must be a
// mailto: IRI" (the path without a batch's index; Rule 0).
const ReportXAPIPrefix = "xAPI "

// recordRejectedXAPI counts, for a credential in flag or strict mode, the
// statements of a request body the xAPI rules refused (err, from
// validation): one row per broken rule, with the id of the statement as
// example when it has one. Other errors are not counted.
func (s *Server) recordRejectedXAPI(ctx context.Context, cred *statements.Credential, version string, body []byte, err error) {
	if s.profiles == nil || cred == nil || cmp.Or(cred.ProfileMode, statements.ProfileOff) == statements.ProfileOff {
		return
	}
	var verrs validation.Errors
	var verr validation.Error
	switch {
	case errors.As(err, &verrs):
	case errors.As(err, &verr):
		verrs = validation.Errors{verr}
	default:
		return
	}
	ids := statementIDs(body)
	batch := strings.HasPrefix(strings.TrimSpace(string(body)), "[")
	seen := map[string]bool{}
	for _, e := range verrs {
		path, index := e.Path, 0
		if batch {
			if rest, ok := strings.CutPrefix(path, "/"); ok {
				head, tail, _ := strings.Cut(rest, "/")
				if i, err := strconv.Atoi(head); err == nil {
					index, path = i, strings.TrimSuffix("/"+tail, "/")
				}
			}
		}
		rule := ReportXAPIPrefix + version + ": " + validation.Error{Path: path, Rule: e.Rule}.Error()
		if seen[rule] {
			continue
		}
		seen[rule] = true
		example := ""
		if index < len(ids) {
			example = ids[index]
		}
		s.profiles.report.add(cred, statements.ReportRejected, rule, 0, example, 1)
	}
	s.flushReportsSometimes(ctx)
}

// statementIDs returns the ids of a body's statements ("" where none), or
// nil when the body is not a statement or an array of them.
func statementIDs(body []byte) []string {
	type withID struct {
		ID string `json:"id"`
	}
	var many []withID
	if json.Unmarshal(body, &many) == nil {
		ids := make([]string, len(many))
		for i, w := range many {
			ids[i] = w.ID
		}
		return ids
	}
	var one withID
	if json.Unmarshal(body, &one) == nil {
		return []string{one.ID}
	}
	return nil
}

// Bounds of the report rows waiting for the store.
const (
	reportRows       = 200     // rows per credential and day; beyond, one "other" row
	reportPending    = 100_000 // rows in all; beyond, counts wait for the next flush
	reportFlushEvery = 10 * time.Second
)

// ReportOtherTemplate stands for the rows past a day's bound.
const ReportOtherTemplate = "other"

// profileReport counts, per credential and day (UTC), the statements
// accepted and the violations flagged or refused by template and rule,
// with an example statement id for each, until FlushReports adds them to
// the store's report.
type profileReport struct {
	now func() time.Time
	// flush is held by FlushReports for writing and by the report for
	// reading, which so sees each count once: pending or stored.
	flush sync.RWMutex

	mu        sync.Mutex
	pending   map[reportCred]*pendingRows
	rows      int       // rows in pending
	today     string    // the current day, YYYY-MM-DD (UTC)
	tomorrow  time.Time // when today ends
	lastFlush time.Time
	flushing  bool
}

type reportCred struct{ tenant, key string }

type reportRowKey struct {
	day, kind, template string
	rule                int
}

// pendingRows are a credential's rows not yet in the store.
type pendingRows struct {
	rows   map[reportRowKey]*statements.ReportCount
	perDay map[string]int // rows per day
}

func newProfileReport(now func() time.Time) *profileReport {
	return &profileReport{now: now, pending: map[reportCred]*pendingRows{}}
}

// day returns today; r.mu is held.
func (r *profileReport) day() string {
	if now := r.now(); r.today == "" || !now.Before(r.tomorrow) {
		d := now.UTC().Truncate(24 * time.Hour)
		r.today, r.tomorrow = d.Format(time.DateOnly), d.Add(24*time.Hour)
	}
	return r.today
}

// add counts n statements of kind in cred's report of today.
func (r *profileReport) add(cred *statements.Credential, kind, template string, rule int, example string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	day := r.day()
	c := reportCred{cred.Tenant, cred.Key}
	p := r.pending[c]
	if p == nil {
		p = &pendingRows{rows: map[reportRowKey]*statements.ReportCount{}, perDay: map[string]int{}}
		r.pending[c] = p
	}
	k := reportRowKey{day, kind, template, rule}
	row := p.rows[k]
	if row == nil {
		if p.perDay[day] >= reportRows {
			k = reportRowKey{day, kind, ReportOtherTemplate, -1}
			row = p.rows[k]
		}
		if row == nil {
			if r.rows >= reportPending {
				return
			}
			row = &statements.ReportCount{Day: day, Kind: kind, Template: k.template, Rule: k.rule, Example: example}
			p.rows[k] = row
			p.perDay[day]++
			r.rows++
		}
	}
	row.Count += n
}

// readd puts back a row the store refused, on its own day.
func (r *profileReport) readd(cred *statements.Credential, row statements.ReportCount) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := reportCred{cred.Tenant, cred.Key}
	p := r.pending[c]
	if p == nil {
		p = &pendingRows{rows: map[reportRowKey]*statements.ReportCount{}, perDay: map[string]int{}}
		r.pending[c] = p
	}
	k := reportRowKey{row.Day, row.Kind, row.Template, row.Rule}
	if have := p.rows[k]; have != nil {
		have.Count += row.Count
		return
	}
	p.rows[k] = &row
	p.perDay[row.Day]++
	r.rows++
}

// take returns the pending rows and forgets them.
func (r *profileReport) take() map[reportCred]*pendingRows {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending
	r.pending, r.rows = map[reportCred]*pendingRows{}, 0
	return p
}

// pendingOf returns copies of cred's rows not yet in the store.
func (r *profileReport) pendingOf(tenant, key string) []statements.ReportCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[reportCred{tenant, key}]
	if p == nil {
		return nil
	}
	out := make([]statements.ReportCount, 0, len(p.rows))
	for _, row := range p.rows {
		out = append(out, *row)
	}
	return out
}

// FlushReports adds the credentials' report counts kept in memory to the
// store. Counts the store refuses are kept for the next flush. The server
// flushes every 10 s while statements arrive; call it at shutdown too.
func (s *Server) FlushReports(ctx context.Context) error {
	if s.profiles == nil || s.store == nil {
		return nil
	}
	r := s.profiles.report
	r.flush.Lock()
	defer r.flush.Unlock()
	var errs []error
	for c, p := range r.take() {
		rows := make([]statements.ReportCount, 0, len(p.rows))
		for _, row := range p.rows {
			rows = append(rows, *row)
		}
		if err := s.store.AddReport(ctx, c.tenant, c.key, rows); err != nil {
			errs = append(errs, err)
			cred := &statements.Credential{Tenant: c.tenant, Key: c.key}
			for _, row := range rows {
				r.readd(cred, row)
			}
		}
	}
	return errors.Join(errs...)
}

// flushReportsSometimes starts a flush in the background when the last
// one is reportFlushEvery old and none is running; ctx is the request's,
// whose values (not its end) the flush keeps.
func (s *Server) flushReportsSometimes(ctx context.Context) {
	r := s.profiles.report
	r.mu.Lock()
	if r.lastFlush.IsZero() {
		r.lastFlush = r.now()
	}
	due := !r.flushing && r.now().Sub(r.lastFlush) >= reportFlushEvery
	if due {
		r.flushing, r.lastFlush = true, r.now()
	}
	r.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := s.FlushReports(ctx); err != nil {
			s.log.Warn().Err(err).Msg("cannot add the credentials' report counts to the store; kept for the next try")
		}
		r.mu.Lock()
		r.flushing = false
		r.mu.Unlock()
	}()
}

// ReportRow is one line of a credential's daily report in the admin API.
type ReportRow struct {
	Kind     string `json:"kind"`
	Template string `json:"template"`
	Rule     int    `json:"rule"`
	Count    int64  `json:"count"`
	Example  string `json:"example"`
}

// ReportDay is a credential's report of one day.
type ReportDay struct {
	Day      string      `json:"day"`
	Accepted int64       `json:"accepted"`
	Rows     []ReportRow `json:"rows"`
}

// report returns a credential's days from since: the store's rows and
// those not yet flushed, each counted once.
func (s *Server) report(ctx context.Context, tenant, key, since string) ([]ReportDay, error) {
	s.profiles.report.flush.RLock()
	defer s.profiles.report.flush.RUnlock()
	stored, err := s.store.Report(ctx, tenant, key, since)
	if err != nil {
		return nil, err
	}
	return ReportDays(append(stored, s.profiles.report.pendingOf(tenant, key)...), since), nil
}

// ReportDays groups report rows by day from since (YYYY-MM-DD; "" for
// all), oldest first, adding up rows of the same day, kind, template and
// rule (the first example kept); within a day the accepted count, then the
// rows ordered by kind, template and rule.
func ReportDays(rows []statements.ReportCount, since string) []ReportDay {
	type rk struct {
		kind, template string
		rule           int
	}
	days := map[string]map[rk]*statements.ReportCount{}
	for _, c := range rows {
		if c.Day < since {
			continue
		}
		d := days[c.Day]
		if d == nil {
			d = map[rk]*statements.ReportCount{}
			days[c.Day] = d
		}
		k := rk{c.Kind, c.Template, c.Rule}
		if have := d[k]; have != nil {
			have.Count += c.Count
			continue
		}
		d[k] = &c
	}
	out := make([]ReportDay, 0, len(days))
	for day, rows := range days {
		rd := ReportDay{Day: day, Rows: []ReportRow{}}
		for _, c := range rows {
			if c.Kind == statements.ReportAccepted {
				rd.Accepted += c.Count
				continue
			}
			rd.Rows = append(rd.Rows, ReportRow{Kind: c.Kind, Template: c.Template, Rule: c.Rule, Count: c.Count, Example: c.Example})
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
