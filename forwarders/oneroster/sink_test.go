package oneroster_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// fixture is a Sink on a SQLite store, with tenant "t1" connected to a
// test gradebook.
type fixture struct {
	sink  *oneroster.Sink
	admin *oneroster.Admin
	book  *onerostertest.Server
	store *sqlitestore.Store
	logs  *bytes.Buffer
	// clock, when set, is the sink's time: a test stops it and moves it.
	clock atomic.Pointer[time.Time]
}

// now is the sink's clock: the fixture's, or the real one.
func (f *fixture) now() time.Time {
	if t := f.clock.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// setClock stops the sink's clock at t.
func (f *fixture) setClock(t time.Time) { f.clock.Store(&t) }

func tenantConfig(book *onerostertest.Server) oneroster.TenantConfig {
	return oneroster.TenantConfig{BaseURL: book.BaseURL(), TokenURL: book.TokenURL(), ClientID: "lrs-client", ClientSecret: "s3cret"}
}

// MustOpenFixture returns a fixture; edit may change t1's configuration.
func MustOpenFixture(tb testing.TB, edit func(*oneroster.TenantConfig)) *fixture {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	book := onerostertest.New("lrs-client", "s3cret")
	tb.Cleanup(book.Close)
	f := &fixture{book: book, store: store, logs: &bytes.Buffer{}}
	f.sink, err = oneroster.New(oneroster.Config{
		Store: store, Log: store, Logger: zerolog.New(f.logs),
		HTTPClient: &http.Client{Timeout: 2 * time.Second},
		BackoffMin: 20 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
		Now: f.now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	f.admin = &oneroster.Admin{Store: store, Changed: f.sink.Forget}
	cfg := tenantConfig(book)
	if edit != nil {
		edit(&cfg)
	}
	if err := f.admin.SetConfig(ctx, "t1", cfg); err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) send(tb testing.TB, es ...statements.LogEntry) {
	tb.Helper()
	if err := f.sink.Send(context.Background(), es); err != nil {
		tb.Fatal(err)
	}
}

func (f *fixture) deliver(tb testing.TB) {
	tb.Helper()
	if err := f.sink.DeliverDue(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// result returns the one result item of sourcedId.
func (f *fixture) result(tb testing.TB, id string) oneroster.ResultView {
	tb.Helper()
	rs, err := f.admin.Results(context.Background(), "t1", "", "", 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rs {
		if r.SourcedID == id {
			return r
		}
	}
	tb.Fatalf("no result item %s among %d", id, len(rs))
	return oneroster.ResultView{}
}

func at(ts string) func(map[string]any) {
	return func(st map[string]any) { st["timestamp"] = ts }
}

func lineItem(li string) func(map[string]any) {
	return func(st map[string]any) {
		st["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: li}}
	}
}

// voiding returns the log entry of a statement voiding id.
func voiding(pos int64, id string) statements.LogEntry {
	return statements.LogEntry{Tenant: "t1", Record: &statements.Record{
		ID:        "9a1c0f4e-0000-4000-8000-0000000000" + string(rune('0'+pos/10%10)) + string(rune('0'+pos%10)),
		Statement: []byte(`{"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"` + id + `"}}`),
		Voids:     id, Position: pos, Stored: time.Now(),
	}}
}

var li1 = oneroster.ResultID("t1", "li-1", "s-1")

func TestSink_Deliver(t *testing.T) {
	t.Run("WritesResults", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.send(t,
			entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":87}}`, nil),
			entry(t, 2, "http://adlnet.gov/expapi/verbs/experienced", "", nil),
			entry(t, 3, oneroster.VerbCompleted, "", lineItem("li-2")),
		)
		if got := f.book.Results(); got != 0 {
			t.Fatalf("results before delivery: got %d, want 0", got)
		}
		f.deliver(t)
		if got, want := f.book.Results(), 2; got != want {
			t.Fatalf("results: got %d, want %d", got, want)
		}
		if r := f.book.Result(li1); r == nil || r["score"] != 87.0 || r["scoreStatus"] != "fully graded" {
			t.Errorf("result of li-1: %v", r)
		}
		if r := f.book.Result(oneroster.ResultID("t1", "li-2", "s-1")); r == nil || r["scoreStatus"] != "submitted" {
			t.Errorf("result of li-2: %v", r)
		}
		if st := f.sink.Stats(); st.Written != 2 || st.Ignored != 1 {
			t.Errorf("stats: %+v", st)
		}
		if v := f.result(t, li1); v.State != oneroster.StateSent || v.Statement != entry(t, 1, "", "", nil).Record.ID {
			t.Errorf("item: %+v", v)
		}
		// Delivered once: another round writes nothing; the token is cached.
		f.send(t, entry(t, 4, oneroster.VerbPassed, `{"score":{"raw":90}}`, lineItem("li-3")))
		f.deliver(t)
		f.deliver(t)
		if tokens, puts := f.book.Counts(); tokens != 1 || puts != 3 {
			t.Errorf("tokens, puts: got %d, %d, want 1, 3", tokens, puts)
		}
	})

	t.Run("SendTwiceWritesOnce", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		e := entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":87}}`, nil)
		f.send(t, e)
		f.deliver(t)
		f.send(t, e) // the relay sends a batch again after a failure
		f.deliver(t)
		if _, puts := f.book.Counts(); puts != 1 {
			t.Errorf("puts: got %d, want 1", puts)
		}
	})

	t.Run("TokenRefreshOn401", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.deliver(t)
		f.book.RevokeTokens()
		f.send(t, entry(t, 2, oneroster.VerbFailed, "", at("2026-03-01T11:00:00Z")))
		f.deliver(t)
		if tokens, puts := f.book.Counts(); tokens != 2 || puts != 3 {
			t.Errorf("tokens, puts: got %d, %d, want 2, 3", tokens, puts)
		}
		if r := f.book.Result(li1); r == nil || r["textScore"] != "fail" {
			t.Errorf("result: %v", r)
		}
	})

	t.Run("RetryAfter5xx", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.book.FailNext(1, http.StatusServiceUnavailable)
		now := time.Now()
		f.setClock(now)
		f.deliver(t)
		v := f.result(t, li1)
		if v.State != oneroster.StatePending || v.Attempts != 1 || v.Status != 503 || v.Due == nil || !v.Due.After(now) {
			t.Fatalf("after a 503: %+v", v)
		}
		f.deliver(t) // not due yet
		if _, puts := f.book.Counts(); puts != 1 {
			t.Fatalf("puts: got %d, want 1 (the retry waits)", puts)
		}
		f.setClock(now.Add(50 * time.Millisecond))
		f.deliver(t)
		if f.book.Result(li1) == nil {
			t.Fatal("not written after the backoff")
		}
		if v := f.result(t, li1); v.State != oneroster.StateSent || v.Attempts != 0 || v.Response != "" {
			t.Errorf("after the retry: %+v", v)
		}
		if st := f.sink.Stats(); st.Retries != 1 || st.Written != 1 {
			t.Errorf("stats: %+v", st)
		}
	})

	t.Run("RetryAfterHeader429", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.book.SetRetryAfter("120")
		f.book.FailNext(1, http.StatusTooManyRequests)
		f.deliver(t)
		v := f.result(t, li1)
		if v.Due == nil || time.Until(*v.Due) < 100*time.Second || time.Until(*v.Due) > 121*time.Second {
			t.Fatalf("due: %v, want in about 120 s (Retry-After)", v.Due)
		}
	})

	t.Run("NetworkError", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.book.Close()
		f.deliver(t)
		if v := f.result(t, li1); v.State != oneroster.StatePending || v.Status != 0 || !strings.Contains(v.Response, "token endpoint") {
			t.Errorf("item: %+v", v)
		}
	})

	t.Run("BadCredentials", func(t *testing.T) {
		f := MustOpenFixture(t, func(c *oneroster.TenantConfig) { c.ClientSecret = "wrong" })
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.deliver(t)
		if v := f.result(t, li1); v.State != oneroster.StatePending || !strings.Contains(v.Response, "401") {
			t.Errorf("item: %+v", v)
		}
	})

	t.Run("DeadLetterAndReplay", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.book.FailFor(li1, http.StatusUnprocessableEntity)
		e := entry(t, 1, oneroster.VerbPassed, "", nil)
		f.send(t, e, entry(t, 2, oneroster.VerbCompleted, "", lineItem("li-2")))
		f.deliver(t)
		if f.book.Result(oneroster.ResultID("t1", "li-2", "s-1")) == nil {
			t.Error("the result after the dead letter was not written")
		}
		dead, err := f.admin.Results(context.Background(), "t1", oneroster.StateDead, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0].SourcedID != li1 || dead[0].Status != 422 || !strings.Contains(dead[0].Response, "forced") ||
			dead[0].Statement != e.Record.ID {
			t.Fatalf("dead letters: %+v", dead)
		}
		if !strings.Contains(f.logs.String(), e.Record.ID) || !strings.Contains(f.logs.String(), `"status":422`) {
			t.Errorf("log: %s", f.logs.String())
		}
		f.deliver(t) // a dead letter is not retried by itself
		if _, puts := f.book.Counts(); puts != 2 {
			t.Errorf("puts: got %d, want 2", puts)
		}
		if _, err := f.admin.Replay(context.Background(), "t1", "no-such-result"); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("replay of an unknown result: got %v, want not found", err)
		}
		f.book.FailFor(li1, 0)
		if n, err := f.admin.Replay(context.Background(), "t1", ""); err != nil || n != 1 {
			t.Fatalf("replay: %d, %v", n, err)
		}
		f.deliver(t)
		if f.book.Result(li1) == nil {
			t.Fatal("not written after the replay")
		}
		if st := f.sink.Stats(); st.DeadLetters != 1 || st.Written != 2 {
			t.Errorf("stats: %+v", st)
		}
	})

	t.Run("NewerStatementWins", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		// Stored out of order: the newer attempt first.
		f.send(t,
			entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":80}}`, at("2026-03-01T11:00:00Z")),
			entry(t, 2, oneroster.VerbFailed, `{"score":{"raw":50}}`, at("2026-03-01T10:00:00Z")),
		)
		f.deliver(t)
		if h := f.book.History(li1); len(h) != 1 || h[0]["score"] != 80.0 {
			t.Fatalf("history: %v, want one write of 80", h)
		}
		// Older still, after delivery: nothing is written.
		f.send(t, entry(t, 3, oneroster.VerbFailed, `{"score":{"raw":10}}`, at("2026-03-01T09:00:00Z")))
		f.deliver(t)
		if h := f.book.History(li1); len(h) != 1 {
			t.Fatalf("history: %v, want one write", h)
		}
		// Newer: written.
		f.send(t, entry(t, 4, oneroster.VerbPassed, `{"score":{"raw":95}}`, at("2026-03-01T12:00:00Z")))
		f.deliver(t)
		if h := f.book.History(li1); len(h) != 2 || h[1]["score"] != 95.0 || h[1]["scoreDate"] != "2026-03-01T12:00:00.000Z" {
			t.Fatalf("history: %v, want 80 then 95", h)
		}
	})

	t.Run("VoidRecomputesThenRetracts", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		older := entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":50}}`, at("2026-03-01T10:00:00Z"))
		newer := entry(t, 2, oneroster.VerbPassed, `{"score":{"raw":80}}`, at("2026-03-01T11:00:00Z"))
		f.send(t, older, newer)
		f.deliver(t)
		f.send(t, voiding(3, newer.Record.ID))
		f.deliver(t)
		h := f.book.History(li1)
		if len(h) != 2 || h[1]["score"] != 50.0 || h[1]["status"] != "active" {
			t.Fatalf("history: %v, want 80 then 50", h)
		}
		if md := h[1]["metadata"].(map[string]any); md["xapiStatementId"] != older.Record.ID {
			t.Errorf("metadata: %v", md)
		}
		f.send(t, voiding(4, older.Record.ID))
		f.deliver(t)
		h = f.book.History(li1)
		if len(h) != 3 || h[2]["status"] != "tobedeleted" {
			t.Fatalf("history: %v, want a tobedeleted last", h)
		}
		if st := f.sink.Stats(); st.Voids != 2 || st.Retracted != 1 {
			t.Errorf("stats: %+v", st)
		}
		// Voiding again, or voiding a statement that made no result,
		// writes nothing.
		f.send(t, voiding(5, older.Record.ID), voiding(6, "0a1c0f4e-0000-4000-8000-000000000000"))
		f.deliver(t)
		if h := f.book.History(li1); len(h) != 3 {
			t.Errorf("history: %d writes, want 3", len(h))
		}
	})

	t.Run("VoidBeforeDelivery", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		e := entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":50}}`, nil)
		f.send(t, e, voiding(2, e.Record.ID))
		f.deliver(t)
		if _, puts := f.book.Counts(); puts != 0 {
			t.Errorf("puts: got %d, want 0", puts)
		}
		if rs, _ := f.admin.Results(context.Background(), "t1", "", "", 0); len(rs) != 0 {
			t.Errorf("items left: %+v", rs)
		}
	})

	t.Run("UnknownStudent", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		f.book.KnowUsers("s-known")
		f.send(t,
			entry(t, 1, oneroster.VerbPassed, "", func(st map[string]any) {
				st["actor"] = map[string]any{"mbox": "mailto:a@example.org"}
			}),
			entry(t, 2, oneroster.VerbPassed, "", func(st map[string]any) { delete(st, "context") }),
			entry(t, 3, oneroster.VerbPassed, "", nil), // s-1: the gradebook does not know them
		)
		f.deliver(t)
		if st := f.sink.Stats(); st.Skipped[oneroster.SkipStudent] != 1 || st.Skipped[oneroster.SkipLineItem] != 1 || st.DeadLetters != 1 {
			t.Errorf("stats: %+v", st)
		}
		if v := f.result(t, li1); v.State != oneroster.StateDead || !strings.Contains(v.Response, "s-1") {
			t.Errorf("item: %+v", v)
		}
	})

	t.Run("MappingTables", func(t *testing.T) {
		f := MustOpenFixture(t, func(c *oneroster.TenantConfig) { c.RequireStudentMapping = true })
		ctx := context.Background()
		if _, err := f.admin.SetStudents(ctx, "t1", []oneroster.StudentMapping{{Account: "s-1", SourcedID: "user-1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.admin.SetActivities(ctx, "t1", []oneroster.ActivityMapping{{ActivityID: "https://example.org/course/1",
			Target: oneroster.Target{LineItem: "li-9", Class: "c-9", Scale: &oneroster.Scale{Min: 0, Max: 10}}}}); err != nil {
			t.Fatal(err)
		}
		noExt := func(st map[string]any) { delete(st, "context") }
		f.send(t,
			entry(t, 1, oneroster.VerbPassed, `{"score":{"scaled":0.55}}`, noExt),
			entry(t, 2, oneroster.VerbPassed, "", func(st map[string]any) {
				noExt(st)
				st["actor"] = map[string]any{"account": map[string]any{"homePage": "https://mpass-proxy.csc.fi", "name": "s-unmapped"}}
			}),
		)
		f.deliver(t)
		r := f.book.Result(oneroster.ResultID("t1", "li-9", "user-1"))
		if r == nil || r["score"] != 5.5 || r["class"].(map[string]any)["sourcedId"] != "c-9" || r["student"].(map[string]any)["sourcedId"] != "user-1" {
			t.Fatalf("result: %v", r)
		}
		if st := f.sink.Stats(); st.Skipped[oneroster.SkipStudent] != 1 {
			t.Errorf("stats: %+v", st)
		}
	})

	t.Run("TenantsAreIsolated", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		other := onerostertest.New("lrs-client", "s3cret")
		defer other.Close()
		if err := f.admin.SetConfig(context.Background(), "t2", tenantConfig(other)); err != nil {
			t.Fatal(err)
		}
		e2 := entry(t, 2, oneroster.VerbPassed, "", nil)
		e2.Tenant = "t2"
		e3 := entry(t, 3, oneroster.VerbPassed, "", nil)
		e3.Tenant = "t3" // no OneRoster
		f.book.FailNext(100, http.StatusServiceUnavailable)
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil), e2, e3)
		f.deliver(t)
		if other.Result(oneroster.ResultID("t2", "li-1", "s-1")) == nil {
			t.Error("t2's result waits for t1's gradebook")
		}
		if f.book.Results() != 0 || other.Results() != 1 {
			t.Errorf("results: t1 %d, t2 %d", f.book.Results(), other.Results())
		}
		if st := f.sink.Stats(); st.Ignored != 1 {
			t.Errorf("stats: %+v", st)
		}
	})

	t.Run("Disabled", func(t *testing.T) {
		f := MustOpenFixture(t, func(c *oneroster.TenantConfig) { c.Disabled = true })
		f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
		f.deliver(t)
		if _, puts := f.book.Counts(); puts != 0 {
			t.Errorf("puts: got %d, want 0", puts)
		}
	})
}

