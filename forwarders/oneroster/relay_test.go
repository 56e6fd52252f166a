package oneroster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

// completion returns the record of a stored statement of student that
// makes a result for line item li-1 when verb is a completion verb.
func completion(tb testing.TB, student, verb string) *statements.Record {
	tb.Helper()
	return storetest.Record(tb, fmt.Appendf(nil, `{"actor":{"account":{"homePage":"https://mpass-proxy.csc.fi","name":%q}},
		"verb":{"id":%q},"object":{"id":"https://example.org/course/1"},
		"context":{"extensions":{%q:"li-1",%q:"c-1"}},"timestamp":"2026-03-01T10:00:00+02:00"}`,
		student, verb, oneroster.ExtLineItem, oneroster.ExtClass))
}

// TestSink_RelayPassesTenantsWithoutGradebook: the relay, on the SQLite
// store, passes the statements of a tenant without a gradebook without
// handing them to the sink; it hands over every statement of a tenant with
// one, and a tenant configured later gets the results of its statements
// stored from then on.
func TestSink_RelayPassesTenantsWithoutGradebook(t *testing.T) {
	f := MustOpenFixture(t, nil)
	ctx := t.Context()
	insert := func(tenant string, rs ...*statements.Record) {
		t.Helper()
		if err := f.store.InsertStatements(ctx, tenant, rs); err != nil {
			t.Fatal(err)
		}
	}
	// t2 has no gradebook: runs of 10 of its statements, so that whole
	// batches of the relay are t2's, between statements of t1.
	var t1Passed, t1Other int
	for i := range 40 {
		switch {
		case i%10 < 7:
			insert("t2", completion(t, fmt.Sprintf("early-%d", i), oneroster.VerbPassed))
		case i%2 == 0:
			insert("t1", completion(t, fmt.Sprintf("s-%d", i), oneroster.VerbPassed))
			t1Passed++
		default:
			insert("t1", completion(t, fmt.Sprintf("s-%d", i), "http://adlnet.gov/expapi/verbs/experienced"))
			t1Other++
		}
	}
	relay, err := forwarders.New(forwarders.Config{Log: f.store, Sinks: []forwarders.Sink{f.sink},
		Batch: 7, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	f.waitRelayed(t, relay)
	f.deliver(t)
	if got := f.book.Results(); got != t1Passed {
		t.Errorf("t1's results: got %d, want %d", got, t1Passed)
	}
	for i := range 40 {
		if i%10 >= 7 && i%2 == 0 && f.book.Result(oneroster.ResultID("t1", "li-1", fmt.Sprintf("s-%d", i))) == nil {
			t.Errorf("no result for t1's statement of s-%d", i)
		}
	}
	// Every t1 statement reached the sink; none of t2's did (a statement
	// the sink receives for a tenant without a gradebook counts as
	// ignored).
	if st := f.sink.Stats(); st.Ignored != uint64(t1Other) || st.Written != uint64(t1Passed) {
		t.Errorf("stats: ignored %d, written %d; want %d and %d", st.Ignored, st.Written, t1Other, t1Passed)
	}

	// t2 gets a gradebook: its statements from then on make results, the
	// earlier ones, passed, do not.
	other := onerostertest.New("lrs-client", "s3cret")
	defer other.Close()
	if err := f.admin.SetConfig(ctx, "t2", tenantConfig(other)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		insert("t2", completion(t, fmt.Sprintf("late-%d", i), oneroster.VerbPassed))
		insert("t3", completion(t, fmt.Sprintf("late-%d", i), oneroster.VerbPassed))
	}
	f.waitRelayed(t, relay)
	f.deliver(t)
	if got := other.Results(); got != 5 {
		t.Errorf("t2's results: got %d, want 5", got)
	}
	for i := range 5 {
		if other.Result(oneroster.ResultID("t2", "li-1", fmt.Sprintf("late-%d", i))) == nil {
			t.Errorf("no result for t2's statement of late-%d", i)
		}
	}
	if st := f.sink.Stats(); st.Ignored != uint64(t1Other) {
		t.Errorf("stats: ignored %d, want %d (t3's statements passed unread)", st.Ignored, t1Other)
	}
}

// TestSink_RelayPassesPrivateTenants: a private tenant's statements (a
// vendor's sandbox) reach no sink, also when its gradebook is configured
// and the relay lists the log before reading it.
func TestSink_RelayPassesPrivateTenants(t *testing.T) {
	f := MustOpenFixture(t, nil)
	ctx := t.Context()
	for i := range 12 {
		tenant := "t1"
		if i%3 == 0 {
			tenant = "t2"
		}
		if err := f.store.InsertStatements(ctx, tenant, []*statements.Record{completion(t, fmt.Sprintf("s-%d", i), oneroster.VerbPassed)}); err != nil {
			t.Fatal(err)
		}
	}
	relay, err := forwarders.New(forwarders.Config{Log: f.store, Sinks: []forwarders.Sink{f.sink},
		Batch: 5, Poll: 5 * time.Millisecond, Private: func(tenant string) bool { return tenant == "t1" }})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { relay.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	f.waitRelayed(t, relay)
	f.deliver(t)
	// t2 has no gradebook: its 4 statements are ignored by the sink or
	// passed; t1 is private: none of its 8 reaches the sink.
	if st := f.sink.Stats(); st.Written != 0 || st.Ignored > 4 || f.book.Results() != 0 {
		t.Errorf("a private tenant's statements reached the sink: %+v, %d results", st, f.book.Results())
	}
}

// waitRelayed wakes the relay and waits until the sink's cursor reaches
// the head of the log.
func (f *fixture) waitRelayed(t *testing.T, relay *forwarders.Relay) {
	t.Helper()
	head, err := f.store.LogHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	relay.Notify()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		cur, err := f.store.Cursor(t.Context(), f.sink.Name())
		if err != nil {
			t.Fatal(err)
		}
		if cur == head {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, log head %d: the relay did not catch up", cur, head)
		}
	}
}
