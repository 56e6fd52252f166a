package lrs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// A sandbox is a tenant where an app vendor tries its app before it is
// let into production: the tenant is marked with the vendor
// (statements.Tenant.Sandbox), has one app credential in strict profile
// mode, a seeded test school (a roster of two classes, two teachers and
// six learners with test learner numbers) and line items. Its gradebook
// is the sandbox gradebook (sandboxgradebook.go): results are never sent
// anywhere, they are kept and shown by the LRS.

// DefaultSandboxTTL is how long a sandbox lives unless told otherwise.
const DefaultSandboxTTL = 30 * 24 * time.Hour

// SandboxPrefix starts the tenant id of every sandbox: its tenant is
// SandboxPrefix + vendor.
const SandboxPrefix = "sandbox-"

// SandboxBaseURL is the base of the sandbox gradebook's results, as the
// OneRoster mapping writes them (their href): it names no real server.
const SandboxBaseURL = "https://sandbox.lrs.digione.fi/ims/oneroster/gradebook/v1p2"

var vendorPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,54}$`)

// IsSandboxTenant reports whether tenant is a sandbox's: its id starts
// with SandboxPrefix, which no other tenant's does (CreateTenant refuses
// it). The relay passes no entry of one to a sink.
func IsSandboxTenant(tenant string) bool { return strings.HasPrefix(tenant, SandboxPrefix) }

// SandboxTenant returns the tenant id of vendor's sandbox.
func SandboxTenant(vendor string) string { return SandboxPrefix + vendor }

// NewSandbox describes a sandbox to create.
type NewSandbox struct {
	Vendor string // lower-case letters, digits, "-" and "_"
	// XAPIVersion is the xAPI version the vendor's app speaks: "1.0.3",
	// "2.0.0" or "" (not declared).
	XAPIVersion string
	// TTL is how long the sandbox lives; 0 = DefaultSandboxTTL.
	TTL time.Duration
	// Endpoint is the xAPI endpoint the vendor's app posts to, shown to
	// the vendor; "" = not shown.
	Endpoint string
}

// SandboxJSON is a sandbox in the admin API and the CLI's --json.
type SandboxJSON struct {
	Vendor  string    `json:"vendor"`
	Tenant  string    `json:"tenant"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Endpoint is the xAPI endpoint the app posts statements to.
	Endpoint string `json:"endpoint,omitempty"`
	// Credentials are the sandbox's credentials; the secret only in the
	// answer that created the sandbox.
	Credentials []CredentialJSON `json:"credentials"`
	// IdentityHomePage is the account.homePage of the test learners.
	IdentityHomePage string        `json:"identityHomePage"`
	School           SandboxSchool `json:"school"`
	// OneRoster are the URLs of the sandbox's built-in OneRoster
	// provider, beside Endpoint; absent without an Endpoint.
	OneRoster *SandboxOneRosterJSON `json:"oneRoster,omitempty"`
}

// SandboxSchool is a sandbox's seeded test data. Every identifier in it is
// made up for testing: the learner numbers use the OID arc
// 1.2.246.562.98, which no real learner has.
type SandboxSchool struct {
	SourcedID string            `json:"sourcedId"`
	Name      string            `json:"name"`
	OID       string            `json:"oid"` // a test OID
	Classes   []SandboxClass    `json:"classes"`
	Teachers  []SandboxPerson   `json:"teachers"`
	Learners  []SandboxPerson   `json:"learners"`
	LineItems []SandboxLineItem `json:"lineItems"`
}

// SandboxClass is a test class.
type SandboxClass struct {
	SourcedID string `json:"sourcedId"`
	Title     string `json:"title"`
}

// SandboxPerson is a test teacher or learner: Account is the identity
// the app puts in statements' actor.
type SandboxPerson struct {
	SourcedID     string          `json:"sourcedId"`
	Name          string          `json:"name"`                    // a made-up display name
	LearnerNumber string          `json:"learnerNumber,omitempty"` // a test OID, learners only
	Account       SandboxAccount  `json:"account"`
	Classes       []string        `json:"classes"` // class sourcedIds
	Role          string          `json:"role"`
	Agent         json.RawMessage `json:"agent"` // the actor to use in statements
}

