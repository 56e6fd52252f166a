package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var tenantTests = []test{
	{"OK", testTenantsOK},
	{"Empty", testTenantsEmpty},
	{"ErrConflict", testTenantsErrConflict},
}

var credentialTests = []test{
	{"OK", testCredentialOK},
	{"ErrConflict", testCredentialErrConflict},
	{"ErrNotFoundTenant", testCredentialErrNotFoundTenant},
	{"ErrNotFound", testCredentialErrNotFound},
}

// created is a creation time at the stores' millisecond precision.
func created() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func mustCreateTenant(t testing.TB, s statements.Store, tn statements.Tenant) {
	t.Helper()
	if err := s.CreateTenant(t.Context(), tn); err != nil {
		t.Fatalf("CreateTenant(%s): %v", tn.ID, err)
	}
}

func testTenantsOK(t *testing.T, s statements.Store) {
	now := created()
	in := []statements.Tenant{
		{ID: "school-b", Name: "School B", Created: now},
		{ID: "school-a", Name: "School A", Created: now.Add(time.Second), Disabled: true},
		{ID: "sandbox", Name: "Vendor sandbox", Created: now.Add(2 * time.Second)},
	}
	for _, tn := range in {
		mustCreateTenant(t, s, tn)
	}
	got, err := s.Tenants(t.Context())
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	want := []statements.Tenant{in[2], in[1], in[0]}
	if len(got) != len(want) {
		t.Fatalf("Tenants: got %d, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Name != w.Name || g.Disabled != w.Disabled || !g.Created.Equal(w.Created) {
			t.Errorf("tenant %d: got %+v, want %+v", i, g, w)
		}
	}
}

func testTenantsEmpty(t *testing.T, s statements.Store) {
	got, err := s.Tenants(t.Context())
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Tenants of an empty store: got %+v", got)
	}
}

func testTenantsErrConflict(t *testing.T, s statements.Store) {
	mustCreateTenant(t, s, statements.Tenant{ID: "school-a", Name: "School A", Created: created()})
	err := s.CreateTenant(t.Context(), statements.Tenant{ID: "school-a", Name: "Other", Created: created()})
	wantCode(t, err, statements.EConflict)
	got, err := s.Tenants(t.Context())
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	if len(got) != 1 || got[0].Name != "School A" {
		t.Fatalf("Tenants: got %+v, want School A alone", got)
	}
}

func newCredential(key, tenant string) statements.Credential {
	return statements.Credential{
		Key:        key,
		Tenant:     tenant,
		SecretHash: []byte("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
		Scopes:     []string{"statements/write", "statements/read/mine"},
		Authority:  mustJSON(Authority),
		Created:    created(),
	}
}

func testCredentialOK(t *testing.T, s statements.Store) {
	mustCreateTenant(t, s, statements.Tenant{ID: "school-a", Name: "School A", Created: created()})
	mustCreateTenant(t, s, statements.Tenant{ID: "school-b", Name: "School B", Created: created()})
	in := []statements.Credential{newCredential("key-1", "school-a"), newCredential("key-2", "school-b")}
	in[1].Scopes = []string{"all"}
	in[1].Revoked = true
	for _, c := range in {
		if err := s.CreateCredential(t.Context(), c); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
	}
	for _, want := range in {
		got, err := s.Credential(t.Context(), want.Key)
		if err != nil {
			t.Fatalf("Credential(%s): %v", want.Key, err)
		}
		if got.Key != want.Key || got.Tenant != want.Tenant || !bytes.Equal(got.SecretHash, want.SecretHash) ||
			!slices.Equal(got.Scopes, want.Scopes) || !bytes.Equal(got.Authority, want.Authority) ||
			!got.Created.Equal(want.Created) || got.Revoked != want.Revoked {
			t.Errorf("Credential(%s):\n got %+v\nwant %+v", want.Key, got, want)
		}
	}
}

func testCredentialErrConflict(t *testing.T, s statements.Store) {
	mustCreateTenant(t, s, statements.Tenant{ID: "school-a", Name: "School A", Created: created()})
	mustCreateTenant(t, s, statements.Tenant{ID: "school-b", Name: "School B", Created: created()})
	if err := s.CreateCredential(t.Context(), newCredential("key-1", "school-a")); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	err := s.CreateCredential(t.Context(), newCredential("key-1", "school-b"))
	wantCode(t, err, statements.EConflict)
	got, err := s.Credential(t.Context(), "key-1")
	if err != nil {
		t.Fatalf("Credential: %v", err)
	}
	if got.Tenant != "school-a" {
		t.Errorf("Tenant: got %q, want school-a", got.Tenant)
	}
}

func testCredentialErrNotFoundTenant(t *testing.T, s statements.Store) {
	err := s.CreateCredential(t.Context(), newCredential("key-1", "no-such-school"))
	wantCode(t, err, statements.ENotFound)
	_, err = s.Credential(t.Context(), "key-1")
	wantCode(t, err, statements.ENotFound)
}

func testCredentialErrNotFound(t *testing.T, s statements.Store) {
	mustCreateTenant(t, s, statements.Tenant{ID: "school-a", Name: "School A", Created: created()})
	if err := s.CreateCredential(t.Context(), newCredential("key-1", "school-a")); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	_, err := s.Credential(t.Context(), "key-2")
	wantCode(t, err, statements.ENotFound)
}
