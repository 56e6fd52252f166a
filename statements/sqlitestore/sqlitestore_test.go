package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

// MustOpenStore opens a store in a temporary directory, closed at the end
// of the test.
func MustOpenStore(tb testing.TB, dir string, opts ...sqlitestore.Option) *sqlitestore.Store {
	tb.Helper()
	s, err := sqlitestore.New(tb.Context(), dir, opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) statements.Store { return MustOpenStore(t, t.TempDir()) })
}

// TestStore_MergeEvery3 runs the suite with the recent postings merged
// into the postings table after every few statements, while the suite
// writes and reads: queries read the table and the memory at once.
func TestStore_MergeEvery3(t *testing.T) {
	var mu sync.Mutex
	var merges int64
	storetest.Run(t, func(t *testing.T) statements.Store {
		s := MustOpenStore(t, t.TempDir(), sqlitestore.WithMergeEvery(3))
		t.Cleanup(func() {
			_, n := sqlitestore.RecentStats(s)
			mu.Lock()
			merges += n
			mu.Unlock()
		})
		return s
	})
	if merges == 0 {
		t.Error("no merge ran in the background: the suite did not read merged postings")
	}
}

// TestStore_NeverMerged runs the suite with no merge in the background:
// every query reads the postings of the statements it finds from memory
// (but those that erasures merged).
func TestStore_NeverMerged(t *testing.T) {
	var mu sync.Mutex
	var pending int64
	storetest.Run(t, func(t *testing.T) statements.Store {
		s := MustOpenStore(t, t.TempDir(), sqlitestore.WithMergeEvery(0))
		t.Cleanup(func() {
			n, merges := sqlitestore.RecentStats(s)
			if merges != 0 {
				t.Errorf("%d merges in the background, want none", merges)
			}
			mu.Lock()
			pending += n
			mu.Unlock()
		})
		return s
	})
	if pending == 0 {
		t.Error("no statement had its postings in memory at the end of a test")
	}
}

func record(tb testing.TB, s string) *statements.Record {
	tb.Helper()
	return storetest.Record(tb, []byte(s))
}

const stmtJSON = `{"actor":{"mbox":"mailto:alice@example.org"},"verb":{"id":"https://example.org/verbs/completed"},
	"object":{"id":"https://example.org/activities/course"}}`

