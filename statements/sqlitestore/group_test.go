package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

// TestStore_GroupCommit: the writes queued while another is written go
// in one transaction, and one of them failing, before or after it wrote,
// fails it alone.
func TestStore_GroupCommit(t *testing.T) {
	for _, c := range []struct {
		name  string
		wrote bool // the failing request writes before it fails
		err   error
		runs  int // how often the group runs
	}{
		{"FailsBeforeWriting", false, statements.Errorf(statements.EConflict, "conflict"), 1},
		{"FailsAfterWriting", true, statements.Errorf(statements.EConflict, "conflict"), 2},
		{"FaultBeforeWriting", false, statements.Internal(errors.New("fault"), "fault"), 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(t.Context(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			put := func(w *writeTx, id string) error {
				return w.exec(qPutActivity, "t", id, []byte(`{}`), false)
			}

			// The first write leads alone and waits for the write lock;
			// the next ones queue behind it and go as one group.
			s.ws <- struct{}{}
			var wg sync.WaitGroup
			errs := make([]error, 4)
			var mu sync.Mutex
			runs := map[int]int{}
			start := func(i int, apply func(w *writeTx) error) {
				wg.Go(func() {
					errs[i] = s.write(t.Context(), "t", nil, func(w *writeTx, _, pos int64) (int64, error) {
						mu.Lock()
						runs[i]++
						mu.Unlock()
						return pos, apply(w)
					})
				})
			}
			start(0, func(w *writeTx) error { return put(w, "first") })
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return s.leading && len(s.queue) == 0 })
			start(1, func(w *writeTx) error { return put(w, "before") })
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return len(s.queue) == 1 })
			start(2, func(w *writeTx) error {
				if c.wrote {
					if err := put(w, "failed"); err != nil {
						return err
					}
				}
				return c.err
			})
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return len(s.queue) == 2 })
			start(3, func(w *writeTx) error { return put(w, "after") })
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return len(s.queue) == 3 })
			<-s.ws
			wg.Wait()

			for i, want := range []error{nil, nil, c.err, nil} {
				if errs[i] != want {
					t.Errorf("write %d: got %v, want %v", i, errs[i], want)
				}
			}
			if runs[1] != c.runs {
				t.Errorf("the group ran %d times, want %d", runs[1], c.runs)
			}
			for id, want := range map[string]bool{"first": true, "before": true, "failed": false, "after": true} {
				var def []byte
				err := s.r.QueryRowContext(t.Context(), qActivityDefinition, "t", id).Scan(&def, new(bool))
				if got := err == nil; got != want || (err != nil && !errors.Is(err, sql.ErrNoRows)) {
					t.Errorf("activity %s stored: got %v (%v), want %v", id, got, err, want)
				}
			}
		})
	}
}

