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
		return mapErr(err, "cannot create tenant")
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO tenants (id, name, created, disabled, limits, cors_origins, identity_values, sandbox, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Created.UnixMilli(), t.Disabled, limits, encodeOrigins(t.CORSOrigins), encodeOrigins(t.IdentityValues), t.Sandbox, expiresMilli(t.Expires))
	if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
		return statements.Errorf(statements.EConflict, "tenant %s already exists", t.ID)
	}
	if err != nil {
		return mapErr(err, "cannot create tenant")
	}
	if err := claimIdentities(ctx, tx, t.ID, t.IdentityValues); err != nil {
		return err
	}
	return mapErr(tx.Commit(), "cannot create tenant")
}

// claimIdentities makes values the tenant's identity values, and no
// others; EConflict when another tenant has one of them.
func claimIdentities(ctx context.Context, tx *sql.Tx, tenant string, values []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM tenant_identities WHERE tenant = ?`, tenant); err != nil {
		return mapErr(err, "cannot set the tenant's identity values")
	}
	for _, v := range values {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT tenant FROM tenant_identities WHERE value = ?`, v).Scan(&owner)
		if err == nil {
			return statements.Errorf(statements.EConflict, "identity value %q belongs to tenant %s", v, owner)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err, "cannot set the tenant's identity values")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_identities (value, tenant) VALUES (?, ?)`, v, tenant); err != nil {
			return mapErr(err, "cannot set the tenant's identity values")
		}
	}
	return nil
}

// TenantByIdentity returns the tenant that owns an identity value; see
// statements.AdminStore.
func (s *Store) TenantByIdentity(ctx context.Context, value string) (*statements.Tenant, error) {
	t, err := scanTenant(s.r.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants
		WHERE id = (SELECT tenant FROM tenant_identities WHERE value = ?)`, value))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no tenant has this identity value")
	}
	return t, mapErr(err, "cannot read tenant")
}

// Tenants returns every tenant by ID; see statements.Store.
func (s *Store) Tenants(ctx context.Context) ([]statements.Tenant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, mapErr(err, "cannot read tenants")
	}
	defer rows.Close()
	var out []statements.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, mapErr(err, "cannot read tenants")
		}
		out = append(out, *t)
	}
	return out, mapErr(rows.Err(), "cannot read tenants")
}

const tenantColumns = `id, name, created, disabled, limits, cors_origins, identity_values, sandbox, expires`

// expiresMilli is how a row keeps a tenant's Expires: Unix milliseconds,
// 0 for never.
func expiresMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func scanTenant(sc interface{ Scan(...any) error }) (*statements.Tenant, error) {
	var t statements.Tenant
	var created, expires int64
	var limits, origins, identities string
	if err := sc.Scan(&t.ID, &t.Name, &created, &t.Disabled, &limits, &origins, &identities, &t.Sandbox, &expires); err != nil {
		return nil, err
	}
	if expires != 0 {
		t.Expires = time.UnixMilli(expires).UTC()
	}
	if err := json.Unmarshal([]byte(identities), &t.IdentityValues); err != nil {
		return nil, statements.Internal(err, "cannot read tenant")
	}
	if len(t.IdentityValues) == 0 {
		t.IdentityValues = nil
	}
	t.Created = time.UnixMilli(created).UTC()
	if err := json.Unmarshal([]byte(origins), &t.CORSOrigins); err != nil {
		return nil, statements.Internal(err, "cannot read tenant")
	}
	if len(t.CORSOrigins) == 0 {
		t.CORSOrigins = nil
	}
	var err error
	t.Limits, err = decodeLimits(limits)
	return &t, err
}

// encodeOrigins is how a row keeps a tenant's CORS origins and identity
// values: a JSON array.
func encodeOrigins(origins []string) string {
	if origins == nil {
		origins = []string{}
	}
	b, _ := json.Marshal(origins)
	return string(b)
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
	_, err = tx.ExecContext(ctx, `INSERT INTO credentials (key, tenant, secret_hash, scopes, authority, created, revoked, name, limits, xapi_version, profile_mode)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Key, c.Tenant, c.SecretHash, string(scopes), c.Authority, c.Created.UnixMilli(), c.Revoked, c.Name, limits, c.XAPIVersion, c.ProfileMode)
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
	c, err := scanCredential(s.r.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no credential %s", key)
	}
	return c, mapErr(err, "cannot read credential")
}

const credentialColumns = `key, tenant, secret_hash, scopes, authority, created, revoked, name, limits, xapi_version, profile_mode`

func scanCredential(sc interface{ Scan(...any) error }) (*statements.Credential, error) {
	var c statements.Credential
	var scopes, limits string
	var created int64
	if err := sc.Scan(&c.Key, &c.Tenant, &c.SecretHash, &scopes, &c.Authority, &created, &c.Revoked, &c.Name, &limits, &c.XAPIVersion, &c.ProfileMode); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, statements.Internal(err, "cannot read credential")
	}
	c.Created = time.UnixMilli(created).UTC()
	var err error
	c.Limits, err = decodeLimits(limits)
	return &c, err
}

// limitsJSON is how a row keeps statements.Limits.
type limitsJSON struct {
	Rate       float64 `json:"rate,omitempty"`
	Burst      int     `json:"burst,omitempty"`
	Batch      int     `json:"batch,omitempty"`
	QueryLimit int     `json:"queryLimit,omitempty"`
	BodyBytes  int64   `json:"bodyBytes,omitempty"`
}

func encodeLimits(l statements.Limits) (string, error) {
	b, err := json.Marshal(limitsJSON(l))
	if err != nil {
		return "", statements.Internal(err, "cannot encode limits")
	}
	return string(b), nil
}

func decodeLimits(s string) (statements.Limits, error) {
	var l limitsJSON
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return statements.Limits{}, statements.Internal(err, "cannot read limits")
	}
	return statements.Limits(l), nil
}

func encodeScopes(scopes []string) (string, error) {
	b, err := json.Marshal(scopes)
	if err != nil {
		return "", statements.Internal(err, "cannot encode scopes")
	}
	return string(b), nil
}
