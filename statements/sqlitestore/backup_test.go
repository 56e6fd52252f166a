package sqlitestore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestBackup_DuringWrites takes backups while writers insert statements:
// each restores to a store that holds every statement acknowledged before
// the backup began, and the attachments.
func TestBackup_DuringWrites(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := MustOpenStore(t, dir)
	if err := s.CreateTenant(ctx, statements.Tenant{ID: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	content := []byte("an attachment of the backup")
	h := sha256.Sum256(content)
	sum := hex.EncodeToString(h[:])
	if err := s.PutAttachment(ctx, "t", sum, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var acked []string
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for wctx.Err() == nil {
				recs := []*statements.Record{record(t, stmtJSON), record(t, stmtJSON)}
				if err := s.InsertStatements(wctx, "t", recs); err != nil {
					if wctx.Err() == nil {
						t.Errorf("InsertStatements: %v", err)
					}
					return
				}
				mu.Lock()
				for _, r := range recs {
					acked = append(acked, r.ID)
				}
				mu.Unlock()
			}
		})
	}
	ackedNow := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), acked...)
	}
	for len(ackedNow()) < 200 {
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(time.Millisecond)
	}

	backups := map[string]func(to string) error{
		"Function": func(to string) error { return sqlitestore.Backup(ctx, dir, to) },
		"Method":   func(to string) error { return s.Backup(ctx, to) },
	}
	before := map[string][]string{}
	for name, backup := range backups {
		before[name] = ackedNow()
		if err := backup(filepath.Join(t.TempDir(), "lrs.backup")); err != nil {
			t.Fatalf("%s: Backup: %v", name, err)
		}
	}
	for name, backup := range backups {
		t.Run(name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "lrs.backup")
			want := ackedNow()
			if err := backup(to); err != nil {
				t.Fatalf("Backup: %v", err)
			}
			if err := backup(to); statements.ErrorCode(err) != statements.EConflict {
				t.Errorf("Backup to an existing file: %v, want %s", err, statements.EConflict)
			}
			restored := t.TempDir()
			if err := sqlitestore.Restore(ctx, to, restored, false); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			r := MustOpenStore(t, restored)
			for _, id := range want {
				if _, err := r.Statement(ctx, "t", id, false); err != nil {
					t.Fatalf("statement %s acknowledged before the backup: %v", id, err)
				}
			}
			if _, err := r.Tenant(ctx, "t"); err != nil {
				t.Errorf("Tenant: %v", err)
			}
			rc, _, err := r.Attachment(ctx, "t", sum)
			if err != nil {
				t.Fatalf("Attachment: %v", err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, content) {
				t.Errorf("attachment: got %q, want %q", got, content)
			}
			info, err := sqlitestore.Inspect(ctx, restored)
			if err != nil {
				t.Fatal(err)
			}
			if info.Statements < int64(len(want)) || info.Tenants != 1 || len(info.Migrations) != 0 {
				t.Errorf("Inspect: got %+v, want >= %d statements, 1 tenant, no migrations", info, len(want))
			}
		})
	}
	stop()
	wg.Wait()
	if len(before) != 2 {
		t.Fatal("not every backup ran")
	}
}

func TestRestore_Refuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := MustOpenStore(t, dir)
	if err := s.InsertStatements(ctx, "t", []*statements.Record{record(t, stmtJSON)}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrConflictExists", func(t *testing.T) {
		target := t.TempDir()
		MustOpenStore(t, target).Close()
		if err := sqlitestore.Restore(ctx, backup, target, false); statements.ErrorCode(err) != statements.EConflict {
			t.Errorf("Restore over a store: %v, want %s", err, statements.EConflict)
		}
		if err := sqlitestore.Restore(ctx, backup, target, true); err != nil {
			t.Errorf("Restore --force: %v", err)
		}
		r := MustOpenStore(t, target)
		if n, _ := r.LogHead(ctx); n != 1 {
			t.Errorf("after a forced restore: log head %d, want 1", n)
		}
	})
	t.Run("ErrConflictInUse", func(t *testing.T) {
		target := t.TempDir()
		MustOpenStore(t, target)
		if err := sqlitestore.Restore(ctx, backup, target, true); statements.ErrorCode(err) != statements.EConflict {
			t.Errorf("Restore over a store in use: %v, want %s", err, statements.EConflict)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		notSQLite := filepath.Join(t.TempDir(), "x")
		os.WriteFile(notSQLite, []byte("not a database at all, longer than a header"), 0o600)
		plain := filepath.Join(t.TempDir(), "plain.db")
		newer := filepath.Join(t.TempDir(), "newer.db")
		for _, f := range []struct {
			path, q string
		}{{plain, `CREATE TABLE x (a)`}, {newer, `PRAGMA user_version = 99`}} {
			db, err := sql.Open("sqlite", f.path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(f.q); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
		for _, from := range []string{notSQLite, plain, newer} {
			target := t.TempDir()
			if err := sqlitestore.Restore(ctx, from, target, false); statements.ErrorCode(err) != statements.EInvalid {
				t.Errorf("Restore %s: %v, want %s", filepath.Base(from), err, statements.EInvalid)
			}
			if _, err := os.Stat(filepath.Join(target, sqlitestore.FileName)); err == nil {
				t.Errorf("Restore %s left a store", filepath.Base(from))
			}
		}
	})
}

func TestInspect(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	info, err := sqlitestore.Inspect(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Exists || len(info.Migrations) != 1 {
		t.Errorf("no store: got %+v", info)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlitestore.FileName)); err == nil {
		t.Error("Inspect created a store")
	}
	s := MustOpenStore(t, dir)
	if err := s.InsertStatements(ctx, "t", []*statements.Record{record(t, stmtJSON)}); err != nil {
		t.Fatal(err)
	}
	if err := sqlitestore.MergeAll(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	downgrade(t, db, 3)
	db.Close()
	info, err = sqlitestore.Inspect(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Exists || info.SchemaVersion != 3 || info.Current != 12 || len(info.Migrations) != info.Current-3 || info.Statements != 1 || info.PairsPending != 1 {
		t.Errorf("version 3 store: got %+v", info)
	}
	info, _ = sqlitestore.Inspect(ctx, dir)
	if info.SchemaVersion != 3 {
		t.Errorf("Inspect migrated the store to %d", info.SchemaVersion)
	}
}
