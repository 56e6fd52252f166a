package sqlitestore_test

import (
	"database/sql"
	"path/filepath"
	"strings"
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

// TestStore_CountLeasesForgets: CountLeases deletes the prefix's leases
// that expired over an hour ago, and no live lease.
func TestStore_CountLeasesForgets(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s := MustOpenStore(t, dir, sqlitestore.WithNow(func() time.Time { return now }))
	ctx := t.Context()
	for _, l := range []struct {
		name string
		ttl  time.Duration
	}{{"replica/dead", time.Minute}, {"replica/live", 3 * time.Hour}, {"relay:kafka", time.Minute}} {
		if ok, err := s.AcquireLease(ctx, l.name, "h", l.ttl); err != nil || !ok {
			t.Fatalf("AcquireLease(%s): %v, %v", l.name, ok, err)
		}
	}
	now = now.Add(2 * time.Hour)
	if n, err := s.CountLeases(ctx, "replica/"); err != nil || n != 1 {
		t.Fatalf("CountLeases 2 h later: %d, %v, want 1", n, err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	rows, err := db.Query(`SELECT name FROM leases ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if got, want := strings.Join(names, ","), "relay:kafka,replica/live"; got != want {
		t.Errorf("leases kept: %s, want %s (another prefix's stays)", got, want)
	}
}