func TestSink_Run(t *testing.T) {
	f := MustOpenFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.sink.Run(ctx) }()
	f.send(t, entry(t, 1, oneroster.VerbPassed, "", nil))
	deadline := time.Now().Add(5 * time.Second)
	for f.book.Result(li1) == nil {
		if time.Now().After(deadline) {
			t.Fatal("Run did not write the result in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The lease was released: another process takes it at once.
	ok, err := f.store.AcquireLease(context.Background(), "delivery:oneroster", "other", time.Minute)
	if err != nil || !ok {
		t.Errorf("lease after Run: %v, %v", ok, err)
	}
}

func TestNew(t *testing.T) {
	if _, err := oneroster.New(oneroster.Config{}); err == nil {
		t.Error("no store: got nil, want an error")
	}
	store, err := sqlitestore.New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	good := oneroster.TenantConfig{BaseURL: "https://gb.example" + onerostertest.BasePath, TokenURL: "https://gb.example/token", ClientID: "a", ClientSecret: "b"}
	if _, err := oneroster.New(oneroster.Config{Store: store, Static: map[string]oneroster.TenantConfig{"t1": good}}); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		edit  func(*oneroster.TenantConfig)
		field string
	}{
		"NoBaseURL":      {func(c *oneroster.TenantConfig) { c.BaseURL = "" }, "baseUrl"},
		"NoTokenURL":     {func(c *oneroster.TenantConfig) { c.TokenURL = "" }, "tokenUrl"},
		"NoClientID":     {func(c *oneroster.TenantConfig) { c.ClientID = "" }, "clientId"},
		"NoClientSecret": {func(c *oneroster.TenantConfig) { c.ClientSecret = "" }, "clientSecret"},
		"BadBaseURL":     {func(c *oneroster.TenantConfig) { c.BaseURL = "gb.example/v1p2" }, "baseUrl"},
		"NotGradebook":   {func(c *oneroster.TenantConfig) { c.BaseURL = "https://gb.example/api" }, "baseUrl"},
		"BadVerb":        {func(c *oneroster.TenantConfig) { c.Verbs = []string{"passed"} }, "verbs[0]"},
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			_, err := oneroster.New(oneroster.Config{Store: store, Static: map[string]oneroster.TenantConfig{"t1": c}})
			if err == nil || !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("got %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
