package forwarders_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// erasureSink records what it gets, erasure entries too.
type erasureSink struct {
	mu  sync.Mutex
	got []string
}

func (s *erasureSink) Name() string      { return "erasures" }
func (s *erasureSink) ReceivesErasures() {}

func (s *erasureSink) Send(_ context.Context, es []statements.LogEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range es {
		if e.Erasure != nil {
			s.got = append(s.got, "erasure:"+e.Erasure.ID)
		} else {
			s.got = append(s.got, e.Record.ID)
		}
	}
	return nil
}

// TestRelay_Erasures: an ErasureSink gets the erasure entries in their
// place; another sink gets the statements only, and its cursor passes the
// erasure entries, also when a batch holds nothing else.
func TestRelay_Erasures(t *testing.T) {
	log := newMemLog(0)
	add := func(id string, erasure bool) {
		pos := int64(len(log.entries) + 1)
		e := statements.LogEntry{Tenant: "t", Record: &statements.Record{ID: id, Position: pos, Stored: time.Now()}}
		if erasure {
			e.Record.ID = ""
			e.Erasure = &statements.ErasureEntry{ID: id, Erased: []string{"s1"}}
		}
		log.entries = append(log.entries, e)
	}
	add("s1", false)
	add("s2", false)
	add("e1", true)
	add("e2", true)
	add("s5", false)
	add("e3", true)
	plain := &recSink{log: log}
	erasing := &erasureSink{}
	r, err := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{plain, erasing}, Batch: 2, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	defer stop()
	waitUntil(t, "both cursors at the end", func() bool {
		a, _ := log.Cursor(t.Context(), "rec")
		b, _ := log.Cursor(t.Context(), "erasures")
		return a == 6 && b == 6
	})
	if got, want := plain.acked(), []string{"s1", "s2", "s5"}; !slices.Equal(got, want) {
		t.Errorf("plain sink: %v, want %v", got, want)
	}
	if plain.bad != "" {
		t.Error(plain.bad)
	}
	erasing.mu.Lock()
	defer erasing.mu.Unlock()
	if want := []string{"s1", "s2", "erasure:e1", "erasure:e2", "s5", "erasure:e3"}; !slices.Equal(erasing.got, want) {
		t.Errorf("erasure sink: %v, want %v", erasing.got, want)
	}
	var _ forwarders.ErasureSink = erasing
}