// TestStore_GroupWait: the leader of a group waits, at most the group
// wait, for the writers about lately to queue, so that single writes share
// one commit; a lone writer is kept waiting once at most.
func TestStore_GroupWait(t *testing.T) {
	const wait = 300 * time.Millisecond
	s, err := New(t.Context(), t.TempDir(), WithGroupWait(wait))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	txOf := map[string]*writeTx{} // the transaction each write ran in
	write := func(id string) error {
		return s.write(t.Context(), "t", nil, func(w *writeTx, _, pos int64) (int64, error) {
			mu.Lock()
			txOf[id] = w
			mu.Unlock()
			return pos, w.exec(qPutActivity, "t", id, []byte(`{}`), false)
		})
	}
	same := func(ids ...string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids[1:] {
			if txOf[id] != txOf[ids[0]] {
				return false
			}
		}
		return true
	}

	// Four writers about: the first goes alone (no group before it had
	// company), the three queued behind it go together.
	s.ws <- struct{}{}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if err := write(fmt.Sprint("w", i)); err != nil {
				t.Error(err)
			}
		})
		waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return s.inside == i+1 })
	}
	<-s.ws
	wg.Wait()
	if !same("w1", "w2", "w3") || same("w0", "w1") {
		t.Fatalf("groups: %v", txOf)
	}

	// The next write waits for the others about: three single writes,
	// the last two a while after the first, share one commit, and the
	// wait ends when they are queued, well before the group wait.
	start := time.Now()
	for i := range 3 {
		wg.Go(func() {
			if err := write(fmt.Sprint("x", i)); err != nil {
				t.Error(err)
			}
		})
		if i == 0 {
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return s.gathering })
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Wait()
	if !same("x0", "x1", "x2") {
		t.Errorf("three single writes in more than one commit: %v", txOf)
	}
	if d := time.Since(start); d >= wait {
		t.Errorf("the group took %v: the leader waited the whole group wait for writers already queued", d)
	}
	if err := write("y0"); err != nil {
		t.Fatal(err)
	}
	// A lone writer now: it leads a group of one, and the next lone write
	// is not kept waiting.
	start = time.Now()
	if err := write("y1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= wait {
		t.Errorf("a lone write after a lone write took %v: it waited for company", d)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStore_GroupCommitStatements: statement batches stored in one group
// commit end as they do stored one after the other: each sees what the
// batches before it stored, and one that fails fails alone.
func TestStore_GroupCommitStatements(t *testing.T) {
	const (
		pre = "00000000-0000-4000-8000-0000000000%02d" // stored before the group
		id  = "00000000-0000-4000-8000-1000000000%02d"
	)
	stmt := func(i int, actor string, object string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"actor":{"mbox":"mailto:%s@example.org"},
			"verb":{"id":"https://example.org/verbs/did"},"object":%s}`, fmt.Sprintf(id, i), actor, object)
	}
	activity := func(name string) string { return `{"id":"https://example.org/activities/` + name + `"}` }
	ref := func(target string) string { return `{"objectType":"StatementRef","id":"` + target + `"}` }
	void := func(i int, target string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"actor":{"mbox":"mailto:admin@example.org"},
			"verb":{"id":%q},"object":%s}`, fmt.Sprintf(id, i), statements.VerbVoided, ref(target))
	}
	x, z, t1, u := fmt.Sprintf(id, 1), fmt.Sprintf(id, 10), fmt.Sprintf(id, 21), fmt.Sprintf(id, 30)
	before := func() [][]byte {
		return [][]byte{
			fmt.Appendf(nil, `{"id":%q,"actor":{"mbox":"mailto:zoe@example.org"},"verb":{"id":"https://example.org/verbs/did"},"object":%s}`,
				fmt.Sprintf(pre, 1), activity("before")),
			fmt.Appendf(nil, `{"id":%q,"actor":{"mbox":"mailto:yan@example.org"},"verb":{"id":"https://example.org/verbs/did"},"object":%s}`,
				fmt.Sprintf(pre, 2), ref(fmt.Sprintf(id, 12))),
		}
	}
	batches := func() [][][]byte {
		return [][][]byte{
			{stmt(1, "alice", activity("x"))},                           // X
			{stmt(1, "alice", activity("other"))},                       // conflicts with X
			{stmt(1, "alice", activity("x"))},                           // X again
			{stmt(2, "bob", ref(x))},                                    // refers to X
			{void(3, x)},                                                // voids X
			{stmt(1, "alice", activity("x"))},                           // X again, voided
			{void(4, fmt.Sprintf(id, 3))},                               // voids a voiding statement
			{stmt(5, "carol", ref(z))},                                  // refers to Z, not stored yet
			{stmt(10, "dave", activity("z"))},                           // Z: carol's statement gains its terms
			{stmt(6, "erin", ref(fmt.Sprintf(id, 5)))},                  // refers to carol's
			{void(20, t1)},                                              // voids T, not stored yet
			{stmt(21, "frank", activity("t"))},                          // T: voided on arrival
			{stmt(30, "gina", activity("u")), stmt(1, "alice", "{}")},   // fails on X: U not stored
			{stmt(31, "hal", ref(u)), stmt(30, "gina", activity("u"))},  // U after all
			{stmt(32, "ivy", ref(fmt.Sprintf(pre, 1)))},                 // refers to a statement stored before
			{stmt(12, "jay", activity("j"))},                            // referred to before
			{stmt(7, "kim", ref(fmt.Sprintf(pre, 2)))},                  // refers to yan's, which gained jay's terms
			{void(33, fmt.Sprintf(pre, 1))},                             // voids a statement stored before
			{before()[0]},                                               // stored before, voided
			{stmt(34, "lee", activity("new")), stmt(35, "lee", ref(x))}, // new terms, twice
			{stmt(36, "lee", activity("new"))},
			{stmt(1, "alice", activity("x")), stmt(37, "mo", activity("x"))}, // X again, and a new one
		}
	}
	records := func(raw [][]byte) []*statements.Record {
		rs := make([]*statements.Record, len(raw))
		for i, b := range raw {
			rs[i] = storetest.Record(t, b)
		}
		return rs
	}
	type outcome struct {
		code   string
		pos    []int64
		voided []bool
	}
	run := func(grouped bool) ([]outcome, []string) {
		s, err := New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pre := records(before())
		if err := s.InsertStatements(t.Context(), "t", pre); err != nil {
			t.Fatal(err)
		}
		bs := batches()
		recs := make([][]*statements.Record, len(bs))
		errs := make([]error, len(bs))
		for i, b := range bs {
			recs[i] = records(b)
		}
		if grouped {
			// A first write leads alone and waits for the write lock; the
			// batches queue behind it, in order, and go as one group.
			s.ws <- struct{}{}
			var wg sync.WaitGroup
			wg.Go(func() {
				if err := s.write(t.Context(), "t", nil, func(_ *writeTx, _, pos int64) (int64, error) { return pos, nil }); err != nil {
					t.Error(err)
				}
			})
			waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return s.leading && len(s.queue) == 0 })
			for i := range bs {
				wg.Go(func() { errs[i] = s.InsertStatements(t.Context(), "t", recs[i]) })
				waitFor(t, func() bool { s.qmu.Lock(); defer s.qmu.Unlock(); return len(s.queue) == i+1 })
			}
			<-s.ws
			wg.Wait()
		} else {
			for i := range bs {
				errs[i] = s.InsertStatements(t.Context(), "t", recs[i])
			}
		}
		var out []outcome
		var stored time.Time
		for i, rs := range recs {
			o := outcome{code: statements.ErrorCode(errs[i])}
			if errs[i] == nil {
				for _, r := range rs {
					o.pos = append(o.pos, r.Position)
					o.voided = append(o.voided, r.Voided)
					if grouped && r.Position > 2 {
						if !stored.IsZero() && !r.Stored.Equal(stored) {
							t.Errorf("batch %d: stored %v, want %v: not one group", i, r.Stored, stored)
						}
						stored = r.Stored
					}
				}
			}
			out = append(out, o)
		}

		// A term's count is the number of statements stored with it as
		// a term of their own.
		counts := map[string]int{}
		seen := map[int64]bool{}
		for i, rs := range append([][]*statements.Record{pre}, recs...) {
			if i > 0 && errs[i-1] != nil {
				continue
			}
			for _, r := range rs {
				if !seen[r.Position] {
					seen[r.Position] = true
					for _, term := range r.Terms {
						counts[term]++
					}
				}
			}
		}
		db := dump(t, s)
		for _, line := range db {
			if term, ok := strings.CutPrefix(line, "count "); ok {
				term, n, _ := strings.Cut(term, " ")
				if want := fmt.Sprint(counts[term]); n != want {
					t.Errorf("term %s: count %s, want %s", term, n, want)
				}
			}
		}
		// Merged into the table, the postings are the same.
		s.ws <- struct{}{}
		err = s.mergeAll(t.Context())
		<-s.ws
		if err != nil {
			t.Fatal(err)
		}
		if merged := dump(t, s); !slices.Equal(merged, db) {
			t.Errorf("merged:\ngot\n%s\nwant\n%s", strings.Join(merged, "\n"), strings.Join(db, "\n"))
		}
		return out, db
	}
	gotOut, gotDB := run(true)
	wantOut, wantDB := run(false)
	for i := range wantOut {
		if !reflect.DeepEqual(gotOut[i], wantOut[i]) {
			t.Errorf("batch %d: got %+v, want %+v", i, gotOut[i], wantOut[i])
		}
	}
	if !slices.Equal(gotDB, wantDB) {
		t.Errorf("stored:\ngot\n%s\nwant\n%s", strings.Join(gotDB, "\n"), strings.Join(wantDB, "\n"))
	}
}

