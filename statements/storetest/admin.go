package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// adminTests cover statements.AdminStore. A store that does not implement
// it yet skips them.
var adminTests = []test{
	{"TenantOK", testAdminTenantOK},
	{"TenantErrNotFound", testAdminTenantErrNotFound},
	{"UpdateTenantOK", testAdminUpdateTenantOK},
	{"UpdateTenantErrNotFound", testAdminUpdateTenantErrNotFound},
	{"CredentialsOK", testAdminCredentialsOK},
	{"UpdateCredentialOK", testAdminUpdateCredentialOK},
	{"UpdateCredentialErrNotFound", testAdminUpdateCredentialErrNotFound},
	{"UpdateCredentialErrInvalidUnrevoke", testAdminUpdateCredentialErrInvalidUnrevoke},
	{"AuditOK", testAdminAuditOK},
}

func mustAdmin(t *testing.T, s statements.Store) statements.AdminStore { return s }

var someLimits = statements.Limits{Rate: 12.5, Burst: 40, Batch: 100, QueryLimit: 50, BodyBytes: 1 << 20}

func wantTenant(t *testing.T, got *statements.Tenant, want statements.Tenant) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Disabled != want.Disabled ||
		!got.Created.Equal(want.Created) || got.Limits != want.Limits || !slices.Equal(got.CORSOrigins, want.CORSOrigins) {
		t.Errorf("tenant:\n got %+v\nwant %+v", *got, want)
	}
}

func wantCredential(t *testing.T, got *statements.Credential, want statements.Credential) {
	t.Helper()
	if got.Key != want.Key || got.Tenant != want.Tenant || !bytes.Equal(got.SecretHash, want.SecretHash) ||
		!slices.Equal(got.Scopes, want.Scopes) || !bytes.Equal(got.Authority, want.Authority) ||
		!got.Created.Equal(want.Created) || got.Revoked != want.Revoked || got.Name != want.Name ||
		got.Limits != want.Limits || got.XAPIVersion != want.XAPIVersion || got.ProfileMode != want.ProfileMode {
		t.Errorf("credential:\n got %+v\nwant %+v", *got, want)
	}
}

func testAdminTenantOK(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	in := []statements.Tenant{
		{ID: "espoo", Name: "Espoo", Created: created(), Limits: someLimits, CORSOrigins: []string{"https://app.espoo.example", "https://lms.example"}},
		{ID: "vantaa", Name: "Vantaa", Created: created(), Disabled: true, Limits: statements.Limits{Rate: -1}},
	}
	for _, tn := range in {
		mustCreateTenant(t, s, tn)
	}
	for _, want := range in {
		got, err := a.Tenant(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("Tenant(%s): %v", want.ID, err)
		}
		wantTenant(t, got, want)
	}
	all, err := s.Tenants(t.Context())
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	if len(all) != 2 {
		t.Fatalf("Tenants: got %d, want 2", len(all))
	}
	for i := range in {
		wantTenant(t, &all[i], in[i])
	}
}

func testAdminTenantErrNotFound(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()})
	_, err := a.Tenant(t.Context(), "vantaa")
	wantCode(t, err, statements.ENotFound)
}

func testAdminUpdateTenantOK(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	orig := statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()}
	mustCreateTenant(t, s, orig)
	mustCreateTenant(t, s, statements.Tenant{ID: "vantaa", Name: "Vantaa", Created: created()})
	upd := statements.Tenant{ID: "espoo", Name: "Espoon kaupunki", Created: orig.Created.Add(time.Hour),
		Disabled: true, Limits: someLimits, CORSOrigins: []string{"https://app.espoo.example"}}
	if err := a.UpdateTenant(t.Context(), upd); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	got, err := a.Tenant(t.Context(), "espoo")
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	want := upd
	want.Created = orig.Created // Created is kept
	wantTenant(t, got, want)
	other, err := a.Tenant(t.Context(), "vantaa")
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	if other.Disabled || other.Name != "Vantaa" || other.Limits != (statements.Limits{}) {
		t.Errorf("another tenant changed: %+v", *other)
	}
}

func testAdminUpdateTenantErrNotFound(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	err := a.UpdateTenant(t.Context(), statements.Tenant{ID: "nowhere", Name: "X", Disabled: true})
	wantCode(t, err, statements.ENotFound)
	if got, _ := s.Tenants(t.Context()); len(got) != 0 {
		t.Errorf("UpdateTenant of a missing tenant created one: %+v", got)
	}
}

