package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/digione/lrs/statements"
)

// A backup is one SQLite file: a copy of the database taken in one read
// transaction (VACUUM INTO), so it holds every write committed before the
// backup began and none half, plus the table backupAttachments with the
// content of the attachment files. Attachment files are written before
// the statements that name them commit and are deleted only by an erasure
// (erase.go), after the last statement naming them, so the files copied
// after the snapshot include every one it refers to, except those of
// statements an erasure deleted meanwhile.

// backupAttachments is the table of a backup that holds the attachment
// files: path relative to the attachments directory, content.
const backupAttachments = "lrs_backup_attachments"

// migrations says what bringing a database of version i up to version
// i+1 does; migrations[0] creates the schema of schemaVersion at once.
var migrations = [schemaVersion]string{
	"create the schema (version 7)",
	"allow compressed statements and binary fingerprints (version 2)",
	"move the terms' counts of postings to the table term_counts (version 3)",
	"add credentials.xapi_version and tenants.cors_origins (version 4)",
	"add tenants.identity_values, the table tenant_identities and the roster tables (version 5)",
	"add the index documents_agent: an agent's documents across activities (version 6)",
	"add credentials.profile_mode and the table credential_reports (version 7)",
	"add the erasures' tables erasure_log, erasures, erasure_keys, retention and log_end (version 8)",
	"add tenants.sandbox and tenants.expires (version 9)",
	"allow statements compressed with S2 (version 10)",
	"add the table merged_through: postings after it are kept in memory (version 11)",
	"add the pair postings: the table pair_postings, statements.pairs and the table pairs_from (version 12)",
}

// readOnly opens the database file path for reading, without creating it.
// Without query_only, which refuses VACUUM INTO: the callers only read.
func readOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, statements.Errorf(statements.ENotFound, "no store in %s", filepath.Dir(path))
	}
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, statements.Internal(err, "cannot open the store")
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Backup writes a consistent copy of the store in dir, database and
// attachments, to the file to, which must not exist. Another process may
// serve the store meanwhile: the copy holds every write committed before
// Backup began. A failed Backup leaves no file at to.
func Backup(ctx context.Context, dir, to string) error {
	db, err := readOnly(filepath.Join(dir, FileName))
	if err != nil {
		return err
	}
	defer db.Close()
	return backup(ctx, db, dir, to)
}

// Backup writes a consistent copy of s to the file to, as the function
// Backup does.
func (s *Store) Backup(ctx context.Context, to string) error {
	dir, err := s.dataDir(ctx)
	if err != nil {
		return err
	}
	return Backup(ctx, dir, to)
}

func backup(ctx context.Context, db *sql.DB, dir, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return statements.Errorf(statements.EConflict, "%s exists: a backup never overwrites a file", to)
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".tmp-*")
	if err != nil {
		return statements.Internal(err, "cannot create the backup file")
	}
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp.Name())
		}
	}()
	// The empty file is a valid target of VACUUM INTO.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp.Name()); err != nil {
		return mapErr(err, "cannot copy the database")
	}
	if err := copyAttachmentsIn(ctx, tmp.Name(), filepath.Join(dir, attachmentsDir)); err != nil {
		return err
	}
	if err := syncFile(tmp.Name()); err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	if err := os.Rename(tmp.Name(), to); err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	done = true
	if err := syncDir(filepath.Dir(to)); err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	return nil
}

