package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
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
					errs[i] = s.write(t.Context(), "t", func(w *writeTx, _, pos int64) (int64, error) {
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
