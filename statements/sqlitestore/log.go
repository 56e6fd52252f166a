package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

var (
	_ statements.Log          = (*Store)(nil)
	_ statements.LeaseCounter = (*Store)(nil)
	_ statements.LogSkimmer   = (*Store)(nil)
)

// logSchema holds the forwarders' state: a cursor per sink and the leases.
// IF NOT EXISTS: a database created before these tables gets them on first
// use (ensureLog), without a schema version of its own.
var logSchema = []string{
	`CREATE TABLE IF NOT EXISTS cursors (
		sink     TEXT    PRIMARY KEY,
		position INTEGER NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS leases (
		name    TEXT    PRIMARY KEY,
		holder  TEXT    NOT NULL,
		expires INTEGER NOT NULL
	) WITHOUT ROWID`,
}

const (
	qReadLog = `SELECT s.tenant, ` + recordColumns + ` FROM statements s WHERE s.position > ? ORDER BY s.position LIMIT ?`
	qSkimLog = `SELECT s.tenant, s.position, s.stored FROM statements s WHERE s.position > ? ORDER BY s.position LIMIT ?`
	qLogHead = `SELECT max((SELECT coalesce(max(position), 0) FROM statements), (SELECT coalesce(max(position), 0) FROM erasure_log))`
	qCursor  = `SELECT position FROM cursors WHERE sink = ?`
)

// createLog creates the log's tables in a database made before them.
func (s *Store) createLog(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	for _, q := range logSchema {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return mapErr(err, "cannot create the forwarders' tables")
		}
	}
	return nil
}

// withLog runs fn, and once more after creating the log's tables when they
// are missing.
func (s *Store) withLog(ctx context.Context, fn func() error) error {
	err := fn()
	if err == nil || !strings.Contains(err.Error(), "no such table") {
		return err
	}
	if err := s.createLog(ctx); err != nil {
		return err
	}
	return fn()
}

// ReadLog returns statements in position order; see statements.Log.
//
// Batches commit in position order under the write lock (see the package
// comment), so every snapshot a reader sees holds a prefix of the log: the
// watermark is simply the last committed position.
func (s *Store) ReadLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	return s.readLog(ctx, qReadLog, scanLogEntries, after, limit)
}

// SkimLog lists the log's entries without their statements; see
// statements.LogSkimmer. Like ReadLog it reads one snapshot.
func (s *Store) SkimLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	return s.readLog(ctx, qSkimLog, skimLogEntries, after, limit)
}

// readLog reads a page of the log's statements with q, their entries
// made by scan, and the erasure entries of the same range, in one read
// transaction: the statements and the erasure entries of one snapshot,
// which holds a prefix of the log.
func (s *Store) readLog(ctx context.Context, q string, scan func(*sql.Rows) ([]statements.LogEntry, error), after int64, limit int) ([]statements.LogEntry, error) {
	if limit <= 0 || limit > statements.MaxLimit {
		limit = statements.MaxLimit
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, after, limit)
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	out, err := scan(rows)
	if err != nil {
		return nil, err
	}
	return withErasures(ctx, tx, out, after, limit)
}

