package oneroster

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// Config configures a Sink.
type Config struct {
	// Store keeps the tenants' configuration, mapping tables and results.
	// Required.
	Store statements.SinkStore
	// Log holds the lease that lets one of several LRS processes deliver
	// the results. Required for Run.
	Log statements.Log
	// Static configures tenants outside the store (from the environment);
	// a tenant here ignores its stored configuration.
	Static map[string]TenantConfig
	// Name names the sink's cursor, lease and items; default "oneroster".
	Name string
	// HTTPClient sends the requests; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives dead letters and delivery failures; the zero value
	// logs nothing.
	Logger zerolog.Logger
	// Holder names this process in the delivery lease; default host name,
	// process id and a random suffix.
	Holder string
	// LeaseTTL is how long the delivery lease lasts without renewal;
	// default 15 s.
	LeaseTTL time.Duration
	// Poll is how often Run looks for results due; default 200 ms. Send
	// wakes it sooner.
	Poll time.Duration
	// BackoffMin and BackoffMax bound the wait before a result is tried
	// again after a failure (429, 5xx, no answer): it doubles per failure,
	// with jitter; a Retry-After answer sets it. Defaults 1 s and 5 min.
	BackoffMin, BackoffMax time.Duration
	// ConfigTTL is how long a tenant's stored configuration is used
	// without reading it again; default 5 s.
	ConfigTTL time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Stats counts what a Sink did since New.
type Stats struct {
	// Written counts results the gradebook accepted; Retracted the
	// tobedeleted results among them.
	Written, Retracted uint64
	// Ignored counts statements of tenants without OneRoster or with a
	// verb that makes no result.
	Ignored uint64
	// Skipped counts completion statements that could not be mapped, by
	// reason (SkipStudent, SkipLineItem, ...).
	Skipped map[Skip]uint64
	// Voids counts voiding statements that retracted a statement's result.
	Voids uint64
	// DeadLetters counts results the gradebook refused for good (400, 404,
	// 422); they are kept as StateDead items.
	DeadLetters uint64
	// Retries counts failed deliveries that will be tried again.
	Retries uint64
	// Due is how many results were due at the last delivery round.
	Due int
}

// Sink maps stored statements to OneRoster results and writes them to
// each tenant's gradebook. The relay feeds it (Send); Run delivers.
type Sink struct {
	cfg  Config
	wake chan struct{}

	mu        sync.Mutex
	tenants   map[string]*tenantState
	blocked   map[string]time.Time // tenant -> no deliveries before
	stats     Stats
	leader    bool
	renewedAt time.Time
}

// tenantState is a tenant's configuration as last read, and its client.
type tenantState struct {
	cfg    *TenantConfig // nil: the tenant has no OneRoster
	read   time.Time
	book   *gradebook
	mapper Mapper
	static bool
}

var (
	_ forwarders.Sink       = (*Sink)(nil)
	_ forwarders.TenantSink = (*Sink)(nil)
)

// New returns a Sink for cfg. It sends nothing until Run.
func New(cfg Config) (*Sink, error) {
	if cfg.Store == nil {
		return nil, errors.New("oneroster: Config.Store is required")
	}
	for tenant, tc := range cfg.Static {
		if err := tc.Check(); err != nil {
			return nil, fmt.Errorf("oneroster: tenant %q: %w", tenant, err)
		}
	}
	if cfg.Name == "" {
		cfg.Name = defaultSinkName
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = crand.Read(b[:])
		cfg.Holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = time.Second
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(5*time.Minute, cfg.BackoffMin)
	}
	if cfg.ConfigTTL <= 0 {
		cfg.ConfigTTL = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sink{
		cfg:     cfg,
		wake:    make(chan struct{}, 1),
		tenants: map[string]*tenantState{},
		blocked: map[string]time.Time{},
		stats:   Stats{Skipped: map[Skip]uint64{}},
	}, nil
}

// Name returns the name of the sink's cursor.
func (s *Sink) Name() string { return s.cfg.Name }

// Stats returns the sink's counters since New.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Skipped = make(map[Skip]uint64, len(s.stats.Skipped))
	for k, v := range s.stats.Skipped {
		st.Skipped[k] = v
	}
	return st
}

func (s *Sink) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// Forget makes the next use of tenant's configuration read it again; the
// admin API calls it after a change.
func (s *Sink) Forget(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tenants, tenant)
	delete(s.blocked, tenant)
}

