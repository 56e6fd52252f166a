package forwarders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// memLog is a statements.Log in memory.
type memLog struct {
	mu      sync.Mutex
	entries []statements.LogEntry
	cursors map[string]int64
	leases  map[string]lease
	sets    []int64 // every SetCursor position
}

type lease struct {
	holder  string
	expires time.Time
}

func newMemLog(n int) *memLog {
	l := &memLog{cursors: map[string]int64{}, leases: map[string]lease{}}
	l.append(n)
	return l
}

func (l *memLog) append(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		pos := int64(len(l.entries) + 1)
		l.entries = append(l.entries, statements.LogEntry{Tenant: "t", Record: &statements.Record{
			ID: fmt.Sprintf("s%d", pos), Position: pos, Stored: time.Now()}})
	}
}

func (l *memLog) ReadLog(_ context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.entries)) {
		return nil, nil
	}
	end := min(int(after)+limit, len(l.entries))
	return append([]statements.LogEntry(nil), l.entries[after:end]...), nil
}

func (l *memLog) LogHead(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.entries)), nil
}

func (l *memLog) Cursor(_ context.Context, sink string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursors[sink], nil
}

func (l *memLog) SetCursor(_ context.Context, sink string, pos int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursors[sink] = max(l.cursors[sink], pos)
	l.sets = append(l.sets, pos)
	return nil
}

func (l *memLog) AcquireLease(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.leases[name]
	if ok && cur.holder != holder && time.Now().Before(cur.expires) {
		return false, nil
	}
	l.leases[name] = lease{holder, time.Now().Add(ttl)}
	return true, nil
}

func (l *memLog) ReleaseLease(_ context.Context, name, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leases[name].holder == holder {
		delete(l.leases, name)
	}
	return nil
}

// recSink records what it acknowledged; it fails while fail > 0.
type recSink struct {
	mu    sync.Mutex
	got   []string
	fail  int
	calls int
	log   *memLog
	// cursorAtSend: the cursor must never be past what was acknowledged.
	bad string
}

func (s *recSink) Name() string { return "rec" }

func (s *recSink) Send(_ context.Context, es []statements.LogEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if cur, _ := s.log.Cursor(context.Background(), "rec"); cur != es[0].Record.Position-1 {
		s.bad = fmt.Sprintf("cursor %d when sending from %d", cur, es[0].Record.Position)
	}
	if s.fail > 0 {
		s.fail--
		return errors.New("broker down")
	}
	for _, e := range es {
		s.got = append(s.got, e.Record.ID)
	}
	return nil
}

func (s *recSink) acked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func wantInOrder(t *testing.T, got []string, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("sink acknowledged %d statements, want %d", len(got), n)
	}
	for i, id := range got {
		if id != fmt.Sprintf("s%d", i+1) {
			t.Fatalf("statement %d is %s: out of order or repeated", i, id)
		}
	}
}

func run(t *testing.T, r *forwarders.Relay) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// TestRelay_RetriesAndCursor: a failing sink gets the same statements
// again after a backoff; the cursor moves only after an acknowledgement;
// the counters and Ready tell what happened.
func TestRelay_RetriesAndCursor(t *testing.T) {
	log := newMemLog(25)
	sink := &recSink{fail: 3, log: log}
	r, err := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{sink}, Batch: 10,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 40 * time.Millisecond, FailingAfter: time.Millisecond, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	defer stop()
	waitUntil(t, "the sink fails", func() bool { return r.Stats()[0].Failed > 0 })
	// Ready turns to an error once the sink has failed for FailingAfter,
	// and the sink keeps failing for at least one backoff (20 ms).
	var notReady error
	waitUntil(t, "Ready reports the failing sink", func() bool { notReady = r.Ready(); return notReady != nil })
	if !strings.Contains(notReady.Error(), "broker down") {
		t.Errorf("Ready while failing: %v", notReady)
	}
	waitUntil(t, "all are sent", func() bool { return len(sink.acked()) == 25 })
	wantInOrder(t, sink.acked(), 25)
	if sink.bad != "" {
		t.Error(sink.bad)
	}
	st := r.Stats()[0]
	if st.Sent != 25 || st.Failed != 3 || st.Retried != 30 || st.Cursor != 25 || st.LagPositions != 0 || !st.Leader {
		t.Errorf("stats: %+v", st)
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready after recovery: %v", err)
	}
	var b strings.Builder
	r.WriteMetrics(&b)
	for _, want := range []string{`lrs_relay_sent_total{sink="rec"} 25`, `lrs_relay_failed_total{sink="rec"} 3`, `lrs_relay_lag_positions{sink="rec"} 0`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}

	// New statements flow; Notify wakes the relay.
	log.append(5)
	r.Notify()
	waitUntil(t, "new ones are sent", func() bool { return len(sink.acked()) == 30 })
	wantInOrder(t, sink.acked(), 30)
}

