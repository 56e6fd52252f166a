package sqlitestore_test

import (
	"database/sql"
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
	if n, err := s.EraseBefore(t.Context(), "t", time.Now().Add(time.Hour), 0); err != nil || n != 2 {
		t.Fatalf("EraseBefore: %d, %v", n, err)
	}
	s.Close()
	s = MustOpenStore(t, dir)
	r := storetest.Record(t, benchStatement(3))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	if r.Position <= recs[1].Position {
		t.Errorf("position %d after reopening, want above %d", r.Position, recs[1].Position)
	}
}
