package statements

import (
	"context"
	"time"
)

// Limits bound what a credential may ask of the LRS. A zero field means
// "not set here": a credential's field falls back to its tenant's, a
// tenant's to the LRS default. A negative field means "no limit".
type Limits struct {
	Rate       float64 // requests per second a credential sustains
	Burst      int     // requests a credential may make at once above Rate
	Batch      int     // statements in one POST
	QueryLimit int     // statements in one page of a query (never above MaxLimit)
	BodyBytes  int64   // bytes of a request body
}

// Over returns l with each field that is zero taken from def.
func (l Limits) Over(def Limits) Limits {
	if l.Rate == 0 {
		l.Rate = def.Rate
	}
	if l.Burst == 0 {
		l.Burst = def.Burst
	}
	if l.Batch == 0 {
		l.Batch = def.Batch
	}
	if l.QueryLimit == 0 {
		l.QueryLimit = def.QueryLimit
	}
	if l.BodyBytes == 0 {
		l.BodyBytes = def.BodyBytes
	}
	return l
}

// AuditEntry is one administrative action: who did what, when.
type AuditEntry struct {
	Time   time.Time // when, millisecond precision
	Actor  string    // who: "admin-api" (the admin token), "cli" (the offline CLI), ...
	Action string    // what: "tenant.create", "credential.revoke", ...
	Tenant string    // the tenant acted on, or ""
	Target string    // the credential key acted on, or ""
	Detail string    // anything else worth keeping; never a secret
}

// AdminStore keeps what the administration of tenants and credentials
// needs beyond Store. It is separate from Store while every store catches
// up; a store implementing both is what the LRS's admin API expects.
// Implementations return *Error values with the codes documented here; any
// other failure is EInternal.
type AdminStore interface {
	// Tenant returns the tenant with id; ENotFound if none.
	Tenant(ctx context.Context, id string) (*Tenant, error)
	// UpdateTenant replaces the Name, Disabled, Limits, CORSOrigins and
	// IdentityValues of the tenant t.ID, keeping its Created; ENotFound if
	// none; EConflict, changing nothing, when another tenant has one of
	// t.IdentityValues.
	UpdateTenant(ctx context.Context, t Tenant) error
	// TenantByIdentity returns the tenant whose IdentityValues hold value;
	// ENotFound if none.
	TenantByIdentity(ctx context.Context, value string) (*Tenant, error)
	// Credentials returns the credentials of tenant, ordered by Key,
	// revoked ones included; an empty list when the tenant has none or
	// does not exist.
	Credentials(ctx context.Context, tenant string) ([]Credential, error)
	// UpdateCredential replaces the SecretHash, Scopes, Authority, Name,
	// Limits and Revoked of the credential c.Key, keeping its Tenant and
	// Created; ENotFound if none. A revoked credential stays revoked:
	// Revoked false on a revoked credential is EInvalid.
	UpdateCredential(ctx context.Context, c Credential) error
	// AppendAudit records an administrative action.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns at most limit audit entries, newest first; of entries
	// with the same Time, the last appended first.
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
}
