package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/lrs/signin/oidctest"
)

// TestServe_RosterSync: the tenant of LRS_ONEROSTER_ROSTER_URL is synced
// on start by the schedule; /metrics shows it; a failing on-demand sync
// through the admin API keeps the roster and shows in /readyz, which
// stays 200.
func TestServe_RosterSync(t *testing.T) {
	or := onerostertest.New("lrs-client", "or-secret-e2e")
	defer or.Close()
	or.SetRoster(onerostertest.Roster{
		Orgs:        []map[string]any{onerostertest.Org("school", "School", "school", "")},
		Users:       []map[string]any{onerostertest.User("t1", "T", "T", "teacher", "school"), onerostertest.User("s1", "S", "S", "student", "school")},
		Classes:     []map[string]any{onerostertest.Class("c1", "7A", "school")},
		Enrollments: []map[string]any{onerostertest.Enrollment("e1", "c1", "t1", "teacher"), onerostertest.Enrollment("e2", "c1", "s1", "student")},
	})
	cfg, err := parseServeConfig([]string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "disabled"},
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret", "LRS_ADMIN_TOKEN": "admin-token",
			"LRS_ONEROSTER_URL": or.BaseURL(), "LRS_ONEROSTER_TOKEN_URL": or.TokenURL(), "LRS_ONEROSTER_CLIENT_ID": "lrs-client",
			"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-e2e", "LRS_ONEROSTER_ROSTER_URL": or.RosterURL()}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	base := "http://" + a.Addr()
	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := get("GET", "/metrics")
		if strings.Contains(m, `lrs_roster_last_success_timestamp_seconds{tenant="default"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled roster sync within 10 s; metrics:\n%s", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, b := get("GET", "/admin/tenants/default/oneroster/roster"); code != 200 || !strings.Contains(b, `"users":2`) {
		t.Errorf("roster: %d %s", code, b)
	}
	or.FailRosterPage("orgs", 0, http.StatusBadGateway)
	if code, b := get("POST", "/admin/tenants/default/oneroster/sync"); code != http.StatusServiceUnavailable || !strings.Contains(b, "status 502") {
		t.Errorf("failing sync: %d %s", code, b)
	}
	if code, b := get("GET", "/readyz"); code != 200 || !strings.Contains(b, "roster sync of tenant default failing") {
		t.Errorf("/readyz: %d %s", code, b)
	}
	if code, b := get("GET", "/admin/tenants/default/oneroster/roster"); code != 200 || !strings.Contains(b, `"users":2`) {
		t.Errorf("roster after the failing sync: %d %s", code, b)
	}
	if _, m := get("GET", "/metrics"); !strings.Contains(m, `lrs_roster_sync_total{outcome="failure"} 1`) || !strings.Contains(m, `lrs_roster_sync_failing{tenant="default"} 1`) {
		t.Errorf("metrics after the failing sync:\n%s", m)
	}
}

// TestServe_SignInByIdentityValues: a person whose tenant claim holds a
// value a tenant owns (lrs tenant update --identity-values) signs in to
// that tenant; a value no tenant owns is refused.
func TestServe_SignInByIdentityValues(t *testing.T) {
	op := oidctest.Start(t)
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo", "--identity-values", "1.2.246.562.10.1")
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: dir, Store: "sqlite", LogLevel: "disabled",
		signInConfig: signInConfig{OIDCIssuer: op.URL, OIDCClientID: "lrs", OIDCClientSecret: "lrs-secret", PublicURL: "http://127.0.0.1:1"}}
	a := startApp(t, cfg, io.Discard)
	base := "http://" + a.Addr()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for !a.people.Ready() && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(provider string) (int, *jarless) {
		t.Helper()
		op.SignInAs(map[string]any{"urn:mpass.id:uid": "p-1", "urn:mpass.id:role": "Espoo;00001;7A;2",
			"urn:mpass.id:educationProviderId": provider})
		jar := &jarless{}
		res, err := noRedirect.Get(base + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		jar.take(res)
		if res, err = noRedirect.Get(res.Header.Get("Location")); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		cb, _ := url.Parse(res.Header.Get("Location"))
		req, _ := http.NewRequest("GET", base+"/auth/callback?"+cb.RawQuery, nil)
		jar.give(req)
		if res, err = noRedirect.Do(req); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		jar.take(res)
		return res.StatusCode, jar
	}
	code, jar := signIn("1.2.246.562.10.1")
	if code >= 400 {
		t.Fatalf("sign-in with espoo's value: %d", code)
	}
	req, _ := http.NewRequest("GET", base+"/api/me", nil)
	jar.give(req)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"tenant":"espoo"`) {
		t.Errorf("/api/me: %d %s, want tenant espoo", res.StatusCode, b)
	}
	if code, _ := signIn("1.2.246.562.10.999"); code != http.StatusForbidden {
		t.Errorf("sign-in with a value no tenant owns: %d, want 403", code)
	}
}
