package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/digione/lrs/statements"
)

// CreateTenant stores a new tenant; see statements.Store.
func (s *Store) CreateTenant(ctx context.Context, t statements.Tenant) error {
	if t.ID == "" {
		return statements.Errorf(statements.EInvalid, "tenant: id is required")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	_, err := s.w.ExecContext(ctx, `INSERT INTO tenants (id, name, created, disabled) VALUES (?, ?, ?, ?)`,
		t.ID, t.Name, t.Created.UnixMilli(), t.Disabled)
	if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
		return statements.Errorf(statements.EConflict, "tenant %s already exists", t.ID)
	}
	return mapErr(err, "cannot create tenant")
}

// Tenants returns every tenant by ID; see statements.Store.
func (s *Store) Tenants(ctx context.Context) ([]statements.Tenant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created, disabled FROM tenants ORDER BY id`)
	if err != nil {
		return nil, mapErr(err, "cannot read tenants")
	}
	defer rows.Close()
	var out []statements.Tenant
	for rows.Next() {
		var t statements.Tenant
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &created, &t.Disabled); err != nil {
			return nil, mapErr(err, "cannot read tenants")
		}
		t.Created = time.UnixMilli(created).UTC()
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "cannot read tenants")
}

// CreateCredential stores a new credential; see statements.Store.
func (s *Store) CreateCredential(ctx context.Context, c statements.Credential) error {
	if c.Key == "" {
		return statements.Errorf(statements.EInvalid, "credential: key is required")
	}
	scopes, err := json.Marshal(c.Scopes)
	if err != nil {
		return statements.Internal(err, "cannot create credential")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot create credential")
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM tenants WHERE id = ?`, c.Tenant).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return statements.Errorf(statements.ENotFound, "no tenant %s", c.Tenant)
	}
	if err != nil {
		return mapErr(err, "cannot create credential")
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO credentials (key, tenant, secret_hash, scopes, authority, created, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.Key, c.Tenant, c.SecretHash, string(scopes), c.Authority, c.Created.UnixMilli(), c.Revoked)
	if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
		return statements.Errorf(statements.EConflict, "credential %s already exists", c.Key)
	}
	if err != nil {
		return mapErr(err, "cannot create credential")
	}
	return mapErr(tx.Commit(), "cannot create credential")
}

// Credential returns the credential with key; see statements.Store.
func (s *Store) Credential(ctx context.Context, key string) (*statements.Credential, error) {
	var c statements.Credential
	var scopes string
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT key, tenant, secret_hash, scopes, authority, created, revoked
		FROM credentials WHERE key = ?`, key).
		Scan(&c.Key, &c.Tenant, &c.SecretHash, &scopes, &c.Authority, &created, &c.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no credential %s", key)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read credential")
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, statements.Internal(err, "cannot read credential")
	}
	c.Created = time.UnixMilli(created).UTC()
	return &c, nil
}