// dump returns the rows of the statements, their terms, postings and the
// terms' counts, with terms by name.
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	names := map[int64]string{}
	var out []string
	query := func(q string, scan func(*sql.Rows) error) {
		rows, err := s.r.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	query(`SELECT term_id, term FROM terms`, func(rows *sql.Rows) error {
		var id int64
		var term string
		err := rows.Scan(&id, &term)
		names[id] = term
		return err
	})
	query(`SELECT position, id, voided, coalesce(voids, ''), coalesce(ref_target, ''), terms FROM statements ORDER BY position`,
		func(rows *sql.Rows) error {
			var pos int64
			var id, voids, ref string
			var voided bool
			var b []byte
			if err := rows.Scan(&pos, &id, &voided, &voids, &ref, &b); err != nil {
				return err
			}
			ids, err := decodeTermIDs(b)
			var terms []string
			for _, i := range ids {
				terms = append(terms, names[i])
			}
			slices.Sort(terms)
			out = append(out, fmt.Sprint("statement ", pos, id, voided, voids, ref, terms))
			return err
		})
	// The postings: in the table up to M, in memory after it.
	var merged int64
	query(`SELECT position FROM merged_through`, func(rows *sql.Rows) error { return rows.Scan(&merged) })
	query(`SELECT term_id, position FROM postings`, func(rows *sql.Rows) error {
		var id, pos int64
		err := rows.Scan(&id, &pos)
		if pos > merged {
			t.Errorf("posting %s %d in the table after M = %d", names[id], pos, merged)
		}
		out = append(out, fmt.Sprint("posting ", names[id], pos))
		return err
	})
	query(`SELECT agent, other, position FROM pair_postings`, func(rows *sql.Rows) error {
		var a, o, pos int64
		err := rows.Scan(&a, &o, &pos)
		if pos > merged {
			t.Errorf("pair posting %s %s %d in the table after M = %d", names[a], names[o], pos, merged)
		}
		out = append(out, fmt.Sprint("pair ", names[a], names[o], pos))
		return err
	})
	s.recent.mu.Lock()
	for k, l := range s.recent.lists {
		for _, pos := range l {
			if pos > merged {
				if k.other == 0 {
					out = append(out, fmt.Sprint("posting ", names[k.term], pos))
				} else {
					out = append(out, fmt.Sprint("pair ", names[k.term], names[k.other], pos))
				}
			}
		}
	}
	s.recent.mu.Unlock()
	query(`SELECT term_id, n FROM term_counts`, func(rows *sql.Rows) error {
		var id, n int64
		err := rows.Scan(&id, &n)
		out = append(out, fmt.Sprint("count ", names[id], " ", n))
		return err
	})
	slices.Sort(out)
	return out
}

// TestStore_DiskFull: a write the disk has no room for fails with
// EUnavailable and stores nothing; once there is room again, writes work.
func TestStore_DiskFull(t *testing.T) {
	s, err := New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages int
	if err := s.w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	var recs []*statements.Record
	for i := range 200 {
		recs = append(recs, storetest.Record(t, []byte(fmt.Sprintf(`{"actor":{"mbox":"mailto:a%d@example.fi"},"verb":{"id":"http://example.fi/v/%d"},"object":{"id":"http://example.fi/a/%d/%s"}}`, i, i, i, strings.Repeat("x", 500)))))
	}
	err = s.InsertStatements(t.Context(), "t", recs)
	if got := statements.ErrorCode(err); got != statements.EUnavailable {
		t.Fatalf("InsertStatements on a full disk: %v (code %q), want %q", err, got, statements.EUnavailable)
	}
	if _, err := s.w.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	page, err := s.QueryStatements(t.Context(), "t", statements.Filter{})
	if err != nil || len(page.Records) != 0 {
		t.Fatalf("after the failed write: %v, %d statements; want none", err, len(page.Records))
	}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatalf("InsertStatements with room again: %v", err)
	}
}