func TestStore_Reopen(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlitestore.New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := record(t, stmtJSON), record(t, stmtJSON)
	target := record(t, stmtJSON)
	v := storetest.Record(t, []byte(`{"actor":{"mbox":"mailto:admin@example.org"},"verb":{"id":"`+statements.VerbVoided+`"},
		"object":{"objectType":"StatementRef","id":"`+target.ID+`"}}`))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r1, r2, v}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTenant(t.Context(), statements.Tenant{ID: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenStore(t, dir)
	got, err := s.Statement(t.Context(), "t", r2.ID, false)
	if err != nil {
		t.Fatalf("Statement after reopen: %v", err)
	}
	if got.Position != r2.Position || !got.Stored.Equal(r2.Stored) || string(got.Statement) != string(r2.Statement) {
		t.Errorf("after reopen: got %+v, want %+v", got, r2)
	}
	// The log goes on after the last position; the voiding statement still
	// voids its target when it arrives.
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{target}); err != nil {
		t.Fatal(err)
	}
	if target.Position <= v.Position {
		t.Errorf("Position after reopen: got %d, want > %d", target.Position, v.Position)
	}
	if target.Stored.Before(v.Stored) {
		t.Errorf("Stored after reopen: got %v, want >= %v", target.Stored, v.Stored)
	}
	if !target.Voided {
		t.Errorf("Voided after reopen: got false, want true")
	}
	tenants, err := s.Tenants(t.Context())
	if err != nil || len(tenants) != 1 {
		t.Errorf("Tenants after reopen: %v, %v", tenants, err)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestStore_Clock: Stored follows the clock at millisecond precision,
// never decreases, and is after every ConsistentThrough answered before,
// also when the clock stands still or steps back.
func TestStore_Clock(t *testing.T) {
	base := time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC)
	c := &clock{t: base}
	s := MustOpenStore(t, t.TempDir(), sqlitestore.WithNow(c.Now))
	insert := func() *statements.Record {
		t.Helper()
		r := record(t, stmtJSON)
		if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ct := func() time.Time {
		t.Helper()
		x, err := s.ConsistentThrough(t.Context(), "t")
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	r := insert()
	if got, want := r.Stored, base.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("Stored: got %v, want %v", got, want)
	}
	// The clock stands still: a later write is still after ConsistentThrough.
	t1 := ct()
	if !t1.Before(r.Stored.Add(time.Millisecond)) {
		t.Errorf("ConsistentThrough %v is not before the next millisecond", t1)
	}
	r2 := insert()
	if !r2.Stored.After(t1) {
		t.Errorf("Stored %v not after ConsistentThrough %v", r2.Stored, t1)
	}
	// The clock steps back an hour.
	c.Set(base.Add(-time.Hour))
	r3 := insert()
	if r3.Stored.Before(r2.Stored) {
		t.Errorf("Stored went back with the clock: %v then %v", r2.Stored, r3.Stored)
	}
	t2 := ct()
	if t2.Before(t1) {
		t.Errorf("ConsistentThrough went back: %v then %v", t1, t2)
	}
	r4 := insert()
	if !r4.Stored.After(t2) {
		t.Errorf("Stored %v not after ConsistentThrough %v", r4.Stored, t2)
	}
	// Since and Until at millisecond precision.
	c.Set(base.Add(time.Minute))
	r5 := insert()
	ns := time.Nanosecond
	for _, tc := range []struct {
		since, until time.Time
		want         int
	}{
		{r5.Stored.Add(-ns), r5.Stored, 1},
		{r5.Stored.Add(-ns), base.Add(time.Minute), 1},
		{r5.Stored.Add(-ns), r5.Stored.Add(-ns), 0},
		{r5.Stored, r5.Stored.Add(time.Hour), 0},
		{r5.Stored.Add(ns), r5.Stored.Add(time.Hour), 0},
	} {
		page, err := s.QueryStatements(t.Context(), "t", statements.Filter{Since: tc.since, Until: tc.until})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != tc.want {
			t.Errorf("Stored %v, Since %v, Until %v: got %d records, want %d", r5.Stored, tc.since, tc.until, len(page.Records), tc.want)
		}
	}
}

// TestStore_Errors: driver errors reach callers as statements.Error values.
func TestStore_Errors(t *testing.T) {
	s := MustOpenStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.InsertStatements(ctx, "t", []*statements.Record{record(t, stmtJSON)})
	var se *statements.Error
	if !errors.As(err, &se) || se.Code != statements.EInternal {
		t.Errorf("InsertStatements with a canceled context: got %#v, want an internal *statements.Error", err)
	}
	_, err = s.QueryStatements(ctx, "t", statements.Filter{})
	if !errors.As(err, &se) || se.Code != statements.EInternal {
		t.Errorf("QueryStatements with a canceled context: got %#v, want an internal *statements.Error", err)
	}
	err = s.InsertStatements(t.Context(), "t", []*statements.Record{{Statement: []byte(stmtJSON)}})
	if got := statements.ErrorCode(err); got != statements.EInvalid {
		t.Errorf("record without id: got %q, want %q", got, statements.EInvalid)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Statement(t.Context(), "t", "x", false)
	if !errors.As(err, &se) || se.Code != statements.EInternal {
		t.Errorf("Statement on a closed store: got %#v, want an internal *statements.Error", err)
	}
}

// TestNew_NewerSchema: a database written by a newer version is refused.
func TestNew_NewerSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlitestore.New(t.Context(), dir)
	if got := statements.ErrorCode(err); got != statements.EInternal {
		t.Fatalf("New on a newer schema: got %v, want an internal error", err)
	}
}
