package lrs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// TenantHomePage is the account home page of the tenant agents in the
// authority of vendor app credentials: account.name is the tenant id.
const TenantHomePage = "https://lrs.digione.fi/tenants"

// AppAuthority returns the authority of a vendor app's credential: the
// two-member Group of xAPI's OAuth authority (Data 2.4.9), whose members
// are the application (account name: the credential key) and the tenant
// that let it in (account name: the tenant id). Queries by agent match
// either member, so a tenant finds every app's statements by its agent.
func AppAuthority(key, app, tenant, tenantName string) []byte {
	b, _ := json.Marshal(map[string]any{
		"objectType": "Group",
		"member": []any{
			map[string]any{"objectType": "Agent", "name": app,
				"account": map[string]string{"homePage": AuthorityHomePage, "name": key}},
			map[string]any{"objectType": "Agent", "name": tenantName,
				"account": map[string]string{"homePage": TenantHomePage, "name": tenant}},
		},
	})
	return b
}

// Admin manages tenants and credentials. The admin API and the offline
// CLI both act through it, so both validate, hash and audit alike.
type Admin struct {
	Store statements.Store
	Admin statements.AdminStore
	// OneRoster, when set, holds the OneRoster write-back's operations
	// (SetOneRosterConfig, ...); without it they are ENotFound.
	OneRoster *oneroster.Admin
	// Log receives one line per action; the zero value logs nothing.
	Log zerolog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Changed, when set, is called after a change of the tenant (key "")
	// or of the credential key.
	Changed func(tenant, key string)
	// RosterSync, when set, syncs a tenant's roster on demand
	// (SyncRoster); without it that is ENotFound.
	RosterSync RosterSync
}

// NewCredential describes a credential to create.
type NewCredential struct {
	Tenant string
	Scopes []string
	// Name says what the credential is for.
	Name string
	// App, when set, names the vendor application the credential is for:
	// its authority is then AppAuthority, else the Agent of Authority.
	App    string
	Limits statements.Limits
	// XAPIVersion is the xAPI version the app speaks: "1.0.3", "2.0.0" or
	// "" (not declared).
	XAPIVersion string
	// ProfileMode is statements.ProfileOff (or ""), ProfileFlag or
	// ProfileStrict.
	ProfileMode string
}

// validProfileMode checks a credential's profile mode.
func validProfileMode(m string) error {
	switch m {
	case "", statements.ProfileOff, statements.ProfileFlag, statements.ProfileStrict:
		return nil
	}
	return statements.Errorf(statements.EInvalid, "profileMode: %q is not a profile mode (%s, %s or %s)", m,
		statements.ProfileOff, statements.ProfileFlag, statements.ProfileStrict)
}

// profileModeDetail is the audit detail of a profile mode.
func profileModeDetail(m string) string {
	if m == "" || m == statements.ProfileOff {
		return ""
	}
	return " profileMode=" + m
}

// validXAPIVersion checks a credential's declared xAPI version.
func validXAPIVersion(v string) error {
	switch v {
	case "", Version103, Version200:
		return nil
	}
	return statements.Errorf(statements.EInvalid, "xapiVersion: %q is not a version the LRS speaks (%s or %s)", v, Version103, Version200)
}

var tenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// audit logs and keeps one action. An audit record that cannot be kept is
// logged as an error; the action itself is done.
func (a *Admin) audit(ctx context.Context, e statements.AuditEntry) {
	e.Time = a.now().UTC().Truncate(time.Millisecond)
	a.Log.Info().Str("audit", e.Action).Str("actor", e.Actor).Str("tenant", e.Tenant).
		Str("credential", e.Target).Str("detail", e.Detail).Time("at", e.Time).Msg("admin action")
	if err := a.Admin.AppendAudit(ctx, e); err != nil {
		a.Log.Error().Err(err).Str("audit", e.Action).Msg("cannot keep the audit record")
	}
}

func (a *Admin) changed(tenant, key string) {
	if a.Changed != nil {
		a.Changed(tenant, key)
	}
}

// NewTenant describes a tenant to create.
type NewTenant struct {
	ID     string // lower-case letters, digits, "-" and "_"
	Name   string // default ID
	Limits statements.Limits
	// IdentityValues are the sign-in claim values the tenant owns, e.g.
	// its education providers' OIDs; each belongs to one tenant.
	IdentityValues []string
}

