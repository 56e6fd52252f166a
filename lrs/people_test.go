package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestServer_People checks the people's routes as the server mounts
// them: a bearer ID token of a person reads /api/me and is never a
// credential for /xapi/, while HTTP Basic stays the only way into xAPI.
func TestServer_People(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer // written by one request at a time below
	log := zerolog.New(&logs)
	op := oidctest.Start(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	svc, err := signin.New(signin.Config{Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		PublicURL: srv.URL,
		Logger:    log,
		Tenant: func(_ context.Context, v string) (string, error) {
			if v == "1.2.246.562.10.404" {
				return "", nil
			}
			return lrs.DefaultTenant, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	h = withContract(t, lrs.New(lrs.Config{Store: store, People: svc, Logger: log}))
	const person = "c0ffee-person-4711"
	tok := op.Token(t, map[string]any{"urn:mpass.id:uid": person, "urn:mpass.id:role": "Espoo;1;;Opettaja",
		"urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
	stranger := op.Token(t, map[string]any{"urn:mpass.id:uid": person, "urn:mpass.id:role": "Espoo;1;;Opettaja",
		"urn:mpass.id:educationProviderId": "1.2.246.562.10.404"})

	for _, tt := range []struct {
		name, method, path, auth string
		want                     int
		wantBody                 string
	}{
		{"MeBearer", "GET", "/api/me", "Bearer " + tok, http.StatusOK, `"role":"teacher"`},
		{"MeNoTenant", "GET", "/api/me", "Bearer " + stranger, http.StatusForbidden, `"error":"forbidden"`},
		{"MeNobody", "GET", "/api/me", "", http.StatusUnauthorized, `"error":"unauthorized"`},
		{"MeBasic", "GET", "/api/me", "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=", http.StatusUnauthorized, `"requestId"`},
		{"XAPIBearer", "GET", "/xapi/statements", "Bearer " + tok, http.StatusUnauthorized, ""},
		{"XAPIBearerPost", "POST", "/xapi/statements", "Bearer " + tok, http.StatusUnauthorized, ""},
		{"XAPIBasic", "GET", "/xapi/statements", "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=", http.StatusOK, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("[]"))
			req.Header.Set("X-Experience-API-Version", "1.0.3")
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("%s %s: %d %s, want %d with %s", tt.method, tt.path, res.StatusCode, b, tt.want, tt.wantBody)
			}
		})
	}
	t.Run("Browser", func(t *testing.T) {
		op.SignInAs(map[string]any{"urn:mpass.id:uid": person, "urn:mpass.id:role": []any{"Espoo;1;7B;1"},
			"urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do := func(method, u string, header map[string]string, want int) *http.Response {
			t.Helper()
			req, _ := http.NewRequest(method, u, nil)
			for k, v := range header {
				req.Header.Set(k, v)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != want {
				t.Fatalf("%s %s: %d, want %d", method, u, res.StatusCode, want)
			}
			return res
		}
		do("GET", srv.URL+"/auth/login?return="+url.QueryEscape("//evil.example"), nil, http.StatusBadRequest)
		res := do("GET", srv.URL+"/auth/login?return=/ui/", nil, http.StatusFound)
		res = do("GET", res.Header.Get("Location"), nil, http.StatusFound) // the provider
		cb := res.Header.Get("Location")
		do("GET", cb, nil, http.StatusSeeOther)
		do("GET", cb, nil, http.StatusBadRequest) // once only
		req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Role, CSRFToken string
		}
		json.NewDecoder(res.Body).Decode(&m)
		res.Body.Close()
		if m.Role != "learner" || m.CSRFToken == "" {
			t.Fatalf("GET /api/me: %d %+v", res.StatusCode, m)
		}
		do("POST", srv.URL+"/auth/logout", nil, http.StatusForbidden)
		do("POST", srv.URL+"/auth/logout", map[string]string{"X-CSRF-Token": m.CSRFToken, "Accept": "application/json"}, http.StatusOK)
		do("GET", srv.URL+"/api/me", nil, http.StatusUnauthorized)
	})
	if !strings.Contains(logs.String(), "sign-in refused") || strings.Contains(logs.String(), person) {
		t.Errorf("logs: want the refusal without the person id:\n%s", logs.String())
	}
}
