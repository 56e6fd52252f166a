package lrs

import (
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestParseORFilter: the filters of the OneRoster binding, read and
// matched; a filter that does not read names why.
func TestParseORFilter(t *testing.T) {
	known := func(f string) bool { return f == "givenName" || f == "score" || f == "roles.role" }
	rec := map[string]any{"givenName": "Aino", "score": 7.5, "roles": []any{map[string]any{"role": "student"}, map[string]any{"role": "guardian"}}}
	for _, tc := range []struct {
		filter string
		match  bool
		err    string
	}{
		{"givenName='Aino'", true, ""},
		{"givenName = 'Aino'", true, ""},
		{"givenName!='Aino'", false, ""},
		{"givenName~'in'", true, ""},
		{"score>'7'", true, ""},
		{"score>='7.5' AND score<='7.5'", true, ""},
		{"score<'10'", true, ""}, // numeric: the text "7.5" sorts after "10"
		{"roles.role='guardian'", true, ""},
		{"roles.role!='student'", false, ""},
		{"givenName='Eero' OR roles.role='student'", true, ""},
		{"givenName='Eero' AND roles.role='student'", false, ""},
		{"givenName='a b c'", false, ""},
		{"", false, "want a field name"},
		{"shoe='1'", false, "not a field"},
		{"givenName", false, "want an operator"},
		{"givenName=Aino", false, "single quotes"},
		{"givenName='Aino", false, "no closing quote"},
		{"givenName='a' AND", false, "want a field name"},
		{"givenName='a' NOT givenName='b'", false, "want AND or OR"},
		{"givenName='a' AND score='1' OR score='2'", false, "AND and OR"},
	} {
		preds, or, err := parseORFilter(tc.filter, known)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error with %q", tc.filter, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.filter, err)
			continue
		}
		if got := orMatch(preds, or, rec); got != tc.match {
			t.Errorf("%q on %v: %v, want %v", tc.filter, rec, got, tc.match)
		}
	}
}