// skimLogEntries scans the rows of qSkimLog: entries without statements.
func skimLogEntries(rows *sql.Rows) ([]statements.LogEntry, error) {
	defer rows.Close()
	var out []statements.LogEntry
	for rows.Next() {
		var tenant string
		var pos, stored int64
		if err := rows.Scan(&tenant, &pos, &stored); err != nil {
			return nil, mapErr(err, "cannot read the statement log")
		}
		out = append(out, statements.LogEntry{Tenant: tenant,
			Record: &statements.Record{Position: pos, Stored: time.UnixMilli(stored).UTC()}})
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	return out, nil
}

// ReadLogOf reads the entries of some tenants in a range of the log; see
// statements.LogSkimmer.
func (s *Store) ReadLogOf(ctx context.Context, after, through int64, tenants []string) ([]statements.LogEntry, error) {
	if len(tenants) == 0 || through <= after {
		return nil, nil
	}
	want := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		want[t] = true
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	defer tx.Rollback()
	args := []any{after, through}
	for t := range want {
		args = append(args, t)
	}
	q := `SELECT s.tenant, ` + recordColumns + ` FROM statements s
		WHERE s.position > ? AND s.position <= ? AND s.tenant IN (?` + strings.Repeat(", ?", len(want)-1) + `)
		ORDER BY s.position`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	out, err := scanLogEntries(rows)
	if err != nil {
		return nil, err
	}
	es, err := readErasures(ctx, tx, after, through, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	n := len(out)
	for _, e := range es {
		if want[e.Tenant] {
			out = append(out, e)
		}
	}
	if len(out) > n {
		slices.SortFunc(out, func(a, b statements.LogEntry) int { return cmp.Compare(a.Record.Position, b.Record.Position) })
	}
	return out, nil
}

// withErasures adds to out, a page of up to limit statements' entries
// after after read in tx, the erasure entries of the same range, and keeps
// the first limit in position order.
func withErasures(ctx context.Context, tx *sql.Tx, out []statements.LogEntry, after int64, limit int) ([]statements.LogEntry, error) {
	through := int64(math.MaxInt64)
	if len(out) == limit {
		through = out[len(out)-1].Record.Position
	}
	es, err := readErasures(ctx, tx, after, through, limit)
	if err != nil || len(es) == 0 {
		return out, err
	}
	out = append(out, es...)
	slices.SortFunc(out, func(a, b statements.LogEntry) int { return cmp.Compare(a.Record.Position, b.Record.Position) })
	return out[:min(len(out), limit)], nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// LogHead returns the last committed position; see statements.Log.
func (s *Store) LogHead(ctx context.Context) (int64, error) {
	st, err := s.read(ctx, qLogHead)
	if err != nil {
		return 0, err
	}
	var pos int64
	if err := st.QueryRowContext(ctx).Scan(&pos); err != nil {
		return 0, mapErr(err, "cannot read the statement log")
	}
	return pos, nil
}

// Cursor returns the cursor of sink; see statements.Log.
func (s *Store) Cursor(ctx context.Context, sink string) (int64, error) {
	var pos int64
	err := s.withLog(ctx, func() error {
		err := s.r.QueryRowContext(ctx, qCursor, sink).Scan(&pos)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, mapErr(err, "cannot read the cursor of "+sink)
	}
	return pos, nil
}

// SetCursor moves the cursor of sink forward; see statements.Log.
func (s *Store) SetCursor(ctx context.Context, sink string, pos int64) error {
	return mapErr(s.withLog(ctx, func() error {
		return s.exec(ctx, `INSERT INTO cursors (sink, position) VALUES (?, ?)
			ON CONFLICT (sink) DO UPDATE SET position = max(position, excluded.position)`, sink, pos)
	}), "cannot set the cursor of "+sink)
}

// AcquireLease takes or renews a lease; see statements.Log. One statement
// does the compare and the swap, so it is atomic across processes too.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var n int64
	err := s.withLog(ctx, func() error {
		if err := s.lock(ctx); err != nil {
			return err
		}
		defer s.unlock()
		now := s.nowMs()
		res, err := s.w.ExecContext(ctx, `INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
			WHERE leases.holder = excluded.holder OR leases.expires <= ?`,
			name, holder, now+ttl.Milliseconds(), now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, mapErr(err, "cannot take the lease "+name)
	}
	return n == 1, nil
}

// ReleaseLease ends a lease its holder has; see statements.Log.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return mapErr(s.withLog(ctx, func() error {
		return s.exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	}), "cannot release the lease "+name)
}

// deadLeaseAge is how long after its expiry CountLeases forgets a lease.
const deadLeaseAge = time.Hour

// CountLeases counts the live leases of a prefix; see
// statements.LeaseCounter. Leases of the prefix expired for more than
// deadLeaseAge are deleted on the way.
func (s *Store) CountLeases(ctx context.Context, prefix string) (int, error) {
	var live, dead int
	now := s.nowMs()
	err := s.withLog(ctx, func() error {
		return s.r.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE expires > ?2), count(*) FILTER (WHERE expires <= ?3)
			FROM leases WHERE substr(name, 1, length(?1)) = ?1`, prefix, now, now-deadLeaseAge.Milliseconds()).Scan(&live, &dead)
	})
	if err != nil {
		return 0, mapErr(err, "cannot count the leases "+prefix)
	}
	if dead > 0 {
		err := s.exec(ctx, `DELETE FROM leases WHERE substr(name, 1, length(?1)) = ?1 AND expires <= ?2`,
			prefix, now-deadLeaseAge.Milliseconds())
		if err != nil {
			return 0, mapErr(err, "cannot forget the expired leases "+prefix)
		}
	}
	return live, nil
}

// exec runs one write statement on the writer, under the write lock.
func (s *Store) exec(ctx context.Context, q string, args ...any) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	_, err := s.w.ExecContext(ctx, q, args...)
	return err
}

// scanLogEntries reads the rows of a query of s.tenant and the record
// columns as log entries, and closes them.
func scanLogEntries(rows *sql.Rows) ([]statements.LogEntry, error) {
	defer rows.Close()
	var out []statements.LogEntry
	for rows.Next() {
		var tenant string
		r, err := scanRecord(scanFunc(func(dest ...any) error {
			return rows.Scan(append([]any{&tenant}, dest...)...)
		}))
		if err != nil {
			return nil, mapErr(err, "cannot read the statement log")
		}
		out = append(out, statements.LogEntry{Tenant: tenant, Record: r})
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	return out, nil
}
