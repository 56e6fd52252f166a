package forwarders

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
)

// Sink receives stored statements.
type Sink interface {
	// Name names the sink's cursor and lease in the store; it must not
	// change while the sink's statements are being forwarded.
	Name() string
	// Send delivers entries, in order. It returns nil only when the sink
	// acknowledged every one of them; on an error the Relay sends them
	// again (the sink may then receive some twice).
	Send(ctx context.Context, entries []statements.LogEntry) error
}

// ErasureSink is a Sink that receives the log's erasure entries
// (statements.LogEntry.Erasure set) in their place among the statements;
// a Sink that is not one receives the statements only, and its cursor
// passes the erasure entries.
type ErasureSink interface {
	Sink
	// ReceivesErasures marks the sink; it does nothing.
	ReceivesErasures()
}

// TenantSink is a Sink that has nothing to do with the entries of some
// tenants (the gradebook sink, for the tenants without a gradebook). When
// the log is a statements.LogSkimmer, the relay reads only the entries of
// the tenants such a sink wants, and its cursor passes the others unread.
type TenantSink interface {
	Sink
	// Wants reports whether the sink now does anything with the entries
	// of tenant; on an error the relay reads and sends them. Entries
	// passed while a tenant was not wanted are not sent later: a tenant
	// wanted from some time on gets its entries from then on, as a sink
	// that receives and ignores them would.
	Wants(ctx context.Context, tenant string) (bool, error)
}

// forSink returns the entries sink receives: all of them, or, for a sink
// that is no ErasureSink, the statements.
func forSink(sink Sink, es []statements.LogEntry) []statements.LogEntry {
	if _, ok := sink.(ErasureSink); ok {
		return es
	}
	out := es[:0:0]
	for _, e := range es {
		if e.Erasure == nil {
			out = append(out, e)
		}
	}
	return out
}

// public returns the entries of es whose tenant is not Private.
func (r *Relay) public(es []statements.LogEntry) []statements.LogEntry {
	if r.cfg.Private == nil {
		return es
	}
	out := es[:0:0]
	for _, e := range es {
		if !r.cfg.Private(e.Tenant) {
			out = append(out, e)
		}
	}
	return out
}

// Config configures a Relay.
type Config struct {
	// Log is the store's log, where the cursors and leases are kept too.
	// Required.
	Log statements.Log
	// Sinks receive the statements; each has a cursor of its own.
	Sinks []Sink
	// Logger receives failures and recoveries; the zero value logs nothing.
	Logger zerolog.Logger
	// Holder names this process in the leases; default host name, process
	// id and a random suffix.
	Holder string
	// LeaseTTL is how long a lease lasts without renewal; default 15 s. A
	// process that dies stops driving its sinks and another takes over
	// after at most LeaseTTL.
	LeaseTTL time.Duration
	// Batch is the most statements handed to a sink at once; default 500.
	Batch int
	// Poll is how often a caught-up relay reads the log again; default 20 ms.
	// Notify wakes it sooner.
	Poll time.Duration
	// BackoffMin and BackoffMax bound the wait after a failure, which
	// doubles per consecutive failure, with full jitter; defaults 100 ms
	// and 30 s.
	BackoffMin, BackoffMax time.Duration
	// FailingAfter is how long a sink may fail before Ready reports it;
	// default 30 s.
	FailingAfter time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// TracerProvider makes a span of each delivery of a batch to a sink
	// ("sink.deliver"); nil: no spans.
	TracerProvider trace.TracerProvider
	// Private reports whether a tenant's data never leaves the LRS (a
	// vendor's sandbox): its entries go to no sink, and the cursors pass
	// them. nil: every tenant's go.
	Private func(tenant string) bool
}

// Relay forwards the store's log to sinks. Run drives it; Stats, Ready and
// WriteMetrics report on it.
type Relay struct {
	cfg   Config
	wake  chan struct{}
	sinks []*sinkState

	stopOnce sync.Once
	drain    chan struct{} // closed by Shutdown: finish what is stored, then stop
	tracer   trace.Tracer  // nil: deliveries are not traced
}

// sinkState is one sink's loop state and counters.
type sinkState struct {
	sink Sink

	mu           sync.Mutex
	leader       bool
	cursor       int64
	head         int64
	oldest       time.Time // Stored of the oldest statement not yet acknowledged; zero when caught up
	sent         uint64
	retried      uint64
	failed       uint64
	lastErr      string
	failingSince time.Time
}

