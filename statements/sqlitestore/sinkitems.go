package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

var _ statements.SinkStore = (*Store)(nil)

// sinkSchema holds the forwarders' items. IF NOT EXISTS: a database created
// before the table gets it on first use (withSinkItems).
var sinkSchema = []string{
	`CREATE TABLE IF NOT EXISTS sink_items (
		sink    TEXT    NOT NULL,
		tenant  TEXT    NOT NULL,
		key     TEXT    NOT NULL,
		value   BLOB,
		state   TEXT    NOT NULL,
		due     INTEGER NOT NULL, -- unix ms, 0 = none
		version INTEGER NOT NULL,
		updated INTEGER NOT NULL, -- unix ms
		PRIMARY KEY (sink, tenant, key)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS sink_items_sink_state_due ON sink_items (sink, state, due)`,
}

const (
	sinkColumns = `tenant, key, value, state, due, version, updated`
	qSinkItem   = `SELECT ` + sinkColumns + ` FROM sink_items WHERE sink = ? AND tenant = ? AND key = ?`
)

// withSinkItems runs fn, and once more after creating the table when it is
// missing.
func (s *Store) withSinkItems(ctx context.Context, fn func() error) error {
	err := fn()
	if err == nil || !strings.Contains(err.Error(), "no such table") {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	for _, q := range sinkSchema {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			s.unlock()
			return mapErr(err, "cannot create the sink items' table")
		}
	}
	s.unlock()
	return fn()
}

func scanSinkItem(sc scanner, sink string) (*statements.SinkItem, error) {
	it := statements.SinkItem{Sink: sink}
	var due, updated int64
	if err := sc.Scan(&it.Tenant, &it.Key, &it.Value, &it.State, &due, &it.Version, &updated); err != nil {
		return nil, err
	}
	if due != 0 {
		it.Due = time.UnixMilli(due).UTC()
	}
	it.Updated = time.UnixMilli(updated).UTC()
	return &it, nil
}

// SinkItem returns one item; see statements.SinkStore.
func (s *Store) SinkItem(ctx context.Context, sink, tenant, key string) (*statements.SinkItem, error) {
	var it *statements.SinkItem
	err := s.withSinkItems(ctx, func() error {
		st, err := s.read(ctx, qSinkItem)
		if err != nil {
			return err
		}
		it, err = scanSinkItem(st.QueryRowContext(ctx, sink, tenant, key), sink)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no item %q of %s", key, sink)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read the item "+key+" of "+sink)
	}
	return it, nil
}

// PutSinkItem writes an item if its version is it.Version; see
// statements.SinkStore. Under the write lock, one statement does the
// compare and the swap.
func (s *Store) PutSinkItem(ctx context.Context, it *statements.SinkItem) error {
	if it.Sink == "" || it.Key == "" {
		return statements.Errorf(statements.EInvalid, "a sink item needs a sink and a key")
	}
	var due int64
	if !it.Due.IsZero() {
		due = it.Due.UnixMilli()
	}
	var n int64
	var now int64
	err := s.withSinkItems(ctx, func() error {
		if err := s.lock(ctx); err != nil {
			return err
		}
		defer s.unlock()
		now = s.nowMs()
		var res sql.Result
		var err error
		if it.Version == 0 {
			res, err = s.w.ExecContext(ctx, `INSERT INTO sink_items (sink, tenant, key, value, state, due, version, updated)
				VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING`,
				it.Sink, it.Tenant, it.Key, it.Value, it.State, due, now)
		} else {
			res, err = s.w.ExecContext(ctx, `UPDATE sink_items SET value = ?, state = ?, due = ?, version = version + 1, updated = ?
				WHERE sink = ? AND tenant = ? AND key = ? AND version = ?`,
				it.Value, it.State, due, now, it.Sink, it.Tenant, it.Key, it.Version)
		}
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return mapErr(err, "cannot write the item "+it.Key+" of "+it.Sink)
	}
	if n != 1 {
		return statements.Errorf(statements.EConflict, "the item %q of %s is not at version %d", it.Key, it.Sink, it.Version)
	}
	it.Version++
	it.Updated = time.UnixMilli(now).UTC()
	return nil
}

// DeleteSinkItem deletes an item if its version is version (0: any); see
// statements.SinkStore.
func (s *Store) DeleteSinkItem(ctx context.Context, sink, tenant, key string, version int64) error {
	var conflict bool
	err := s.withSinkItems(ctx, func() error {
		if err := s.lock(ctx); err != nil {
			return err
		}
		defer s.unlock()
		var cur int64
		err := s.w.QueryRowContext(ctx, `SELECT version FROM sink_items WHERE sink = ? AND tenant = ? AND key = ?`,
			sink, tenant, key).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if version != 0 && version != cur {
			conflict = true
			return nil
		}
		_, err = s.w.ExecContext(ctx, `DELETE FROM sink_items WHERE sink = ? AND tenant = ? AND key = ?`, sink, tenant, key)
		return err
	})
	if err != nil {
		return mapErr(err, "cannot delete the item "+key+" of "+sink)
	}
	if conflict {
		return statements.Errorf(statements.EConflict, "the item %q of %s is not at version %d", key, sink, version)
	}
	return nil
}

// SinkItems returns the items q selects; see statements.SinkStore.
func (s *Store) SinkItems(ctx context.Context, q statements.SinkQuery) ([]statements.SinkItem, error) {
	if q.Sink == "" {
		return nil, statements.Errorf(statements.EInvalid, "a query of sink items needs a sink")
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + sinkColumns + ` FROM sink_items WHERE sink = ?`)
	args := []any{q.Sink}
	if q.Tenant != "" {
		b.WriteString(` AND tenant = ?`)
		args = append(args, q.Tenant)
	}
	if q.KeyPrefix != "" {
		b.WriteString(` AND key >= ?`)
		args = append(args, q.KeyPrefix)
		if end, ok := prefixEnd(q.KeyPrefix); ok {
			b.WriteString(` AND key < ?`)
			args = append(args, end)
		}
	}
	if q.State != "" {
		b.WriteString(` AND state = ?`)
		args = append(args, q.State)
	}
	if !q.DueBy.IsZero() {
		b.WriteString(` AND due > 0 AND due <= ?`)
		args = append(args, q.DueBy.UnixMilli())
	}
	if q.AfterTenant != "" || q.AfterKey != "" {
		b.WriteString(` AND (tenant > ? OR tenant = ? AND key > ?)`)
		args = append(args, q.AfterTenant, q.AfterTenant, q.AfterKey)
	}
	b.WriteString(` ORDER BY tenant, key LIMIT ?`)
	limit := q.Limit
	if limit <= 0 || limit > statements.MaxLimit {
		limit = statements.MaxLimit
	}
	args = append(args, limit)

	var out []statements.SinkItem
	err := s.withSinkItems(ctx, func() error {
		st, err := s.read(ctx, b.String())
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanSinkItem(rows, q.Sink)
			if err != nil {
				return err
			}
			out = append(out, *it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, mapErr(err, "cannot list the items of "+q.Sink)
	}
	return out, nil
}

// prefixEnd returns the least string after every string starting with p,
// in byte order; false when there is none (p is all 0xff bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
