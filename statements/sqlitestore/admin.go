package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/digione/lrs/statements"
)

var _ statements.AdminStore = (*Store)(nil)

// adminSchema is the audit log of administrative actions; tenants and
// credentials are in statementsSchema.
var adminSchema = []string{
	`CREATE TABLE audit (
		seq    INTEGER PRIMARY KEY,
		at     INTEGER NOT NULL,
		actor  TEXT    NOT NULL,
		action TEXT    NOT NULL,
		tenant TEXT    NOT NULL,
		target TEXT    NOT NULL,
		detail TEXT    NOT NULL
	)`,
}

// Tenant returns the tenant with id; see statements.AdminStore.
func (s *Store) Tenant(ctx context.Context, id string) (*statements.Tenant, error) {
	t, err := scanTenant(s.r.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no tenant %s", id)
	}
	return t, mapErr(err, "cannot read tenant")
}

// UpdateTenant replaces a tenant's name, state, limits, CORS origins and
// identity values; see
// statements.AdminStore.
func (s *Store) UpdateTenant(ctx context.Context, t statements.Tenant) error {
	limits, err := encodeLimits(t.Limits)
	if err != nil {
		return err
	}
	if err := statements.CheckIdentityValues(t.IdentityValues); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot update tenant")
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tenants SET name = ?, disabled = ?, limits = ?, cors_origins = ?, identity_values = ? WHERE id = ?`,
		t.Name, t.Disabled, limits, encodeOrigins(t.CORSOrigins), encodeOrigins(t.IdentityValues), t.ID)
	if err != nil {
		return mapErr(err, "cannot update tenant")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return statements.Errorf(statements.ENotFound, "no tenant %s", t.ID)
	}
	if err := claimIdentities(ctx, tx, t.ID, t.IdentityValues); err != nil {
		return err
	}
	return mapErr(tx.Commit(), "cannot update tenant")
}

// Credentials returns the credentials of a tenant by key; see
// statements.AdminStore.
func (s *Store) Credentials(ctx context.Context, tenant string) ([]statements.Credential, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE tenant = ? ORDER BY key`, tenant)
	if err != nil {
		return nil, mapErr(err, "cannot read credentials")
	}
	defer rows.Close()
	out := []statements.Credential{}
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, mapErr(err, "cannot read credentials")
		}
		out = append(out, *c)
	}
	return out, mapErr(rows.Err(), "cannot read credentials")
}

// UpdateCredential replaces what may change of a credential; see
// statements.AdminStore.
func (s *Store) UpdateCredential(ctx context.Context, c statements.Credential) error {
	scopes, err := encodeScopes(c.Scopes)
	if err != nil {
		return err
	}
	limits, err := encodeLimits(c.Limits)
	if err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot update credential")
	}
	defer tx.Rollback()
	var revoked bool
	err = tx.QueryRowContext(ctx, `SELECT revoked FROM credentials WHERE key = ?`, c.Key).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return statements.Errorf(statements.ENotFound, "no credential %s", c.Key)
	}
	if err != nil {
		return mapErr(err, "cannot update credential")
	}
	if revoked && !c.Revoked {
		return statements.Errorf(statements.EInvalid, "credential %s is revoked for good", c.Key)
	}
	_, err = tx.ExecContext(ctx, `UPDATE credentials SET secret_hash = ?, scopes = ?, authority = ?, name = ?, limits = ?, revoked = ?,
		xapi_version = ?, profile_mode = ? WHERE key = ?`, c.SecretHash, scopes, c.Authority, c.Name, limits, c.Revoked, c.XAPIVersion, c.ProfileMode, c.Key)
	if err != nil {
		return mapErr(err, "cannot update credential")
	}
	return mapErr(tx.Commit(), "cannot update credential")
}

// AppendAudit records an administrative action; see statements.AdminStore.
func (s *Store) AppendAudit(ctx context.Context, e statements.AuditEntry) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit (at, actor, action, tenant, target, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Time.UnixMilli(), e.Actor, e.Action, e.Tenant, e.Target, e.Detail)
	return mapErr(err, "cannot write the audit log")
}

// Audit returns the latest audit entries; see statements.AdminStore.
func (s *Store) Audit(ctx context.Context, limit int) ([]statements.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at, actor, action, tenant, target, detail FROM audit
		ORDER BY at DESC, seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr(err, "cannot read the audit log")
	}
	defer rows.Close()
	out := []statements.AuditEntry{}
	for rows.Next() {
		var e statements.AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Tenant, &e.Target, &e.Detail); err != nil {
			return nil, mapErr(err, "cannot read the audit log")
		}
		e.Time = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), "cannot read the audit log")
}