// copyAttachmentsIn copies the files under attachments into the table
// backupAttachments of the database file path.
func copyAttachmentsIn(ctx context.Context, path, attachments string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=synchronous(OFF)&_pragma=journal_mode(OFF)")
	if err != nil {
		return statements.Internal(err, "cannot open the backup file")
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+backupAttachments+` (path TEXT PRIMARY KEY, content BLOB NOT NULL)`); err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	err = filepath.WalkDir(attachments, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == attachments {
			return filepath.SkipDir
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted by an erasure meanwhile
		}
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		rel, err := filepath.Rel(attachments, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted by an erasure meanwhile
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO `+backupAttachments+` (path, content) VALUES (?, ?)`, filepath.ToSlash(rel), b)
		return err
	})
	if err != nil {
		return statements.Internal(err, "cannot copy the attachments")
	}
	if err := tx.Commit(); err != nil {
		return statements.Internal(err, "cannot write the backup file")
	}
	return nil
}

// attachmentRel is the form of an attachment's path under the attachments
// directory: the hash of the tenant, the SHA-2 of the content.
var attachmentRel = regexp.MustCompile(`^[0-9a-f]{64}/[0-9a-f]{56,128}$`)

// Restore puts the store of the backup file from (see Backup) into dir.
// It refuses, with EConflict, when dir holds a store, unless force, and
// then replaces that store and its attachments; it refuses, with
// EInvalid, a file that is not a backup of a schema version this package
// reads. No process may serve dir during Restore: a store in use is
// refused (EConflict) where SQLite can tell. The next New brings the
// restored database's schema up to date.
func Restore(ctx context.Context, from, dir string, force bool) error {
	if err := checkSQLiteFile(from); err != nil {
		return err
	}
	target := filepath.Join(dir, FileName)
	_, err := os.Stat(target)
	exists := err == nil
	if exists && !force {
		return statements.Errorf(statements.EConflict, "a store exists in %s: restoring replaces it only when forced", dir)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return statements.Internal(err, "cannot create the store directory")
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".restore-*")
	if err != nil {
		return statements.Internal(err, "cannot restore the store")
	}
	done := false
	defer func() {
		if !done {
			os.Remove(tmp.Name())
		}
	}()
	src, err := os.Open(from)
	if err != nil {
		tmp.Close()
		return statements.Internal(err, "cannot read the backup")
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return statements.Internal(err, "cannot copy the backup")
	}
	db, err := sql.Open("sqlite", tmp.Name()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return statements.Internal(err, "cannot open the backup")
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	hasAttachments, err := checkBackup(ctx, db)
	if err != nil {
		return err
	}
	if exists {
		if err := checkNotServed(ctx, target); err != nil {
			return err
		}
	}
	// From here on the old store goes: its WAL must never meet the new
	// database file.
	for _, f := range []string{target + "-wal", target + "-shm", target + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return statements.Internal(err, "cannot remove the old store")
		}
	}
	attachments := filepath.Join(dir, attachmentsDir)
	if err := os.RemoveAll(attachments); err != nil {
		return statements.Internal(err, "cannot remove the old attachments")
	}
	if hasAttachments {
		if err := copyAttachmentsOut(ctx, db, attachments); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `DROP TABLE `+backupAttachments); err != nil {
			return statements.Internal(err, "cannot restore the store")
		}
	}
	if err := db.Close(); err != nil {
		return statements.Internal(err, "cannot restore the store")
	}
	if err := syncFile(tmp.Name()); err != nil {
		return statements.Internal(err, "cannot restore the store")
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return statements.Internal(err, "cannot restore the store")
	}
	done = true
	if err := syncDir(dir); err != nil {
		return statements.Internal(err, "cannot restore the store")
	}
	return nil
}

// checkSQLiteFile fails with EInvalid unless path starts as an SQLite
// database does.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return statements.Errorf(statements.ENotFound, "cannot read the backup: %v", err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, []byte("SQLite format 3\x00")) {
		return statements.Errorf(statements.EInvalid, "%s is not an SQLite database", path)
	}
	return nil
}

// checkBackup fails with EInvalid unless db is a whole LRS store of a
// schema version this package reads; it reports whether db holds
// attachments.
func checkBackup(ctx context.Context, db *sql.DB) (bool, error) {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return false, statements.Errorf(statements.EInvalid, "not a readable SQLite database: %v", err)
	}
	switch {
	case v == 0:
		return false, statements.Errorf(statements.EInvalid, "not an LRS store (no schema version)")
	case v > schemaVersion:
		return false, statements.Errorf(statements.EInvalid, "a store of schema version %d, written by a newer LRS (this one reads up to %d)", v, schemaVersion)
	}
	tables := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return false, statements.Errorf(statements.EInvalid, "not a readable SQLite database: %v", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return false, statements.Internal(err, "cannot read the backup")
		}
		tables[name] = true
	}
	rows.Close()
	for _, t := range []string{"statements", "terms", "postings", "tenants", "credentials"} {
		if !tables[t] {
			return false, statements.Errorf(statements.EInvalid, "not an LRS store: no table %s", t)
		}
	}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil || check != "ok" {
		return false, statements.Errorf(statements.EInvalid, "the backup is damaged: %s %v", check, err)
	}
	return tables[backupAttachments], nil
}

// checkNotServed fails with EConflict when another connection has the
// database file path open: leaving WAL mode needs the only connection.
func checkNotServed(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		return statements.Internal(err, "cannot open the old store")
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil || mode != "delete" {
		return statements.Errorf(statements.EConflict, "the store in %s is in use: stop the LRS before restoring", filepath.Dir(path))
	}
	return nil
}

// copyAttachmentsOut writes the attachments of the backup db under dir.
func copyAttachmentsOut(ctx context.Context, db *sql.DB, dir string) error {
	rows, err := db.QueryContext(ctx, `SELECT path, content FROM `+backupAttachments)
	if err != nil {
		return statements.Internal(err, "cannot read the backup's attachments")
	}
	defer rows.Close()
	for rows.Next() {
		var rel string
		var content []byte
		if err := rows.Scan(&rel, &content); err != nil {
			return statements.Internal(err, "cannot read the backup's attachments")
		}
		if !attachmentRel.MatchString(rel) {
			return statements.Errorf(statements.EInvalid, "the backup holds an attachment of an unexpected name %q", rel)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return statements.Internal(err, "cannot restore the attachments")
		}
		if err := writeSynced(p, content); err != nil {
			return statements.Internal(err, "cannot restore the attachments")
		}
	}
	if err := rows.Err(); err != nil {
		return statements.Internal(err, "cannot read the backup's attachments")
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Info describes a store without changing it.
type Info struct {
	Exists        bool     // whether dir holds a store
	SchemaVersion int      // its PRAGMA user_version
	Current       int      // the schema version this package writes
	Migrations    []string // what New would do to it, in order
	Statements    int64    // stored statements, voided ones included
	Tenants       int64
	// PairsPending is the number of statements whose pair postings the
	// background backfill has still to write (pairs.go): all of them in
	// a store of a version before 12.
	PairsPending int64
}

// Inspect describes the store in dir without changing it (no migration)
// while another process may serve it.
func Inspect(ctx context.Context, dir string) (Info, error) {
	info := Info{Current: schemaVersion}
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		info.Migrations = migrations[:1]
		return info, nil
	}
	db, err := readOnly(path)
	if err != nil {
		return info, err
	}
	defer db.Close()
	info.Exists = true
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&info.SchemaVersion); err != nil {
		return info, mapErr(err, "cannot read the schema version")
	}
	if info.SchemaVersion > schemaVersion {
		return info, statements.Errorf(statements.EInvalid, "schema version %d: written by a newer LRS (this one reads up to %d)", info.SchemaVersion, schemaVersion)
	}
	if info.SchemaVersion == 0 {
		info.Migrations = migrations[:1]
		return info, nil
	}
	info.Migrations = migrations[info.SchemaVersion:]
	counts := map[string]*int64{`SELECT count(*) FROM statements`: &info.Statements, `SELECT count(*) FROM tenants`: &info.Tenants}
	if info.SchemaVersion >= 12 {
		counts[`SELECT count(*) FROM statements WHERE position < (SELECT position FROM pairs_from)`] = &info.PairsPending
	}
	for q, n := range counts {
		if err := db.QueryRowContext(ctx, q).Scan(n); err != nil {
			return info, mapErr(err, fmt.Sprintf("cannot count (%s)", q))
		}
	}
	if info.SchemaVersion < 12 {
		info.PairsPending = info.Statements
	}
	return info, nil
}
