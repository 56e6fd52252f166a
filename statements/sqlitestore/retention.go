package sqlitestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

// SetRetention keeps a tenant's retention; see statements.Eraser.
func (s *Store) SetRetention(ctx context.Context, tenant string, days int) error {
	if days < 0 {
		return statements.Errorf(statements.EInvalid, "retention: days must be 0 (for ever) or more, not %d", days)
	}
	if days == 0 {
		return mapErr(s.exec(ctx, `DELETE FROM retention WHERE tenant = ?`, tenant), "cannot set the retention")
	}
	return mapErr(s.exec(ctx, `INSERT INTO retention (tenant, days) VALUES (?, ?)
		ON CONFLICT (tenant) DO UPDATE SET days = excluded.days`, tenant, days), "cannot set the retention")
}

// Retentions returns the tenants' retentions; see statements.Eraser.
func (s *Store) Retentions(ctx context.Context) ([]statements.Retention, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT tenant, days FROM retention ORDER BY tenant`)
	if err != nil {
		return nil, mapErr(err, "cannot read the retentions")
	}
	defer rows.Close()
	var out []statements.Retention
	for rows.Next() {
		var r statements.Retention
		if err := rows.Scan(&r.Tenant, &r.Days); err != nil {
			return nil, mapErr(err, "cannot read the retentions")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "cannot read the retentions")
}

// EraseBefore deletes a tenant's oldest statements; see
// statements.Eraser. The statements_tenant_stored index finds them.
func (s *Store) EraseBefore(ctx context.Context, tenant string, before time.Time, limit int) (int, []string, error) {
	n, atts, err := s.eraseBefore(ctx, tenant, before, limit)
	if err != nil {
		return 0, nil, err
	}
	return n, slices.Sorted(maps.Keys(atts)), nil
}

func (s *Store) eraseBefore(ctx context.Context, tenant string, before time.Time, limit int) (int, map[string]bool, error) {
	if err := s.lock(ctx); err != nil {
		return 0, nil, err
	}
	defer s.unlock()
	// The postings of the statements it deletes go from the postings
	// table: it holds them all.
	if err := s.mergeAll(ctx); err != nil {
		return 0, nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	defer tx.Rollback()
	x := &eraseTx{ctx: ctx, tx: tx, tenant: tenant, counts: map[int64]int{}, learned: map[termKey]int64{}}
	type old struct {
		pos        int64
		credential string
		terms      []byte
		pairs      []byte
		statement  []byte
	}
	var olds []old
	err = x.rows(`SELECT position, credential, terms, pairs, statement FROM statements WHERE tenant = ? AND stored < ? ORDER BY stored, position LIMIT ?`,
		[]any{tenant, before.UnixMilli(), statements.ErasureLimit(limit)}, func(r *sql.Rows) error {
			var o old
			err := r.Scan(&o.pos, &o.credential, &o.terms, &o.pairs, &o.statement)
			olds = append(olds, o)
			return err
		})
	if err != nil || len(olds) == 0 {
		return 0, nil, err
	}
	atts := map[string]bool{}
	// The last position may go: keep it, so that load never gives it again.
	err = x.exec(`INSERT INTO log_end (id, position) SELECT 1, coalesce(max(position), 0) FROM statements WHERE true
		ON CONFLICT (id) DO UPDATE SET position = max(position, excluded.position)`)
	if err != nil {
		return 0, nil, err
	}
	creds := map[string]int64{}
	for _, o := range olds {
		terms, err := decodeTermIDs(o.terms)
		if err != nil {
			return 0, nil, statements.Internal(err, "cannot erase")
		}
		cred, ok := creds[o.credential]
		if !ok {
			err := tx.QueryRowContext(ctx, `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`,
				tenant, statements.CredentialTerm(o.credential)).Scan(&cred)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, nil, mapErr(err, "cannot erase")
			}
			creds[o.credential] = cred
		}
		if cred != 0 {
			terms = append(terms, cred)
		}
		for _, id := range terms {
			if err := x.unpost(id, o.pos); err != nil {
				return 0, nil, err
			}
		}
		pairs, err := decodePairs(o.pairs)
		if err != nil {
			return 0, nil, statements.Internal(err, "cannot erase")
		}
		if err := x.unpostPairs(pairs, o.pos); err != nil {
			return 0, nil, err
		}
		if raw, err := decodeStatement(o.statement); err == nil {
			for _, h := range statements.AttachmentHashes(raw) {
				atts[h] = true
			}
		}
		if err := x.exec(`DELETE FROM statements WHERE position = ?`, o.pos); err != nil {
			return 0, nil, err
		}
	}
	for id, n := range x.counts {
		if n != 0 {
			if err := x.exec(`UPDATE term_counts SET n = n + ? WHERE term_id = ?`, n, id); err != nil {
				return 0, nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	return len(olds), atts, nil
}

// tenantTables are the tables DeleteTenant empties of a tenant's rows,
// after its statements; the terms go with their counts.
var tenantTables = []string{"documents", "activity_definitions", "sink_items", "tenant_identities", "roster_status",
	"roster_orgs", "roster_users", "roster_identities", "roster_roles", "roster_classes", "roster_enrollments",
	"erasure_log", "erasures", "erasure_keys", "retention", "credential_reports", "credentials"}

// DeleteTenant deletes a tenant's data a step at a time; see
// statements.Eraser.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) (bool, error) {
	n, _, err := s.eraseBefore(ctx, tenant, time.UnixMilli(1<<50), statements.ErasureBatch)
	if err != nil || n > 0 {
		return false, err
	}
	dir, err := s.dataDir(ctx)
	if err != nil {
		return false, err
	}
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, mapErr(err, "cannot delete the tenant")
	}
	defer tx.Rollback()
	qs := []string{`DELETE FROM term_counts WHERE term_id IN (SELECT term_id FROM terms WHERE tenant = ?)`,
		`DELETE FROM terms WHERE tenant = ?`, `DELETE FROM tenants WHERE id = ?`}
	for _, t := range tenantTables {
		qs = append(qs, `DELETE FROM `+t+` WHERE tenant = ?`)
	}
	for _, q := range qs {
		if _, err := tx.ExecContext(ctx, q, tenant); err != nil && !strings.Contains(err.Error(), "no such table") {
			return false, mapErr(err, "cannot delete the tenant")
		}
	}
	if err := tx.Commit(); err != nil {
		return false, mapErr(err, "cannot delete the tenant")
	}
	for k := range s.terms {
		if k.tenant == tenant {
			delete(s.terms, k)
		}
	}
	s.qterms.clear()
	h := sha256.Sum256([]byte(tenant))
	if err := os.RemoveAll(filepath.Join(dir, attachmentsDir, hex.EncodeToString(h[:]))); err != nil {
		return false, statements.Internal(err, "cannot delete the tenant's attachments")
	}
	return true, nil
}

// EraseAuditBefore deletes a tenant's older audit entries; see
// statements.Eraser.
func (s *Store) EraseAuditBefore(ctx context.Context, tenant string, before time.Time) (int, error) {
	if tenant == "" {
		return 0, statements.Errorf(statements.EInvalid, "retention: a tenant is required")
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit WHERE tenant = ? AND at < ?`, tenant, before.UnixMilli())
	if err != nil {
		return 0, mapErr(err, "cannot erase audit entries")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteUnusedAttachments deletes the attachments no statement has; see
// statements.Eraser.
func (s *Store) DeleteUnusedAttachments(ctx context.Context, tenant string, hashes []string) (int, error) {
	set := map[string]bool{}
	for _, h := range hashes {
		set[h] = true
	}
	return s.deleteUnusedAttachments(ctx, tenant, set)
}