// CreateTenant creates the tenant nt.ID; EConflict when it exists or
// another tenant owns one of its identity values.
func (a *Admin) CreateTenant(ctx context.Context, actor string, nt NewTenant) (*statements.Tenant, error) {
	id, name := nt.ID, nt.Name
	if !tenantIDPattern.MatchString(id) {
		return nil, statements.Errorf(statements.EInvalid, "tenant id %q: 1 to 63 lower-case letters, digits, - and _", id)
	}
	if IsSandboxTenant(id) {
		return nil, statements.Errorf(statements.EInvalid, "tenant id %q: %s starts the ids of vendors' sandboxes only (POST /admin/sandboxes)", id, SandboxPrefix)
	}
	if err := validLimits(nt.Limits); err != nil {
		return nil, err
	}
	if err := validIdentityValues(nt.IdentityValues); err != nil {
		return nil, err
	}
	if name == "" {
		name = id
	}
	t := statements.Tenant{ID: id, Name: name, Created: a.now().UTC().Truncate(time.Millisecond), Limits: nt.Limits,
		IdentityValues: slices.Clone(nt.IdentityValues)}
	if len(t.IdentityValues) == 0 {
		t.IdentityValues = nil
	}
	if err := a.Store.CreateTenant(ctx, t); err != nil {
		return nil, err
	}
	detail := "name=" + name + limitsDetail(nt.Limits)
	if len(t.IdentityValues) > 0 {
		detail += " identityValues=" + strings.Join(t.IdentityValues, ",")
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "tenant.create", Tenant: id, Detail: detail})
	return &t, nil
}

// maxIdentityValues bounds a tenant's identity values, and
// maxIdentityValueLen each one's length.
const (
	maxIdentityValues   = 1000
	maxIdentityValueLen = 256
)

// validIdentityValues checks a tenant's identity values: non-empty, no
// spaces around them, each once, within the bounds.
func validIdentityValues(vs []string) error {
	if len(vs) > maxIdentityValues {
		return statements.Errorf(statements.EInvalid, "identityValues: at most %d", maxIdentityValues)
	}
	for _, v := range vs {
		if strings.TrimSpace(v) != v || len(v) > maxIdentityValueLen {
			return statements.Errorf(statements.EInvalid, "identityValues: %q must be 1 to %d characters without spaces around", v, maxIdentityValueLen)
		}
	}
	if err := statements.CheckIdentityValues(vs); err != nil {
		return statements.Errorf(statements.EInvalid, "identityValues: %s", strings.TrimPrefix(statements.ErrorMessage(err), "tenant: "))
	}
	return nil
}

// TenantUpdate changes a tenant; nil fields are kept.
type TenantUpdate struct {
	Name     *string
	Disabled *bool
	Limits   *statements.Limits
	// CORSOrigins, when set, replaces the tenant's CORS origins; empty
	// clears them.
	CORSOrigins *[]string
	// IdentityValues, when set, replaces the tenant's identity values;
	// empty clears them.
	IdentityValues *[]string
}

// ValidOrigin checks that o is a web origin as browsers send it:
// http(s)://host[:port], no path, query or fragment.
func ValidOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return statements.Errorf(statements.EInvalid, "%q is not an origin such as https://app.example.fi", o)
	}
	return nil
}

// UpdateTenant changes the tenant id: disabling it refuses its
// credentials from the next request on.
func (a *Admin) UpdateTenant(ctx context.Context, actor, id string, u TenantUpdate) (*statements.Tenant, error) {
	t, err := a.Admin.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	var what []string
	if u.Name != nil && *u.Name != t.Name {
		t.Name = *u.Name
		what = append(what, "name="+t.Name)
	}
	if u.Disabled != nil && *u.Disabled != t.Disabled {
		t.Disabled = *u.Disabled
		what = append(what, fmt.Sprintf("disabled=%t", t.Disabled))
	}
	if u.Limits != nil {
		if err := validLimits(*u.Limits); err != nil {
			return nil, err
		}
		t.Limits = *u.Limits
		what = append(what, strings.TrimPrefix(limitsDetail(t.Limits), " "))
	}
	if u.CORSOrigins != nil {
		var origins []string
		for _, o := range *u.CORSOrigins {
			if err := ValidOrigin(o); err != nil {
				return nil, statements.Errorf(statements.EInvalid, "corsOrigins: %s", err.(*statements.Error).Message)
			}
			origins = append(origins, normalOrigin(o))
		}
		t.CORSOrigins = origins
		what = append(what, "corsOrigins="+strings.Join(origins, ","))
	}
	if u.IdentityValues != nil {
		if t.Sandbox != "" && len(*u.IdentityValues) > 0 {
			// No one the identity provider signs in may land in a
			// sandbox: its people are test people (SignInAs).
			return nil, statements.Errorf(statements.EInvalid, "identityValues: a sandbox owns none; its test people are opened from the vendor page")
		}
		if err := validIdentityValues(*u.IdentityValues); err != nil {
			return nil, err
		}
		t.IdentityValues = slices.Clone(*u.IdentityValues)
		if len(t.IdentityValues) == 0 {
			t.IdentityValues = nil
		}
		what = append(what, "identityValues="+strings.Join(t.IdentityValues, ","))
	}
	if err := a.Admin.UpdateTenant(ctx, *t); err != nil {
		return nil, err
	}
	a.changed(id, "")
	action := "tenant.update"
	switch {
	case u.Disabled != nil && *u.Disabled && len(what) == 1:
		action = "tenant.disable"
	case u.Disabled != nil && !*u.Disabled && len(what) == 1:
		action = "tenant.enable"
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: action, Tenant: id, Detail: strings.Join(what, " ")})
	return t, nil
}

