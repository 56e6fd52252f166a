package lrs

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/digione/lrs/statements/sqlitestore"
)

// TestSandboxToken_Verify: the provider serves a token only when it is
// signed with its credential's stored secret hash and the credential is a
// sandbox's: a token of an ordinary tenant's credential (which the token
// endpoint never issues) reads nothing, nor does one signed with another
// key; the same token of the sandbox's credential reads its sandbox.
func TestSandboxToken_Verify(t *testing.T) {
	ctx := t.Context()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a := &Admin{Store: store, Admin: store}
	if _, err := a.CreateTenant(ctx, "test", NewTenant{ID: "espoo"}); err != nil {
		t.Fatal(err)
	}
	espoo, _, err := a.CreateCredential(ctx, "test", NewCredential{Tenant: "espoo", Scopes: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := a.CreateSandbox(ctx, "test", NewSandbox{Vendor: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	acme, err := store.Credential(ctx, sb.Credentials[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: store, Admin: store}))
	t.Cleanup(srv.Close)
	exp := time.Now().Add(time.Hour)
	forged := *acme
	forged.SecretHash = []byte("$sha256$0000")
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"an ordinary tenant's credential", sandboxToken(espoo, exp, 7), http.StatusUnauthorized},
		{"signed with another key", sandboxToken(&forged, exp, 7), http.StatusUnauthorized},
		{"expired", sandboxToken(acme, time.Now().Add(-time.Second), 7), http.StatusUnauthorized},
		{"the sandbox's credential", sandboxToken(acme, exp, 7), http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", srv.URL+sandboxRosteringPath+"/users", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if espoo.Tenant == acme.Tenant || !IsSandboxTenant(acme.Tenant) || IsSandboxTenant(espoo.Tenant) {
		t.Fatalf("credentials of %s and %s: want an ordinary tenant and a sandbox", espoo.Tenant, acme.Tenant)
	}
}
