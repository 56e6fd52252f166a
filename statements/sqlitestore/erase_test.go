package sqlitestore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

// TestStore_EraseIndex: after an erasure the dictionary holds no term of
// the learner, every term's count is its number of postings, and no
// statement row holds the learner's address.
func TestStore_EraseIndex(t *testing.T) {
	dir := t.TempDir()
	s := MustOpenStore(t, dir)
	learner := `{"objectType":"Agent","mbox":"mailto:learner@example.org"}`
	other := `{"objectType":"Agent","mbox":"mailto:other@example.org"}`
	var recs []*statements.Record
	for i := range 30 {
		act := `"object":{"id":"https://example.org/a` + string(rune('a'+i%5)) + `"}`
		switch i % 3 {
		case 0:
			recs = append(recs, storetest.Record(t, []byte(`{"actor":`+learner+`,"verb":{"id":"https://example.org/v"},`+act+`}`)))
		case 1:
			recs = append(recs, storetest.Record(t, []byte(`{"actor":`+other+`,"verb":{"id":"https://example.org/v"},`+act+`,"context":{"instructor":`+learner+`}}`)))
		default:
			recs = append(recs, storetest.Record(t, []byte(`{"actor":`+other+`,"verb":{"id":"https://example.org/w"},`+act+`}`)))
		}
	}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatal(err)
	}
	key, err := s.ErasureKey(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	e, err := statements.NewErasure(key, "t", "Agent|mbox|mailto:learner@example.org", "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseAgent(t.Context(), "t", e); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM terms WHERE term LIKE '%learner@%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("terms of the learner: %d, %v", n, err)
	}
	rows, err := db.Query(`SELECT c.term_id, c.n, (SELECT count(*) FROM postings p WHERE p.term_id = c.term_id) FROM term_counts c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n, posts int
		if err := rows.Scan(&id, &n, &posts); err != nil {
			t.Fatal(err)
		}
		if n != posts {
			t.Errorf("term %d: count %d, postings %d", id, n, posts)
		}
	}
	if err := db.QueryRow(`SELECT count(*) FROM postings WHERE position NOT IN (SELECT position FROM statements)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("postings of deleted statements: %d, %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM pair_postings WHERE position NOT IN (SELECT position FROM statements)
		OR agent NOT IN (SELECT term_id FROM terms) OR other NOT IN (SELECT term_id FROM terms)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("pair postings of deleted statements or terms: %d, %v", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM pair_postings`).Scan(&n); err != nil || n != 2*20 {
		t.Errorf("pair postings: %d, want 40 (%v)", n, err)
	}
	s = MustOpenStore(t, dir)
	for _, r := range storetestAll(t, s) {
		if strings.Contains(string(r.Statement), "learner@") {
			t.Errorf("statement %s names the learner: %s", r.ID, r.Statement)
		}
	}
}

func storetestAll(t *testing.T, s statements.Store) []*statements.Record {
	p, err := s.QueryStatements(t.Context(), "t", statements.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 20 {
		t.Errorf("%d statements left, want 20", len(p.Records))
	}
	return p.Records
}

// TestStore_EraseBeforeReopen: when EraseBefore deleted the last
// statements of the log, a reopened store still gives positions after
// them.
func TestStore_EraseBeforeReopen(t *testing.T) {
	dir := t.TempDir()
	s := MustOpenStore(t, dir)
	recs := []*statements.Record{storetest.Record(t, benchStatement(1)), storetest.Record(t, benchStatement(2))}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.EraseBefore(t.Context(), "t", time.Now().Add(time.Hour), 0); err != nil || n != 2 {
		t.Fatalf("EraseBefore: %d, %v", n, err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"postings", "pair_postings"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s of the deleted statements: %d, %v", table, n, err)
		}
	}
	db.Close()
	s = MustOpenStore(t, dir)
	r := storetest.Record(t, benchStatement(3))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	if r.Position <= recs[1].Position {
		t.Errorf("position %d after reopening, want above %d", r.Position, recs[1].Position)
	}
}

// TestStore_EraseFigures measures an erasure in a store of 100,000
// statements of 1,000 learners, one of whom has 2,000 more (half as the
// actor, half as the instructor of others), while a writer keeps
// inserting batches of 10: how long the erasure takes and how long the
// writer waits at worst, against the same writer without an erasure.
// LRS_ERASE_FIGURES=1 runs it.
func TestStore_EraseFigures(t *testing.T) {
	if os.Getenv("LRS_ERASE_FIGURES") == "" {
		t.Skip("LRS_ERASE_FIGURES=1 measures an erasure")
	}
	s := MustOpenStore(t, t.TempDir())
	ctx := t.Context()
	for i := 0; i < 100_000; i += 1000 {
		if err := s.InsertStatements(ctx, "t", benchRecords(t, i, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	const learner = `{"objectType":"Agent","account":{"homePage":"https://id.example.org","name":"erased"}}`
	var own []*statements.Record
	for i := range 2000 {
		st := `{"actor":` + learner + `,"verb":{"id":"https://example.org/verbs/attempted"},"object":{"id":"https://example.org/activities/1"}}`
		if i%2 == 1 {
			st = `{"actor":{"mbox":"mailto:o@example.org"},"verb":{"id":"https://example.org/verbs/attempted"},"object":{"id":"https://example.org/activities/1"},"context":{"instructor":` + learner + `}}`
		}
		own = append(own, storetest.Record(t, []byte(st)))
	}
	if err := s.InsertStatements(ctx, "t", own); err != nil {
		t.Fatal(err)
	}
	writer := func(stop <-chan struct{}) (worst time.Duration, n int) {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return worst, n
			default:
			}
			start := time.Now()
			if err := s.InsertStatements(ctx, "t", benchRecords(t, 200_000+i*10, 10)); err != nil {
				t.Error(err)
				return worst, n
			}
			worst, n = max(worst, time.Since(start)), n+10
		}
	}
	stop := make(chan struct{})
	done := make(chan [2]int64)
	go func() { w, n := writer(stop); done <- [2]int64{int64(w), int64(n)} }()
	time.Sleep(2 * time.Second)
	close(stop)
	base := <-done

	key, _ := s.ErasureKey(ctx, "t")
	e, _ := statements.NewErasure(key, "t", "Agent|account|https://id.example.org|erased", "test", time.Now())
	stop = make(chan struct{})
	go func() { w, n := writer(stop); done <- [2]int64{int64(w), int64(n)} }()
	start := time.Now()
	rc, err := s.EraseAgent(ctx, "t", e)
	took := time.Since(start)
	close(stop)
	during := <-done
	if err != nil || rc.StatementsDeleted != 1000 || rc.StatementsPseudonymised != 1000 {
		t.Fatalf("EraseAgent: %+v, %v", rc, err)
	}
	t.Logf("erasure of 2,000 statements (1,000 deleted, 1,000 pseudonymised) in a store of 102,000: %v (%.0f statements/s)",
		took.Round(time.Millisecond), 2000/took.Seconds())
	t.Logf("a writer of batches of 10: worst wait %v alone (%d statements in 2 s), %v during the erasure (%d statements in %v)",
		time.Duration(base[0]).Round(time.Millisecond), base[1], time.Duration(during[0]).Round(time.Millisecond), during[1], took.Round(time.Millisecond))
}
