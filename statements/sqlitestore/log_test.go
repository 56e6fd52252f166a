package sqlitestore_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/digione/lrs/statements/sqlitestore"
)

// TestLog_OlderDatabase: a database made before the forwarders' tables
// gets them on first use, and cursors and leases survive a reopen.
func TestLog_OlderDatabase(t *testing.T) {
	dir := t.TempDir()
	MustOpenStore(t, dir).Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE cursors`, `DROP TABLE leases`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s := MustOpenStore(t, dir)
	if pos, err := s.Cursor(t.Context(), "kafka"); err != nil || pos != 0 {
		t.Fatalf("Cursor: %d, %v", pos, err)
	}
	if err := s.SetCursor(t.Context(), "kafka", 42); err != nil {
		t.Fatalf("SetCursor: %v", err)
	}
	if ok, err := s.AcquireLease(t.Context(), "relay:kafka", "p1", time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLease: %v, %v", ok, err)
	}
	s.Close()

	s = MustOpenStore(t, dir)
	if pos, err := s.Cursor(t.Context(), "kafka"); err != nil || pos != 42 {
		t.Errorf("Cursor after reopen: %d, %v, want 42", pos, err)
	}
	if ok, err := s.AcquireLease(t.Context(), "relay:kafka", "p2", time.Minute); err != nil || ok {
		t.Errorf("p2 took p1's lease after reopen: %v, %v", ok, err)
	}
}