func testAdminCredentialsOK(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()})
	mustCreateTenant(t, s, statements.Tenant{ID: "vantaa", Name: "Vantaa", Created: created()})
	c2 := newCredential("key-2", "espoo")
	c2.Name, c2.Limits, c2.XAPIVersion, c2.ProfileMode = "Vendor app", someLimits, "1.0.3", statements.ProfileStrict
	c1 := newCredential("key-1", "espoo")
	c1.Revoked = true
	c3 := newCredential("key-3", "vantaa")
	for _, c := range []statements.Credential{c2, c3, c1} {
		if err := s.CreateCredential(t.Context(), c); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
	}
	got, err := a.Credentials(t.Context(), "espoo")
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("Credentials(espoo): got %d, want 2: %+v", len(got), got)
	}
	wantCredential(t, &got[0], c1)
	wantCredential(t, &got[1], c2)
	one, err := s.Credential(t.Context(), "key-2")
	if err != nil {
		t.Fatalf("Credential: %v", err)
	}
	wantCredential(t, one, c2)
	none, err := a.Credentials(t.Context(), "nowhere")
	if err != nil {
		t.Fatalf("Credentials(nowhere): %v", err)
	}
	if len(none) != 0 {
		t.Errorf("Credentials(nowhere): got %+v, want none", none)
	}
}

func testAdminUpdateCredentialOK(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()})
	mustCreateTenant(t, s, statements.Tenant{ID: "vantaa", Name: "Vantaa", Created: created()})
	orig := newCredential("key-1", "espoo")
	if err := s.CreateCredential(t.Context(), orig); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	upd := orig
	upd.Tenant, upd.Created = "vantaa", orig.Created.Add(time.Hour) // both kept
	upd.SecretHash = []byte("rotated-hash")
	upd.Scopes = []string{"all/read"}
	upd.Authority = []byte(`{"objectType":"Agent","account":{"homePage":"https://x.example","name":"y"}}`)
	upd.Name, upd.Limits, upd.XAPIVersion, upd.ProfileMode = "renamed", someLimits, "2.0.0", statements.ProfileFlag
	if err := a.UpdateCredential(t.Context(), upd); err != nil {
		t.Fatalf("UpdateCredential: %v", err)
	}
	got, err := s.Credential(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("Credential: %v", err)
	}
	want := upd
	want.Tenant, want.Created = orig.Tenant, orig.Created
	wantCredential(t, got, want)

	upd.Revoked = true
	if err := a.UpdateCredential(t.Context(), upd); err != nil {
		t.Fatalf("UpdateCredential (revoke): %v", err)
	}
	if got, err = s.Credential(t.Context(), "key-1"); err != nil || !got.Revoked {
		t.Fatalf("after revoking: %+v, %v", got, err)
	}
}

func testAdminUpdateCredentialErrNotFound(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	err := a.UpdateCredential(t.Context(), newCredential("key-1", "espoo"))
	wantCode(t, err, statements.ENotFound)
	_, err = s.Credential(t.Context(), "key-1")
	wantCode(t, err, statements.ENotFound)
}

func testAdminUpdateCredentialErrInvalidUnrevoke(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	mustCreateTenant(t, s, statements.Tenant{ID: "espoo", Name: "Espoo", Created: created()})
	c := newCredential("key-1", "espoo")
	c.Revoked = true
	if err := s.CreateCredential(t.Context(), c); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	c.Revoked = false
	wantCode(t, a.UpdateCredential(t.Context(), c), statements.EInvalid)
	got, err := s.Credential(t.Context(), "key-1")
	if err != nil || !got.Revoked {
		t.Fatalf("a revoked credential came back: %+v, %v", got, err)
	}
}

func testAdminAuditOK(t *testing.T, s statements.Store) {
	a := mustAdmin(t, s)
	empty, err := a.Audit(t.Context(), 10)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Audit of an empty store: %+v, %v", empty, err)
	}
	now := created()
	in := []statements.AuditEntry{
		{Time: now, Actor: "cli", Action: "tenant.create", Tenant: "espoo"},
		{Time: now.Add(time.Second), Actor: "admin-api", Action: "credential.create", Tenant: "espoo", Target: "key-1", Detail: "scopes=all"},
		{Time: now.Add(time.Second), Actor: "admin-api", Action: "credential.revoke", Tenant: "espoo", Target: "key-1"},
	}
	for _, e := range in {
		if err := a.AppendAudit(t.Context(), e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	got, err := a.Audit(t.Context(), 2)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	want := []statements.AuditEntry{in[2], in[1]}
	if len(got) != len(want) {
		t.Fatalf("Audit(2): got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) || g.Actor != w.Actor || g.Action != w.Action || g.Tenant != w.Tenant ||
			g.Target != w.Target || g.Detail != w.Detail {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
