package mongostore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

var _ statements.AdminStore = (*Store)(nil)

type limitsDoc struct {
	Rate       float64 `bson:"rate,omitempty"`
	Burst      int     `bson:"burst,omitempty"`
	Batch      int     `bson:"batch,omitempty"`
	QueryLimit int     `bson:"query_limit,omitempty"`
	BodyBytes  int64   `bson:"body_bytes,omitempty"`
}

func limitsOf(l statements.Limits) limitsDoc {
	return limitsDoc{Rate: l.Rate, Burst: l.Burst, Batch: l.Batch, QueryLimit: l.QueryLimit, BodyBytes: l.BodyBytes}
}

func (l limitsDoc) limits() statements.Limits {
	return statements.Limits{Rate: l.Rate, Burst: l.Burst, Batch: l.Batch, QueryLimit: l.QueryLimit, BodyBytes: l.BodyBytes}
}

type tenantDoc struct {
	ID       string    `bson:"_id"`
	Name     string    `bson:"name"`
	Created  int64     `bson:"created"` // unix ms
	Disabled bool      `bson:"disabled"`
	Limits   limitsDoc `bson:"limits"`
	CORS     []string  `bson:"cors,omitempty"`    // CORS origins
	IDs      []string  `bson:"ids,omitempty"`     // identity values, each claimed in tenantids
	Sandbox  string    `bson:"sandbox,omitempty"` // the vendor of a sandbox
	Expires  int64     `bson:"expires,omitempty"` // unix ms; 0: never
}

func (d *tenantDoc) tenant() statements.Tenant {
	if len(d.IDs) == 0 {
		d.IDs = nil
	}
	t := statements.Tenant{ID: d.ID, Name: d.Name, Created: time.UnixMilli(d.Created).UTC(), Disabled: d.Disabled,
		Limits: d.Limits.limits(), CORSOrigins: d.CORS, IdentityValues: d.IDs, Sandbox: d.Sandbox}
	if d.Expires != 0 {
		t.Expires = time.UnixMilli(d.Expires).UTC()
	}
	return t
}

type credentialDoc struct {
	Key        string    `bson:"_id"`
	Tenant     string    `bson:"tn"`
	SecretHash []byte    `bson:"secret_hash"`
	Scopes     []string  `bson:"scopes"`
	Authority  []byte    `bson:"authority"` // JSON, as bytes
	Created    int64     `bson:"created"`   // unix ms
	Revoked    bool      `bson:"revoked"`
	Name       string    `bson:"name"`
	Limits     limitsDoc `bson:"limits"`
	XAPI       string    `bson:"xapi,omitempty"`    // declared xAPI version
	Profile    string    `bson:"profile,omitempty"` // profile mode
}

func credentialDocOf(c statements.Credential) credentialDoc {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return credentialDoc{Key: c.Key, Tenant: c.Tenant, SecretHash: c.SecretHash, Scopes: scopes, Authority: c.Authority,
		Created: c.Created.UnixMilli(), Revoked: c.Revoked, Name: c.Name, Limits: limitsOf(c.Limits), XAPI: c.XAPIVersion, Profile: c.ProfileMode}
}

func (d *credentialDoc) credential() statements.Credential {
	return statements.Credential{Key: d.Key, Tenant: d.Tenant, SecretHash: d.SecretHash, Scopes: d.Scopes,
		Authority: d.Authority, Created: time.UnixMilli(d.Created).UTC(), Revoked: d.Revoked, Name: d.Name,
		Limits: d.Limits.limits(), XAPIVersion: d.XAPI, ProfileMode: d.Profile}
}

// CreateTenant stores a new tenant; see statements.Store.
func (s *Store) CreateTenant(ctx context.Context, t statements.Tenant) error {
	if t.ID == "" {
		return statements.Errorf(statements.EInvalid, "tenant: id is required")
	}
	if err := statements.CheckIdentityValues(t.IdentityValues); err != nil {
		return err
	}
	if err := s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: t.ID}}).Err(); err == nil {
		return statements.Errorf(statements.EConflict, "tenant %s already exists", t.ID)
	}
	claimed, err := s.claimIdentities(ctx, t.ID, t.IdentityValues)
	if err != nil {
		return err
	}
	_, err = s.tenants.InsertOne(ctx, tenantDoc{ID: t.ID, Name: t.Name, Created: t.Created.UnixMilli(),
		Disabled: t.Disabled, Limits: limitsOf(t.Limits), CORS: t.CORSOrigins, IDs: t.IdentityValues, Sandbox: t.Sandbox, Expires: expiresMilli(t.Expires)})
	if err != nil {
		s.releaseIdentities(ctx, t.ID, claimed)
	}
	if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
		return statements.Errorf(statements.EConflict, "tenant %s already exists", t.ID)
	}
	return mapErr(err, "cannot create tenant")
}