// TestRelay_Lease: two relays (two LRS processes) on one log drive one
// sink: one at a time, so the sink sees every statement once and in
// order; when the leader stops, the other takes over from the cursor.
func TestRelay_Lease(t *testing.T) {
	log := newMemLog(0)
	sink := &recSink{log: log}
	cfg := forwarders.Config{Log: log, Sinks: []forwarders.Sink{sink}, Batch: 3, LeaseTTL: 150 * time.Millisecond,
		Poll: 2 * time.Millisecond}
	cfg.Holder = "p1"
	r1, _ := forwarders.New(cfg)
	cfg.Holder = "p2"
	r2, _ := forwarders.New(cfg)
	stop1 := run(t, r1)
	waitUntil(t, "p1 leads", func() bool { return r1.Stats()[0].Leader })
	stop2 := run(t, r2)
	defer stop2()
	for range 20 {
		log.append(3)
		time.Sleep(3 * time.Millisecond)
	}
	waitUntil(t, "p1 sends 60", func() bool { return len(sink.acked()) == 60 })
	if r2.Stats()[0].Leader || r2.Stats()[0].Sent != 0 {
		t.Fatalf("p2 drove the sink while p1 held the lease: %+v", r2.Stats()[0])
	}
	stop1() // releases the lease
	log.append(10)
	waitUntil(t, "p2 takes over", func() bool { return len(sink.acked()) == 70 })
	wantInOrder(t, sink.acked(), 70)
	if got := r2.Stats()[0].Sent; got != 10 {
		t.Errorf("p2 sent %d, want 10 (from the cursor)", got)
	}
	if sink.bad != "" {
		t.Error(sink.bad)
	}
}

// TestRelay_Shutdown: Shutdown lets Run forward what is stored, then
// return.
func TestRelay_Shutdown(t *testing.T) {
	log := newMemLog(40)
	sink := &recSink{log: log}
	r, _ := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{sink}, Batch: 7})
	done := make(chan struct{})
	go func() { r.Run(t.Context()); close(done) }()
	r.Shutdown()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Shutdown")
	}
	wantInOrder(t, sink.acked(), 40)
}

func TestNew_Errors(t *testing.T) {
	if _, err := forwarders.New(forwarders.Config{}); err == nil {
		t.Error("no Log: no error")
	}
	log := newMemLog(0)
	if _, err := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{&recSink{}, &recSink{}}}); err == nil {
		t.Error("two sinks of one name: no error")
	}
}

// TestRelay_Private: the entries of a private tenant (a vendor's
// sandbox) reach no sink, and the cursor passes them; the other tenants'
// entries arrive in order.
func TestRelay_Private(t *testing.T) {
	log := newMemLog(10)
	log.mu.Lock()
	for i := range log.entries {
		if i%2 == 1 {
			log.entries[i].Tenant = "sandbox-acme"
		}
	}
	// The last batch holds private entries only.
	for range 3 {
		pos := int64(len(log.entries) + 1)
		log.entries = append(log.entries, statements.LogEntry{Tenant: "sandbox-acme", Record: &statements.Record{
			ID: fmt.Sprintf("s%d", pos), Position: pos, Stored: time.Now()}})
	}
	log.mu.Unlock()
	sink := &recSink{log: log}
	r, err := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{sink}, Batch: 10, Poll: 5 * time.Millisecond,
		Private: func(tenant string) bool { return strings.HasPrefix(tenant, "sandbox-") }})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	defer stop()
	waitUntil(t, "the cursor passes every entry", func() bool { return r.Stats()[0].Cursor == 13 })
	if got, want := strings.Join(sink.acked(), ","), "s1,s3,s5,s7,s9"; got != want {
		t.Errorf("the sink got %s, want %s (none of the sandbox's)", got, want)
	}
}