// Tenants returns every tenant.
func (a *Admin) Tenants(ctx context.Context) ([]statements.Tenant, error) {
	ts, err := a.Store.Tenants(ctx)
	if ts == nil {
		ts = []statements.Tenant{}
	}
	return ts, err
}

// CreateCredential creates a credential with a random key and secret and
// returns it with the secret, which is not kept anywhere: only its bcrypt
// hash is stored.
func (a *Admin) CreateCredential(ctx context.Context, actor string, nc NewCredential) (*statements.Credential, string, error) {
	if !validScopes(nc.Scopes) {
		return nil, "", statements.Errorf(statements.EInvalid, "scopes: one or more of %s", strings.Join(Scopes, ", "))
	}
	if err := validLimits(nc.Limits); err != nil {
		return nil, "", err
	}
	if err := validXAPIVersion(nc.XAPIVersion); err != nil {
		return nil, "", err
	}
	if err := validProfileMode(nc.ProfileMode); err != nil {
		return nil, "", err
	}
	t, err := a.Admin.Tenant(ctx, nc.Tenant)
	if err != nil {
		return nil, "", err
	}
	key, secret := randomToken(20), randomToken(32)
	hash := hashGenerated(secret)
	name := nc.Name
	if name == "" {
		name = nc.App
	}
	auth := Authority(key, name)
	if nc.App != "" {
		auth = AppAuthority(key, nc.App, t.ID, t.Name)
	}
	c := statements.Credential{Key: key, Tenant: t.ID, SecretHash: hash, Scopes: slices.Clone(nc.Scopes),
		Authority: auth, Created: a.now().UTC().Truncate(time.Millisecond), Name: name, Limits: nc.Limits,
		XAPIVersion: nc.XAPIVersion, ProfileMode: nc.ProfileMode}
	if err := a.Store.CreateCredential(ctx, c); err != nil {
		return nil, "", err
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "credential.create", Tenant: t.ID, Target: key,
		Detail: "scopes=" + strings.Join(c.Scopes, ",") + " name=" + name + limitsDetail(nc.Limits) + xapiVersionDetail(c.XAPIVersion) + profileModeDetail(c.ProfileMode)})
	return &c, secret, nil
}

// Credentials returns the credentials of tenant; ENotFound if there is no
// such tenant.
func (a *Admin) Credentials(ctx context.Context, tenant string) ([]statements.Credential, error) {
	if _, err := a.Admin.Tenant(ctx, tenant); err != nil {
		return nil, err
	}
	return a.Admin.Credentials(ctx, tenant)
}

// RotateCredential gives the credential key a new secret and returns it;
// the old secret stops working at once in this process and within the
// authentication cache's TTL in others.
func (a *Admin) RotateCredential(ctx context.Context, actor, key string) (*statements.Credential, string, error) {
	c, err := a.Store.Credential(ctx, key)
	if err != nil {
		return nil, "", err
	}
	if c.Revoked {
		return nil, "", statements.Errorf(statements.EConflict, "credential %s is revoked", key)
	}
	secret := randomToken(32)
	c.SecretHash = hashGenerated(secret)
	if err := a.Admin.UpdateCredential(ctx, *c); err != nil {
		return nil, "", err
	}
	a.changed(c.Tenant, key)
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "credential.rotate", Tenant: c.Tenant, Target: key})
	return c, secret, nil
}