// New returns a Relay for cfg.
func New(cfg Config) (*Relay, error) {
	if cfg.Log == nil {
		return nil, errors.New("forwarders: Config.Log is required")
	}
	seen := map[string]bool{}
	for _, s := range cfg.Sinks {
		if seen[s.Name()] {
			return nil, fmt.Errorf("forwarders: two sinks named %q", s.Name())
		}
		seen[s.Name()] = true
	}
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = cryptoRead(b[:])
		cfg.Holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 100 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(30*time.Second, cfg.BackoffMin)
	}
	if cfg.FailingAfter <= 0 {
		cfg.FailingAfter = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Relay{cfg: cfg, wake: make(chan struct{}, 1), drain: make(chan struct{})}
	if cfg.TracerProvider != nil {
		r.tracer = cfg.TracerProvider.Tracer(TraceScope)
	}
	for _, s := range cfg.Sinks {
		r.sinks = append(r.sinks, &sinkState{sink: s})
	}
	return r, nil
}

var cryptoRead = crand.Read

// Notify tells the relay that statements were stored: a caught-up relay
// reads the log at once instead of at its next poll. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run forwards until ctx ends, or until Shutdown finds every sink caught
// up. It returns nil then; it keeps retrying failures meanwhile.
func (r *Relay) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wakes := make([]chan struct{}, len(r.sinks))
	for i, s := range r.sinks {
		wakes[i] = make(chan struct{}, 1)
		wg.Go(func() { r.runSink(ctx, s, wakes[i]) })
	}
	// Fan the one wake channel out to every sink.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-r.wake:
				for _, w := range wakes {
					select {
					case w <- struct{}{}:
					default:
					}
				}
			case <-stop:
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	return nil
}

// Shutdown asks Run to return as soon as every sink has acknowledged
// what the log holds (or, for a sink this process does not lead, at once).
// A failing sink keeps Run going: cancel Run's ctx after a deadline for a
// hard stop; what was not acknowledged is sent after the next start.
func (r *Relay) Shutdown() { r.stopOnce.Do(func() { close(r.drain) }) }

func (r *Relay) leaseName(s Sink) string { return "relay:" + s.Name() }

// runSink is the loop of one sink: lead, read, send, acknowledge.
func (r *Relay) runSink(ctx context.Context, s *sinkState, wake <-chan struct{}) {
	log := r.cfg.Logger.With().Str("sink", s.sink.Name()).Logger()
	lease := r.leaseName(s.sink)
	defer func() {
		if s.isLeader() {
			// Let another process take over at once.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = r.cfg.Log.ReleaseLease(rctx, lease, r.cfg.Holder)
			cancel()
		}
	}()

	var (
		renewed  time.Time // when the lease was last taken or renewed
		pending  *batch    // read, not yet acknowledged
		failures int
		draining bool
		drain    = r.drain // nil once draining
	)
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		case <-wake:
		case <-drain:
			draining, drain = true, nil
		}
		return true
	}
	for ctx.Err() == nil {
		// Lead: take or renew the lease well before it expires.
		if now := r.cfg.Now(); !s.isLeader() || now.Sub(renewed) > r.cfg.LeaseTTL/3 {
			ok, err := r.cfg.Log.AcquireLease(ctx, lease, r.cfg.Holder, r.cfg.LeaseTTL)
			switch {
			case err != nil:
				s.setLeader(false)
				if ctx.Err() == nil {
					log.Warn().Err(err).Msg("cannot take the relay lease")
				}
			case !ok:
				if s.isLeader() {
					log.Warn().Msg("lost the relay lease to another process")
				}
				s.setLeader(false)
			default:
				if !s.isLeader() {
					cur, err := r.cfg.Log.Cursor(ctx, s.sink.Name())
					if err != nil {
						if ctx.Err() == nil {
							log.Warn().Err(err).Msg("cannot read the cursor")
						}
						break
					}
					s.mu.Lock()
					s.cursor = cur
					s.mu.Unlock()
					pending = nil
					s.setLeader(true)
					log.Info().Int64("cursor", cur).Msg("leading the sink")
				}
				renewed = now
			}
			if !s.isLeader() {
				if draining || !wait(r.cfg.LeaseTTL/3) {
					return
				}
				continue
			}
		}

		if pending == nil {
			cur := s.cursorPos()
			b, err := r.read(ctx, s.sink, cur)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Warn().Err(err).Msg("cannot read the statement log")
				if !wait(r.backoff(1)) {
					return
				}
				continue
			}
			if head, err := r.cfg.Log.LogHead(ctx); err == nil {
				s.mu.Lock()
				s.head = max(head, cur)
				s.mu.Unlock()
			}
			if b == nil {
				s.mu.Lock()
				s.oldest = time.Time{}
				s.mu.Unlock()
				if draining || !wait(r.cfg.Poll) {
					return
				}
				continue
			}
			pending = b
			s.mu.Lock()
			s.oldest = b.oldest
			s.mu.Unlock()
		}

		// Send within the lease: a send that outlives it could overlap the
		// next leader's.
		dctx, span := r.startDeliver(ctx, s.sink.Name(), pending, failures+1)
		sctx, cancel := context.WithTimeout(dctx, r.cfg.LeaseTTL/2)
		var err error
		if send := r.public(forSink(s.sink, pending.entries)); len(send) > 0 {
			err = s.sink.Send(sctx, send)
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				endDeliver(span, OutcomeStopped, err)
				return
			}
			endDeliver(span, OutcomeFailed, err)
			failures++
			d := r.backoff(failures)
			s.fail(err, pending.read, r.cfg.Now())
			log.Warn().Err(err).Int("statements", pending.read).Int("failures", failures).
				Dur("retry_in", d).Msg("sink failed; retrying")
			if !wait(d) {
				return
			}
			continue
		}
		last := pending.through
		err = r.setCursor(dctx, s.sink.Name(), last)
		endDeliver(span, OutcomeDelivered, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Sent but not noted: they would be sent again after a
			// restart, which at-least-once allows.
			log.Warn().Err(err).Msg("cannot advance the cursor")
		}
		if failures > 0 {
			log.Info().Int("failures", failures).Msg("sink recovered")
		}
		failures = 0
		s.ack(pending.read, last)
		pending = nil
	}
}