// tenantIDDoc says which tenant owns an identity value. Inserting it is
// the claim: the unique _id lets one tenant have a value.
type tenantIDDoc struct {
	Value  string `bson:"_id"`
	Tenant string `bson:"tn"`
}

// claimIdentities claims values for tenant and returns those it claimed
// now (the others were its own already). When another tenant owns one it
// releases what it claimed and returns EConflict.
func (s *Store) claimIdentities(ctx context.Context, tenant string, values []string) ([]string, error) {
	var claimed []string
	for _, v := range values {
		_, err := s.tenantIDs.InsertOne(ctx, tenantIDDoc{Value: v, Tenant: tenant})
		if err == nil {
			claimed = append(claimed, v)
			continue
		}
		if !mongo.IsDuplicateKeyError(err) {
			s.releaseIdentities(ctx, tenant, claimed)
			return nil, mapErr(err, "cannot set the tenant's identity values")
		}
		var d tenantIDDoc
		if err := s.tenantIDs.FindOne(ctx, bson.D{{Key: "_id", Value: v}}).Decode(&d); err != nil && !isNoDocuments(err) {
			s.releaseIdentities(ctx, tenant, claimed)
			return nil, mapErr(err, "cannot set the tenant's identity values")
		}
		if d.Tenant != tenant {
			s.releaseIdentities(ctx, tenant, claimed)
			return nil, statements.Errorf(statements.EConflict, "identity value %q belongs to tenant %s", v, d.Tenant)
		}
	}
	return claimed, nil
}

// releaseIdentities gives up the tenant's claims on values.
func (s *Store) releaseIdentities(ctx context.Context, tenant string, values []string) {
	if len(values) == 0 {
		return
	}
	s.tenantIDs.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "tn", Value: tenant},
		{Key: "_id", Value: bson.D{{Key: "$in", Value: values}}}})
}

// TenantByIdentity returns the tenant that owns an identity value: the
// claim's tenant, when the tenant lists the value (a claim of an update
// that did not finish names no tenant); see statements.AdminStore.
func (s *Store) TenantByIdentity(ctx context.Context, value string) (*statements.Tenant, error) {
	var d tenantIDDoc
	err := s.tenantIDs.FindOne(ctx, bson.D{{Key: "_id", Value: value}}).Decode(&d)
	if err != nil && !isNoDocuments(err) {
		return nil, mapErr(err, "cannot read tenant")
	}
	if err == nil {
		t, err := s.Tenant(ctx, d.Tenant)
		if err == nil && slices.Contains(t.IdentityValues, value) {
			return t, nil
		}
		if err != nil && statements.ErrorCode(err) != statements.ENotFound {
			return nil, err
		}
	}
	return nil, statements.Errorf(statements.ENotFound, "no tenant has this identity value")
}

// Tenants returns every tenant by ID; see statements.Store.
func (s *Store) Tenants(ctx context.Context) ([]statements.Tenant, error) {
	cur, err := s.tenants.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read tenants")
	}
	var docs []tenantDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read tenants")
	}
	out := make([]statements.Tenant, len(docs))
	for i := range docs {
		out[i] = docs[i].tenant()
	}
	return out, nil
}

// Tenant returns one tenant; see statements.AdminStore.
func (s *Store) Tenant(ctx context.Context, id string) (*statements.Tenant, error) {
	var d tenantDoc
	err := s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if isNoDocuments(err) {
		return nil, statements.Errorf(statements.ENotFound, "no tenant %s", id)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read tenant")
	}
	t := d.tenant()
	return &t, nil
}

// UpdateTenant replaces a tenant's name, state and limits; see
// statements.AdminStore.
func (s *Store) UpdateTenant(ctx context.Context, t statements.Tenant) error {
	if err := statements.CheckIdentityValues(t.IdentityValues); err != nil {
		return err
	}
	if _, err := s.Tenant(ctx, t.ID); err != nil {
		return err
	}
	claimed, err := s.claimIdentities(ctx, t.ID, t.IdentityValues)
	if err != nil {
		return err
	}
	ids := t.IdentityValues
	if ids == nil {
		ids = []string{}
	}
	res, err := s.tenants.UpdateOne(ctx, bson.D{{Key: "_id", Value: t.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "name", Value: t.Name}, {Key: "disabled", Value: t.Disabled}, {Key: "limits", Value: limitsOf(t.Limits)},
		{Key: "cors", Value: t.CORSOrigins}, {Key: "ids", Value: ids}}}})
	if err != nil {
		s.releaseIdentities(ctx, t.ID, claimed)
		return mapErr(err, "cannot update tenant")
	}
	if res.MatchedCount == 0 {
		s.releaseIdentities(ctx, t.ID, claimed)
		return statements.Errorf(statements.ENotFound, "no tenant %s", t.ID)
	}
	// The values the tenant gave up are free again.
	_, err = s.tenantIDs.DeleteMany(ctx, bson.D{{Key: "tn", Value: t.ID}, {Key: "_id", Value: bson.D{{Key: "$nin", Value: ids}}}})
	return mapErr(err, "cannot update tenant")
}