// SandboxAccount is an MPASSid-style account: homePage and name.
type SandboxAccount struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// SandboxLineItem is a test line item: statements about Activity, or
// naming SourcedID in the line item extension, make its results.
type SandboxLineItem struct {
	SourcedID string  `json:"sourcedId"`
	Title     string  `json:"title"`
	Class     string  `json:"class"`
	Activity  string  `json:"activity"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
}

// SandboxSeed returns the test school of vendor's sandbox. It is the same
// every time for a vendor, so the sandbox's roster and line items are
// known without being read; the learners' account names differ from one
// vendor to another.
func SandboxSeed(vendor string) SandboxSchool {
	home := oneroster.DefaultIdentityHomePage
	account := func(id string) SandboxAccount {
		sum := sha256.Sum256([]byte("digione-sandbox\x00" + vendor + "\x00" + id))
		return SandboxAccount{HomePage: home, Name: "MPASSOID.test." + hex.EncodeToString(sum[:12])}
	}
	s := SandboxSchool{SourcedID: "sandbox-school", Name: "Testikoulu (sandbox)", OID: "1.2.246.562.98.30000000001",
		Classes: []SandboxClass{{SourcedID: "sandbox-class-7a", Title: "7A matematiikka"}, {SourcedID: "sandbox-class-8b", Title: "8B englanti"}}}
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("sandbox-teacher-%d", i)
		s.Teachers = append(s.Teachers, SandboxPerson{SourcedID: id, Name: fmt.Sprintf("Testi Opettaja %d", i),
			Account: account(id), Classes: []string{s.Classes[i-1].SourcedID}, Role: statements.RoleTeacher})
	}
	for i := 1; i <= 6; i++ {
		id := fmt.Sprintf("sandbox-learner-%d", i)
		s.Learners = append(s.Learners, SandboxPerson{SourcedID: id, Name: fmt.Sprintf("Testi Oppilas %d", i),
			LearnerNumber: fmt.Sprintf("1.2.246.562.98.1000000000%d", i),
			Account:       account(id), Classes: []string{s.Classes[(i-1)/3].SourcedID}, Role: statements.RoleStudent})
	}
	for i := range s.Teachers {
		s.Teachers[i].Agent = sandboxAgent(s.Teachers[i].Account)
	}
	for i := range s.Learners {
		s.Learners[i].Agent = sandboxAgent(s.Learners[i].Account)
	}
	for _, c := range s.Classes {
		for j, title := range []string{"Quiz 1", "Chapter test"} {
			s.LineItems = append(s.LineItems, SandboxLineItem{
				SourcedID: fmt.Sprintf("%s-lineitem-%d", c.SourcedID, j+1), Title: title, Class: c.SourcedID,
				Activity: fmt.Sprintf("https://sandbox.lrs.digione.fi/activities/%s/%s/%d", vendor, c.SourcedID, j+1),
				Min:      0, Max: float64(10 * (j + 1))})
		}
	}
	return s
}

func sandboxAgent(a SandboxAccount) []byte {
	return fmt.Appendf(nil, `{"objectType":"Agent","account":{"homePage":%q,"name":%q}}`, a.HomePage, a.Name)
}

// People returns the school's teachers and then its learners.
func (s SandboxSchool) People() []SandboxPerson {
	return append(append([]SandboxPerson{}, s.Teachers...), s.Learners...)
}

// roster returns the seeded school as a roster.
func (s SandboxSchool) roster(now time.Time) *statements.Roster {
	r := &statements.Roster{Synced: now.UTC().Truncate(time.Millisecond),
		Orgs: []statements.RosterOrg{{SourcedID: s.SourcedID, Name: s.Name, Type: "school", Identifier: s.OID}}}
	for _, c := range s.Classes {
		r.Classes = append(r.Classes, statements.RosterClass{SourcedID: c.SourcedID, Title: c.Title, ClassCode: c.SourcedID, School: s.SourcedID})
	}
	for _, p := range s.People() {
		given, family, _ := strings.Cut(p.Name, " ")
		ids := []string{p.SourcedID, p.Account.Name}
		if p.LearnerNumber != "" {
			ids = append(ids, p.LearnerNumber)
		}
		r.Users = append(r.Users, statements.RosterUser{SourcedID: p.SourcedID, GivenName: given, FamilyName: family,
			Roles: []statements.RosterRole{{Role: p.Role, Org: s.SourcedID}}, Orgs: []string{s.SourcedID}, Identities: ids})
		for _, c := range p.Classes {
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: "enr-" + c + "-" + p.SourcedID,
				Class: c, User: p.SourcedID, Role: p.Role, Primary: p.Role == statements.RoleTeacher})
		}
	}
	return r
}

// sandboxScopes are the scopes of a sandbox's app credential: what an app
// does in production.
var sandboxScopes = []string{"statements/write", "statements/read/mine", "state", "define", "profile"}

// CreateSandbox creates vendor's sandbox: the tenant, marked as a sandbox
// and expiring after ns.TTL, its app credential in strict profile mode,
// and the seeded test school. It returns the sandbox with the
// credential's secret, shown only this once. EConflict when the vendor
// has a sandbox.
func (a *Admin) CreateSandbox(ctx context.Context, actor string, ns NewSandbox) (*SandboxJSON, error) {
	if !vendorPattern.MatchString(ns.Vendor) {
		return nil, statements.Errorf(statements.EInvalid, "vendor: %q must be 1 to 55 lower-case letters, digits, - and _", ns.Vendor)
	}
	if err := validXAPIVersion(ns.XAPIVersion); err != nil {
		return nil, err
	}
	if ns.TTL < 0 {
		return nil, statements.Errorf(statements.EInvalid, "ttl: must not be negative")
	}
	if ns.TTL == 0 {
		ns.TTL = DefaultSandboxTTL
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	t := statements.Tenant{ID: SandboxTenant(ns.Vendor), Name: "Sandbox of " + ns.Vendor, Created: now,
		Sandbox: ns.Vendor, Expires: now.Add(ns.TTL)}
	if err := a.Store.CreateTenant(ctx, t); err != nil {
		if statements.ErrorCode(err) == statements.EConflict {
			return nil, statements.Errorf(statements.EConflict, "vendor: %s has a sandbox already (reset or delete it)", ns.Vendor)
		}
		return nil, err
	}
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "sandbox.create", Tenant: t.ID,
		Detail: "vendor=" + ns.Vendor + " expires=" + t.Expires.Format(time.RFC3339) + xapiVersionDetail(ns.XAPIVersion)})
	seed := SandboxSeed(ns.Vendor)
	c, secret, err := a.CreateCredential(ctx, actor, NewCredential{Tenant: t.ID, Scopes: sandboxScopes,
		Name: ns.Vendor + " (sandbox)", App: ns.Vendor, XAPIVersion: ns.XAPIVersion, ProfileMode: statements.ProfileStrict})
	if err == nil {
		err = a.Store.ReplaceRoster(ctx, t.ID, seed.roster(now))
	}
	if err != nil {
		// No half sandbox stays: the vendor creates it again.
		if derr := a.DeleteTenantData(context.WithoutCancel(ctx), t.ID); derr != nil {
			a.Log.Error().Err(derr).Str("tenant", t.ID).Msg("cannot remove a sandbox whose creation failed")
		}
		return nil, err
	}
	return &SandboxJSON{Vendor: ns.Vendor, Tenant: t.ID, Created: t.Created, Expires: t.Expires, Endpoint: ns.Endpoint,
		Credentials: []CredentialJSON{CredentialView(*c, secret)}, IdentityHomePage: oneroster.DefaultIdentityHomePage, School: seed,
		OneRoster: SandboxOneRosterURLs(ns.Endpoint)}, nil
}

// sandboxTenant returns vendor's sandbox tenant; ENotFound when the
// vendor has none.
func (a *Admin) sandboxTenant(ctx context.Context, vendor string) (*statements.Tenant, error) {
	if !vendorPattern.MatchString(vendor) {
		return nil, statements.Errorf(statements.ENotFound, "vendor %q has no sandbox", vendor)
	}
	t, err := a.Admin.Tenant(ctx, SandboxTenant(vendor))
	if statements.ErrorCode(err) == statements.ENotFound || (err == nil && t.Sandbox != vendor) {
		return nil, statements.Errorf(statements.ENotFound, "vendor %q has no sandbox", vendor)
	}
	return t, err
}

// Sandbox returns vendor's sandbox, without secrets; ENotFound if none.
func (a *Admin) Sandbox(ctx context.Context, vendor string) (*SandboxJSON, error) {
	t, err := a.sandboxTenant(ctx, vendor)
	if err != nil {
		return nil, err
	}
	return a.sandboxView(ctx, *t)
}

func (a *Admin) sandboxView(ctx context.Context, t statements.Tenant) (*SandboxJSON, error) {
	cs, err := a.Admin.Credentials(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	sb := &SandboxJSON{Vendor: t.Sandbox, Tenant: t.ID, Created: t.Created, Expires: t.Expires, Credentials: []CredentialJSON{},
		IdentityHomePage: oneroster.DefaultIdentityHomePage, School: SandboxSeed(t.Sandbox)}
	for _, c := range cs {
		sb.Credentials = append(sb.Credentials, CredentialView(c, ""))
	}
	return sb, nil
}

// Sandboxes returns every sandbox, by vendor.
func (a *Admin) Sandboxes(ctx context.Context) ([]SandboxJSON, error) {
	ts, err := a.Store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	out := []SandboxJSON{}
	for _, t := range ts {
		if t.Sandbox == "" {
			continue
		}
		sb, err := a.sandboxView(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, *sb)
	}
	return out, nil
}

// ResetSandbox wipes vendor's sandbox: its statements, documents,
// attachments and so the results of its gradebook go; the tenant (with
// its expiry), its credentials (same keys and secrets) and the seeded
// roster stay. While it runs the credentials are briefly unknown (401).
func (a *Admin) ResetSandbox(ctx context.Context, actor, vendor string) (*SandboxJSON, error) {
	t, err := a.sandboxTenant(ctx, vendor)
	if err != nil {
		return nil, err
	}
	creds, err := a.Admin.Credentials(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if err := a.DeleteTenantData(ctx, t.ID); err != nil {
		return nil, err
	}
	if err := a.Store.CreateTenant(ctx, *t); err != nil {
		return nil, err
	}
	if err := a.Store.ReplaceRoster(ctx, t.ID, SandboxSeed(vendor).roster(a.now())); err != nil {
		return nil, err
	}
	for _, c := range creds {
		if err := a.Store.CreateCredential(ctx, c); err != nil {
			return nil, err
		}
		a.changed(t.ID, c.Key)
	}
	a.changed(t.ID, "")
	a.audit(ctx, statements.AuditEntry{Actor: actor, Action: "sandbox.reset", Tenant: t.ID, Detail: "vendor=" + vendor})
	return a.sandboxView(ctx, *t)
}

// DeleteSandbox deletes vendor's sandbox whole: tenant, credentials,
// roster and data (DeleteTenant). ENotFound when the vendor has none.
func (a *Admin) DeleteSandbox(ctx context.Context, actor, vendor string) error {
	t, err := a.sandboxTenant(ctx, vendor)
	if err != nil {
		return err
	}
	return a.DeleteTenant(ctx, actor, t.ID)
}

// DeleteExpiredSandboxes deletes the sandboxes whose Expires is at or
// before now and returns their vendors.
func (a *Admin) DeleteExpiredSandboxes(ctx context.Context, actor string, now time.Time) ([]string, error) {
	ts, err := a.Store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, t := range ts {
		if t.Sandbox == "" || t.Expires.IsZero() || t.Expires.After(now) {
			continue
		}
		if err := a.DeleteTenant(ctx, actor, t.ID); err != nil {
			return gone, err
		}
		gone = append(gone, t.Sandbox)
	}
	return gone, nil
}

// SandboxSweep deletes expired sandboxes every Interval. Of several LRS
// processes on one store, the one that holds the lease "sandbox-expiry"
// sweeps.
type SandboxSweep struct {
	Admin *Admin
	// Interval is the time between sweeps; default 10 minutes.
	Interval time.Duration
	// Now returns the current time; default the Admin's.
	Now func() time.Time
	// Holder names this process in the lease; "" sweeps without one.
	Holder string
}

// Run sweeps until ctx is done; a failed sweep is logged and tried again
// at the next interval.
func (w *SandboxSweep) Run(ctx context.Context) {
	iv := w.Interval
	if iv <= 0 {
		iv = 10 * time.Minute
	}
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		ok := true
		if w.Holder != "" {
			var err error
			if ok, err = w.Admin.Store.AcquireLease(ctx, "sandbox-expiry", w.Holder, iv); err != nil && ctx.Err() == nil {
				w.Admin.Log.Warn().Err(err).Msg("sandbox expiry: cannot take the lease")
			}
		}
		if ok {
			w.Sweep(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Sweep deletes the sandboxes expired by now, once, and returns their
// vendors.
func (w *SandboxSweep) Sweep(ctx context.Context) []string {
	now := w.Admin.now()
	if w.Now != nil {
		now = w.Now()
	}
	gone, err := w.Admin.DeleteExpiredSandboxes(ctx, "sandbox-expiry", now)
	if err != nil && ctx.Err() == nil {
		w.Admin.Log.Error().Err(err).Msg("cannot delete the expired sandboxes; trying again later")
	}
	for _, v := range gone {
		w.Admin.Log.Info().Str("vendor", v).Msg("sandbox expired and deleted")
	}
	return gone
}