// tenant returns the state of tenant, reading its configuration when it is
// older than ConfigTTL.
func (s *Sink) tenant(ctx context.Context, tenant string) (*tenantState, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	ts := s.tenants[tenant]
	s.mu.Unlock()
	if ts != nil && (ts.static || now.Sub(ts.read) < s.cfg.ConfigTTL) {
		return ts, nil
	}
	var cfg *TenantConfig
	static := false
	if c, ok := s.cfg.Static[tenant]; ok {
		cfg, static = &c, true
	} else {
		c, err := loadConfig(ctx, s.cfg.Store, s.cfg.Name, tenant)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	next := &tenantState{cfg: cfg, read: now, static: static}
	switch {
	case cfg == nil:
	case ts != nil && ts.cfg != nil && reflect.DeepEqual(*ts.cfg, *cfg):
		next.book, next.mapper = ts.book, ts.mapper // keep the cached token
	default:
		next.book, next.mapper = newGradebook(*cfg, s.cfg.HTTPClient), cfg.mapper()
	}
	s.mu.Lock()
	s.tenants[tenant] = next
	s.mu.Unlock()
	return next, nil
}

// loadConfig returns the stored configuration of tenant; nil when none.
func loadConfig(ctx context.Context, store statements.SinkStore, sink, tenant string) (*TenantConfig, error) {
	it, err := store.SinkItem(ctx, sink, tenant, keyConfig)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c TenantConfig
	if err := json.Unmarshal(it.Value, &c); err != nil {
		return nil, statements.Internal(err, "unreadable OneRoster configuration of tenant "+tenant)
	}
	return &c, nil
}

// Wants reports whether tenant has a gradebook that is not disabled: the
// statements and erasures of other tenants make no results, so the relay
// passes them without reading them. A configuration stored later counts
// once Forget or ConfigTTL makes the sink read it again.
func (s *Sink) Wants(ctx context.Context, tenant string) (bool, error) {
	ts, err := s.tenant(ctx, tenant)
	if err != nil {
		return true, err
	}
	return ts.cfg != nil && !ts.cfg.Disabled, nil
}

// Send records the results of entries in the store, in order: each
// completion statement becomes (or joins) its result, which Run then
// writes to the gradebook; each voiding statement retracts the result of
// the statement it voids. It returns an error only when the store fails,
// and may be called again with the same entries.
func (s *Sink) Send(ctx context.Context, entries []statements.LogEntry) error {
	due := false
	for _, e := range entries {
		d, err := s.record(ctx, e)
		if err != nil {
			return err
		}
		due = due || d
	}
	if due {
		s.Notify()
	}
	return nil
}

// Notify wakes Run: results may be due. It never blocks.
func (s *Sink) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// record handles one statement; due reports a result made due.
func (s *Sink) record(ctx context.Context, e statements.LogEntry) (due bool, err error) {
	ts, err := s.tenant(ctx, e.Tenant)
	if err != nil {
		return false, err
	}
	if ts.cfg == nil || ts.cfg.Disabled {
		s.count(func(st *Stats) { st.Ignored++ })
		return false, nil
	}
	if e.Erasure != nil {
		return s.erased(ctx, ts.cfg, e)
	}
	if e.Record.Voids != "" {
		return s.retract(ctx, e.Tenant, e.Record.Voids)
	}
	if !ts.mapper.Maps(verbOf(e.Record.Statement)) {
		s.count(func(st *Stats) { st.Ignored++ })
		return false, nil
	}
	res, when, skip, err := ts.mapper.MapWith(ctx, e, tables{s.cfg.Store, s.cfg.Name, e.Tenant})
	if err != nil {
		return false, err
	}
	switch skip {
	case "":
	case SkipVerb:
		s.count(func(st *Stats) { st.Ignored++ })
		return false, nil
	default:
		s.count(func(st *Stats) { st.Skipped[skip]++ })
		return false, nil
	}
	key := prefixResult + res.SourcedID
	// The statement's index entry first: a crash before the result is
	// written leaves the relay's cursor where it was, and the statement is
	// recorded again.
	idx := &statements.SinkItem{Sink: s.cfg.Name, Tenant: e.Tenant, Key: prefixStatement + e.Record.ID, Value: []byte(key)}
	if err := s.cfg.Store.PutSinkItem(ctx, idx); err != nil && statements.ErrorCode(err) != statements.EConflict {
		return false, err
	}
	c := candidate{Statement: e.Record.ID, When: when.UTC(), Position: e.Record.Position, Result: *res}
	err = update(ctx, s.cfg.Store, s.cfg.Name, e.Tenant, key, func(it *statements.SinkItem) (*statements.SinkItem, bool, error) {
		due = false
		st, err := decodeState(it)
		if err != nil {
			return nil, false, err
		}
		added, first := st.add(c)
		switch {
		case !added:
			return nil, false, nil // seen before, or older than every kept one
		case !first:
			// Older than the one written: kept, should that one be voided.
			return &statements.SinkItem{State: it.State, Due: it.Due, Value: st.encode()}, false, nil
		}
		due = true
		next := &statements.SinkItem{State: StatePending, Due: s.cfg.Now()}
		st.Attempts, st.LastStatus, st.LastError = 0, 0, ""
		next.Value = st.encode()
		return next, false, nil
	})
	return due, err
}

// retract removes the voided statement from the result it counts for.
func (s *Sink) retract(ctx context.Context, tenant, voided string) (due bool, err error) {
	idx, err := s.cfg.Store.SinkItem(ctx, s.cfg.Name, tenant, prefixStatement+voided)
	if statements.ErrorCode(err) == statements.ENotFound {
		return false, nil // it made no result
	}
	if err != nil {
		return false, err
	}
	key := string(idx.Value)
	err = update(ctx, s.cfg.Store, s.cfg.Name, tenant, key, func(it *statements.SinkItem) (*statements.SinkItem, bool, error) {
		due = false
		if it == nil {
			return nil, false, nil
		}
		st, err := decodeState(it)
		if err != nil {
			return nil, false, err
		}
		removed, first := st.remove(voided)
		if !removed || !first {
			if removed {
				return &statements.SinkItem{State: it.State, Due: it.Due, Value: st.encode()}, false, nil
			}
			return nil, false, nil
		}
		// Due even when nothing is left to write: delivery removes the
		// item then, after any write in flight has been noted.
		due = true
		st.Attempts, st.LastStatus, st.LastError = 0, 0, ""
		return &statements.SinkItem{State: StatePending, Due: s.cfg.Now(), Value: st.encode()}, false, nil
	})
	if err == nil {
		s.count(func(st *Stats) { st.Voids++ })
		err = s.cfg.Store.DeleteSinkItem(ctx, s.cfg.Name, tenant, prefixStatement+voided, 0)
	}
	return due, err
}

// verbOf returns the verb id of a stored statement, or "".
func verbOf(stmt []byte) string {
	var v struct {
		Verb struct {
			ID string `json:"id"`
		} `json:"verb"`
	}
	_ = json.Unmarshal(stmt, &v)
	return v.Verb.ID
}

// tables resolves a tenant's mapping tables from the store.
type tables struct {
	store  statements.SinkStore
	sink   string
	tenant string
}

func (t tables) Student(ctx context.Context, account string) (string, bool, error) {
	it, err := t.store.SinkItem(ctx, t.sink, t.tenant, prefixStudent+account)
	if statements.ErrorCode(err) == statements.ENotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(it.Value), true, nil
}

func (t tables) Activity(ctx context.Context, id string) (Target, bool, error) {
	it, err := t.store.SinkItem(ctx, t.sink, t.tenant, prefixActivity+id)
	if statements.ErrorCode(err) == statements.ENotFound {
		return Target{}, false, nil
	}
	if err != nil {
		return Target{}, false, err
	}
	var tg Target
	if err := json.Unmarshal(it.Value, &tg); err != nil {
		return Target{}, false, statements.Internal(err, "unreadable activity mapping "+id)
	}
	return tg, true, nil
}

// Run delivers due results until ctx ends, while this process holds the
// delivery lease. It returns nil then.
func (s *Sink) Run(ctx context.Context) error {
	if s.cfg.Log == nil {
		return errors.New("oneroster: Config.Log is required for Run")
	}
	lease := "delivery:" + s.cfg.Name
	defer func() {
		if s.isLeader() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = s.cfg.Log.ReleaseLease(rctx, lease, s.cfg.Holder)
			cancel()
		}
	}()
	for ctx.Err() == nil {
		now := s.cfg.Now()
		s.mu.Lock()
		renew := !s.leader || now.Sub(s.renewedAt) > s.cfg.LeaseTTL/3
		s.mu.Unlock()
		if renew {
			ok, err := s.cfg.Log.AcquireLease(ctx, lease, s.cfg.Holder, s.cfg.LeaseTTL)
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn().Err(err).Str("sink", s.cfg.Name).Msg("cannot take the delivery lease")
			}
			s.mu.Lock()
			s.leader = err == nil && ok
			if s.leader {
				s.renewedAt = now
			}
			s.mu.Unlock()
		}
		wait := s.cfg.Poll
		if s.isLeader() {
			if err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn().Err(err).Str("sink", s.cfg.Name).Msg("cannot read the results due")
				wait = s.cfg.BackoffMin
			}
		} else {
			wait = max(wait, s.cfg.LeaseTTL/3)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

func (s *Sink) isLeader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

// DeliverDue writes every result due now, each tenant's in parallel with
// the others', and returns when they are done. Run calls it; it does not
// check the lease.
func (s *Sink) DeliverDue(ctx context.Context) error {
	now := s.cfg.Now()
	var byTenant = map[string][]statements.SinkItem{}
	var order []string
	after := statements.SinkQuery{}
	total := 0
	for {
		items, err := s.cfg.Store.SinkItems(ctx, statements.SinkQuery{Sink: s.cfg.Name, KeyPrefix: prefixResult,
			State: StatePending, DueBy: now, AfterTenant: after.AfterTenant, AfterKey: after.AfterKey, Limit: statements.MaxLimit})
		if err != nil {
			return err
		}
		for _, it := range items {
			if _, ok := byTenant[it.Tenant]; !ok {
				order = append(order, it.Tenant)
			}
			byTenant[it.Tenant] = append(byTenant[it.Tenant], it)
		}
		total += len(items)
		if len(items) < statements.MaxLimit || total >= 10*statements.MaxLimit {
			break
		}
		last := items[len(items)-1]
		after.AfterTenant, after.AfterKey = last.Tenant, last.Key
	}
	s.count(func(st *Stats) { st.Due = total })
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, tenant := range order {
		s.mu.Lock()
		until := s.blocked[tenant]
		s.mu.Unlock()
		if now.Before(until) {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, it := range byTenant[tenant] {
				if ctx.Err() != nil || !s.deliver(ctx, it) {
					return
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// deliver writes one result item; false when the tenant's gradebook
// failed in a way that holds back its other results for now.
func (s *Sink) deliver(ctx context.Context, it statements.SinkItem) bool {
	log := s.cfg.Logger.With().Str("sink", s.cfg.Name).Str("tenant", it.Tenant).Str("item", it.Key).Logger()
	st, err := decodeState(&it)
	if err != nil {
		log.Error().Err(err).Msg("unreadable result item: left as it is")
		return true
	}
	ts, err := s.tenant(ctx, it.Tenant)
	if err != nil {
		log.Warn().Err(err).Msg("cannot read the tenant's configuration")
		return false
	}
	now := s.cfg.Now()
	if ts.cfg == nil || ts.cfg.Disabled {
		// Kept until the tenant has a gradebook again, or an operator
		// removes it.
		st.LastStatus, st.LastError = 0, "the tenant has no OneRoster configuration"
		s.write(ctx, it, StatePending, now.Add(unconfiguredWait), st)
		return true
	}
	res := st.next()
	if res == nil {
		_ = s.cfg.Store.DeleteSinkItem(ctx, it.Sink, it.Tenant, it.Key, it.Version)
		return true
	}
	res.DateLastModified = FormatTime(now)
	a, err := ts.book.put(ctx, res)
	now = s.cfg.Now()
	switch {
	case err == nil && a.status >= 200 && a.status < 300:
		s.count(func(c *Stats) {
			c.Written++
			if res.Status == StatusToBeDeleted {
				c.Retracted++
			}
		})
		if err := s.noteWritten(ctx, it, res); err != nil {
			log.Warn().Err(err).Msg("cannot note a written result: it will be written again")
		}
		return true
	case err == nil && (a.status == http.StatusBadRequest || a.status == http.StatusNotFound || a.status == http.StatusUnprocessableEntity):
		st.LastStatus, st.LastError = a.status, a.body
		if s.write(ctx, it, StateDead, time.Time{}, st) {
			s.count(func(c *Stats) { c.DeadLetters++ })
		}
		log.Error().Str("result", res.SourcedID).Str("statement", res.Metadata[MetaStatementID]).
			Int("status", a.status).Str("response", a.body).
			Msg("gradebook refused a result: kept as a dead letter")
		return true
	}
	st.Attempts++
	st.LastStatus = a.status
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastError = a.body
	}
	wait := a.retryAfter
	if wait <= 0 {
		wait = s.backoff(st.Attempts)
	}
	s.write(ctx, it, StatePending, now.Add(wait), st)
	s.count(func(c *Stats) { c.Retries++ })
	s.mu.Lock()
	s.blocked[it.Tenant] = now.Add(wait)
	s.mu.Unlock()
	log.Warn().Str("result", res.SourcedID).Int("status", a.status).Str("error", st.LastError).
		Int("attempts", st.Attempts).Dur("retry_in", wait).Msg("cannot write a result; retrying")
	return false
}

// noteWritten notes that the gradebook has res: the item is sent, unless a
// statement or a void changed what it should have since it was read.
func (s *Sink) noteWritten(ctx context.Context, read statements.SinkItem, res *Result) error {
	return update(ctx, s.cfg.Store, read.Sink, read.Tenant, read.Key, func(it *statements.SinkItem) (*statements.SinkItem, bool, error) {
		if it == nil {
			return nil, false, nil
		}
		st, err := decodeState(it)
		if err != nil {
			return nil, false, err
		}
		st.Written = res
		next := &statements.SinkItem{State: StateSent, Value: nil}
		if it.Version != read.Version && !sameResult(st.next(), res) {
			next.State, next.Due = it.State, it.Due
		} else {
			st.Attempts, st.LastStatus, st.LastError = 0, 0, ""
		}
		next.Value = st.encode()
		return next, false, nil
	})
}

// sameResult reports whether a and b are the same result but for when
// they were written.
func sameResult(a, b *Result) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.DateLastModified, y.DateLastModified = "", ""
	return reflect.DeepEqual(x, y)
}

// write stores the item's new state if nobody changed it since it was
// read; false when somebody did (a newer statement, a void, a replay): the
// item then stays as they left it and is delivered again if due.
func (s *Sink) write(ctx context.Context, it statements.SinkItem, state string, due time.Time, st *resultState) bool {
	next := it
	next.State, next.Due, next.Value = state, due, st.encode()
	err := s.cfg.Store.PutSinkItem(ctx, &next)
	if err != nil && statements.ErrorCode(err) != statements.EConflict {
		s.cfg.Logger.Warn().Err(err).Str("sink", s.cfg.Name).Str("tenant", it.Tenant).Str("item", it.Key).
			Msg("cannot note a delivery: it will be made again")
	}
	return err == nil
}

// backoff returns the wait after the n-th consecutive failure: doubling
// from BackoffMin up to BackoffMax, with jitter of up to a half.
func (s *Sink) backoff(n int) time.Duration {
	d := s.cfg.BackoffMin
	for i := 1; i < n && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// marshalResult returns the body of PUT /results/{sourcedId}.
func marshalResult(r *Result) ([]byte, error) {
	return json.Marshal(map[string]*Result{"result": r})
}

// WriteMetrics writes the sink's counters in the Prometheus text format.
func (s *Sink) WriteMetrics(w io.Writer) error {
	st := s.Stats()
	var b strings.Builder
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s{sink=%q} %g\n", name, help, name, typ, name, s.cfg.Name, v)
	}
	metric("lrs_oneroster_results_written_total", "counter", "Results the gradebooks accepted.", float64(st.Written))
	metric("lrs_oneroster_results_retracted_total", "counter", "Results written as tobedeleted after their statements were voided.", float64(st.Retracted))
	metric("lrs_oneroster_dead_letters_total", "counter", "Results the gradebooks refused for good (400, 404, 422), kept for replay.", float64(st.DeadLetters))
	metric("lrs_oneroster_retries_total", "counter", "Failed deliveries that will be tried again (429, 5xx, no answer).", float64(st.Retries))
	metric("lrs_oneroster_voids_total", "counter", "Voiding statements that retracted a statement from its result.", float64(st.Voids))
	metric("lrs_oneroster_statements_ignored_total", "counter", "Statements of tenants without OneRoster, or with verbs that make no result.", float64(st.Ignored))
	metric("lrs_oneroster_results_due", "gauge", "Results due at the last delivery round.", float64(st.Due))
	const skipped = "lrs_oneroster_statements_skipped_total"
	fmt.Fprintf(&b, "# HELP %s Completion statements that could not be mapped to a result, by reason.\n# TYPE %s counter\n", skipped, skipped)
	for _, r := range []Skip{SkipStudent, SkipLineItem, SkipScore, SkipVoided, SkipInvalid} {
		fmt.Fprintf(&b, "%s{sink=%q,reason=%q} %d\n", skipped, s.cfg.Name, r, st.Skipped[r])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