// xapiVersionDetail is the audit detail of a declared xAPI version.
func xapiVersionDetail(v string) string {
	if v == "" {
		return ""
	}
	return " xapiVersion=" + v
}

// CredentialUpdate changes a credential; nil fields are kept.
type CredentialUpdate struct {
	Name   *string
	Scopes []string
	Limits *statements.Limits
	// XAPIVersion, when set, declares the app's xAPI version; "" clears it.
	XAPIVersion *string
	// ProfileMode, when set, is the new profile mode ("" is off).
	ProfileMode *string
}

// UpdateCredential changes the name, scopes, limits, xAPI version or
// profile mode of the credential key, in this process at once.
func (a *Admin) UpdateCredential(ctx context.Context, actor, key string, u CredentialUpdate) (*statements.Credential, error) {
	c, err := a.Store.Credential(ctx, key)
	if err != nil {
		return nil, err
	}
	if c.Revoked {
		return nil, statements.Errorf(statements.EConflict, "credential %s is revoked", key)
	}
	var what []string
	if u.Name != nil {
		c.Name = *u.Name
		what = append(what, "name="+c.Name)
	}
	if u.Scopes != nil {
		if !validScopes(u.Scopes) {
			return nil, statements.Errorf(statements.EInvalid, "scopes: one or more of %s", strings.Join(Scopes, ", "))
		}
		c.Scopes = slices.Clone(u.Scopes)
		what = append(what, "scopes="+strings.Join(c.Scopes, ","))
	}
	if u.Limits != nil {
		if err := validLimits(*u.Limits); err != nil {
			return nil, err
		}
		c.Limits = *u.Limits
		what = append(what, strings.TrimPrefix(limitsDetail(c.Limits), " "))
	}
	if u.XAPIVersion != nil {
		if err := validXAPIVersion(*u.XAPIVersion); err != nil {
			return nil, err
		}
		c.XAPIVersion = *u.XAPIVersion
		what = append(what, "xapiVersion="+c.XAPIVersion)
	}
	if u.ProfileMode != nil {
		if err := validProfileMode(*u.ProfileMode); err != nil {
			return nil, err
		}
		c.ProfileMode = *u.ProfileMode
		if c.ProfileMode == statements.ProfileOff {
			c.ProfileMode = ""
		}
		what = append(what, "profileMode="+cmp.Or(c.ProfileMode, statements.ProfileOff))
	}
	if err := a.Admin.UpdateCredential(ctx, *c); err != nil {
		return nil, err
	}
	a.changed(c.Tenant, key)
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "credential.update", Tenant: c.Tenant, Target: key, Detail: strings.Join(what, " ")})
	return c, nil
}

// RevokeCredential revokes the credential key for good. Its statements
// stay; their authority still names it.
func (a *Admin) RevokeCredential(ctx context.Context, actor, key string) (*statements.Credential, error) {
	c, err := a.Store.Credential(ctx, key)
	if err != nil {
		return nil, err
	}
	if !c.Revoked {
		c.Revoked = true
		if err := a.Admin.UpdateCredential(ctx, *c); err != nil {
			return nil, err
		}
	}
	a.changed(c.Tenant, key)
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "credential.revoke", Tenant: c.Tenant, Target: key})
	return c, nil
}

// validLimits rejects limits the LRS cannot apply.
// validLimits checks limits: each is 0 (not set), -1 (no limit) or
// positive, and queryLimit at most statements.MaxLimit.
func validLimits(l statements.Limits) error {
	if l.QueryLimit > statements.MaxLimit {
		return statements.Errorf(statements.EInvalid, "limits: queryLimit at most %d", statements.MaxLimit)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"rate", l.Rate}, {"burst", float64(l.Burst)}, {"batch", float64(l.Batch)}, {"queryLimit", float64(l.QueryLimit)}, {"bodyBytes", float64(l.BodyBytes)}} {
		if f.v < 0 && f.v != -1 {
			return statements.Errorf(statements.EInvalid, "limits: %s is %g; use a positive number, 0 for not set or -1 for no limit", f.name, f.v)
		}
	}
	return nil
}

func limitsDetail(l statements.Limits) string {
	if l == (statements.Limits{}) {
		return ""
	}
	return fmt.Sprintf(" limits=rate:%g,burst:%d,batch:%d,queryLimit:%d,bodyBytes:%d", l.Rate, l.Burst, l.Batch, l.QueryLimit, l.BodyBytes)
}