// CreateCredential stores a new credential; see statements.Store.
func (s *Store) CreateCredential(ctx context.Context, c statements.Credential) error {
	if c.Key == "" {
		return statements.Errorf(statements.EInvalid, "credential: key is required")
	}
	err := s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: c.Tenant}}).Err()
	if isNoDocuments(err) {
		return statements.Errorf(statements.ENotFound, "no tenant %s", c.Tenant)
	}
	if err != nil {
		return mapErr(err, "cannot create credential")
	}
	_, err = s.credentials.InsertOne(ctx, credentialDocOf(c))
	if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
		return statements.Errorf(statements.EConflict, "credential %s already exists", c.Key)
	}
	return mapErr(err, "cannot create credential")
}

// Credential returns the credential with key; see statements.Store.
func (s *Store) Credential(ctx context.Context, key string) (*statements.Credential, error) {
	var d credentialDoc
	err := s.credentials.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if isNoDocuments(err) {
		return nil, statements.Errorf(statements.ENotFound, "no credential %s", key)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read credential")
	}
	c := d.credential()
	return &c, nil
}

// Credentials returns the credentials of a tenant by key; see
// statements.AdminStore.
func (s *Store) Credentials(ctx context.Context, tenant string) ([]statements.Credential, error) {
	cur, err := s.credentials.Find(ctx, bson.D{{Key: "tn", Value: tenant}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read credentials")
	}
	var docs []credentialDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read credentials")
	}
	out := make([]statements.Credential, len(docs))
	for i := range docs {
		out[i] = docs[i].credential()
	}
	return out, nil
}

// UpdateCredential replaces what may change of a credential; a revoked one
// stays revoked (the filter says so: an update cannot unrevoke it even when
// racing a revocation on MongoDB); see statements.AdminStore.
func (s *Store) UpdateCredential(ctx context.Context, c statements.Credential) error {
	f := bson.D{{Key: "_id", Value: c.Key}}
	if !c.Revoked {
		f = append(f, bson.E{Key: "revoked", Value: false})
	}
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	res, err := s.credentials.UpdateOne(ctx, f, bson.D{{Key: "$set", Value: bson.D{
		{Key: "secret_hash", Value: c.SecretHash}, {Key: "scopes", Value: scopes}, {Key: "authority", Value: c.Authority},
		{Key: "name", Value: c.Name}, {Key: "limits", Value: limitsOf(c.Limits)}, {Key: "revoked", Value: c.Revoked},
		{Key: "xapi", Value: c.XAPIVersion}, {Key: "profile", Value: c.ProfileMode}}}})
	if err != nil {
		return mapErr(err, "cannot update credential")
	}
	if res.MatchedCount == 0 {
		if _, err := s.Credential(ctx, c.Key); err != nil {
			return err
		}
		return statements.Errorf(statements.EInvalid, "credential %s is revoked: it cannot be unrevoked", c.Key)
	}
	return nil
}

type auditDoc struct {
	ID     string `bson:"_id"` // time and order of appending
	Time   int64  `bson:"t"`   // unix ms
	Actor  string `bson:"actor"`
	Action string `bson:"action"`
	Tenant string `bson:"tn,omitempty"`
	Target string `bson:"target,omitempty"`
	Detail string `bson:"detail,omitempty"`
}

// AppendAudit records an administrative action; see statements.AdminStore.
func (s *Store) AppendAudit(ctx context.Context, e statements.AuditEntry) error {
	id := fmt.Sprintf("%020d-%020d-%s", e.Time.UnixMilli(), time.Now().UnixNano(), newNonce())
	_, err := s.audit.InsertOne(ctx, auditDoc{ID: id, Time: e.Time.UnixMilli(), Actor: e.Actor, Action: e.Action,
		Tenant: e.Tenant, Target: e.Target, Detail: e.Detail})
	return mapErr(err, "cannot record the audit entry")
}

// Audit returns the newest audit entries; see statements.AdminStore.
func (s *Store) Audit(ctx context.Context, limit int) ([]statements.AuditEntry, error) {
	cur, err := s.audit.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, mapErr(err, "cannot read the audit log")
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the audit log")
	}
	out := make([]statements.AuditEntry, len(docs))
	for i, d := range docs {
		out[i] = statements.AuditEntry{Time: time.UnixMilli(d.Time).UTC(), Actor: d.Actor, Action: d.Action,
			Tenant: d.Tenant, Target: d.Target, Detail: d.Detail}
	}
	return out, nil
}

// expiresMilli is how a tenant document keeps Expires: Unix
// milliseconds, 0 (left out) for never.
func expiresMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