// batch is what the relay read of the log for a sink.
type batch struct {
	entries []statements.LogEntry // to send, in order; may be none
	through int64                 // the cursor once they are acknowledged
	first   int64                 // the position of the first entry read
	read    int                   // entries read, sent or passed
	oldest  time.Time             // Stored of the first entry read
}

// read returns the entries after cur for sink, at most Batch of them; nil
// when the log holds none. For a TenantSink on a LogSkimmer it lists the
// entries first and reads whole only those of the tenants the sink wants
// and that are not Private.
func (r *Relay) read(ctx context.Context, sink Sink, cur int64) (*batch, error) {
	whole := func(es []statements.LogEntry) *batch {
		if len(es) == 0 {
			return nil
		}
		return &batch{entries: es, through: es[len(es)-1].Record.Position, first: es[0].Record.Position,
			read: len(es), oldest: es[0].Record.Stored}
	}
	ts, selective := sink.(TenantSink)
	sk, skims := r.cfg.Log.(statements.LogSkimmer)
	if !selective || !skims {
		es, err := r.cfg.Log.ReadLog(ctx, cur, r.cfg.Batch)
		return whole(es), err
	}
	es, err := sk.SkimLog(ctx, cur, r.cfg.Batch)
	if err != nil || len(es) == 0 {
		return nil, err
	}
	wanted := map[string]bool{}
	var tenants []string
	for _, e := range es {
		if _, ok := wanted[e.Tenant]; ok {
			continue
		}
		want := r.cfg.Private == nil || !r.cfg.Private(e.Tenant)
		if want {
			ok, err := ts.Wants(ctx, e.Tenant)
			want = ok || err != nil
		}
		wanted[e.Tenant] = want
		if want {
			tenants = append(tenants, e.Tenant)
		}
	}
	if len(tenants) == len(wanted) {
		// Every tenant's: one read, as without skimming.
		es, err := r.cfg.Log.ReadLog(ctx, cur, r.cfg.Batch)
		return whole(es), err
	}
	b := &batch{through: es[len(es)-1].Record.Position, first: es[0].Record.Position,
		read: len(es), oldest: es[0].Record.Stored}
	if len(tenants) > 0 {
		if b.entries, err = sk.ReadLogOf(ctx, cur, b.through, tenants); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// setCursor writes a cursor, retrying briefly: the store may be busy.
func (r *Relay) setCursor(ctx context.Context, sink string, pos int64) error {
	var err error
	for i := range 3 {
		if err = r.cfg.Log.SetCursor(ctx, sink, pos); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(r.backoff(i + 1))
	}
	return err
}

// backoff returns the wait after n consecutive failures: full jitter over
// an exponential bound.
func (r *Relay) backoff(n int) time.Duration {
	bound := r.cfg.BackoffMin << min(n-1, 20)
	if bound <= 0 || bound > r.cfg.BackoffMax {
		bound = r.cfg.BackoffMax
	}
	half := bound / 2
	return half + rand.N(half+1)
}

func (s *sinkState) isLeader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

func (s *sinkState) setLeader(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leader = v
}

func (s *sinkState) cursorPos() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

func (s *sinkState) fail(err error, n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed++
	s.retried += uint64(n)
	s.lastErr = err.Error()
	if s.failingSince.IsZero() {
		s.failingSince = now
	}
}

func (s *sinkState) ack(n int, last int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent += uint64(n)
	s.cursor = last
	s.head = max(s.head, last)
	s.oldest = time.Time{}
	s.lastErr = ""
	s.failingSince = time.Time{}
}
