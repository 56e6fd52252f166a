package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// fullStore is the embedded store with a disk that can be made full: its
// writes then fail as the store's own do when the disk has no room.
type fullStore struct {
	statements.Store
	full atomic.Bool
}

func (s *fullStore) InsertStatements(ctx context.Context, tenant string, recs []*statements.Record) error {
	if s.full.Load() {
		return &statements.Error{Code: statements.EUnavailable, Message: "cannot store statements: the store's disk is full"}
	}
	return s.Store.InsertStatements(ctx, tenant, recs)
}

// TestServer_StoreCannotWrite: a write the store has no room for is a 503
// with Retry-After that says why, and /readyz says the store cannot write
// until a write succeeds again.
func TestServer_StoreCannotWrite(t *testing.T) {
	ctx := context.Background()
	inner, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &fullStore{Store: inner}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store})))
	t.Cleanup(func() { srv.Close(); inner.Close() })
	auth := testKey + ":" + testSecret
	post := func() (int, http.Header, string) {
		t.Helper()
		got, h, b := call(t, srv, "POST", "/xapi/statements", auth, `{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://example.fi/v"},"object":{"id":"http://example.fi/a"}}`)
		return got, h, string(b)
	}
	ready := func() (int, string) {
		t.Helper()
		got, _, b := call(t, srv, "GET", "/readyz", "", "")
		return got, string(b)
	}

	store.full.Store(true)
	if got, h, b := post(); got != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(b, "disk is full") {
		t.Errorf("POST on a full disk: %d, Retry-After %q, %s; want 503 with Retry-After saying the disk is full", got, h.Get("Retry-After"), b)
	}
	if got, b := ready(); got != http.StatusServiceUnavailable || !strings.Contains(b, "cannot write") {
		t.Errorf("/readyz on a full disk: %d %s; want 503 saying the store cannot write", got, b)
	}
	store.full.Store(false)
	if got, _, b := post(); got != http.StatusOK {
		t.Errorf("POST with room again: %d %s", got, b)
	}
	if got, b := ready(); got != http.StatusOK {
		t.Errorf("/readyz after a write succeeded: %d %s", got, b)
	}
}

// TestServer_ReadyMeansWrites: a failing sink is reported in /readyz's
// body but keeps it 200, unless ReadyRequiresSinks.
func TestServer_ReadyMeansWrites(t *testing.T) {
	for _, requires := range []bool{false, true} {
		store, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, ReadyRequiresSinks: requires,
			Ready: func() error { return errors.New("sink kafka failing since 2026-12-01T10:00:00Z: connection refused") }})))
		got, _, b := call(t, srv, "GET", "/readyz", "", "")
		want := http.StatusOK
		if requires {
			want = http.StatusServiceUnavailable
		}
		if got != want || !strings.Contains(string(b), "sink kafka failing") {
			t.Errorf("ReadyRequiresSinks %v: /readyz %d %q; want %d naming the sink", requires, got, b, want)
		}
		srv.Close()
		store.Close()
	}
}

// TestServer_Internal: with Config.Internal, /metrics and /admin/ are
// served by Internal() only.
func TestServer_Internal(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	s := lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, Internal: true,
		Metrics: func(w io.Writer) error { _, err := io.WriteString(w, "lrs_up 1\n"); return err }})
	public, internal := httptest.NewServer(withContract(t, s)), httptest.NewServer(withContract(t, s.Internal()))
	defer public.Close()
	defer internal.Close()
	for _, path := range []string{"/metrics", "/admin/tenants"} {
		if got, _, _ := call(t, public, "GET", path, bearer, ""); got != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, got)
		}
		if got, _, b := call(t, internal, "GET", path, bearer, ""); got != http.StatusOK {
			t.Errorf("internal %s: %d %s, want 200", path, got, b)
		}
	}
	for _, srv := range []*httptest.Server{public, internal} {
		if got, _, _ := call(t, srv, "GET", "/healthz", "", ""); got != http.StatusOK {
			t.Errorf("%s/healthz: %d", srv.URL, got)
		}
	}
	if got, _, _ := call(t, internal, "GET", "/xapi/about", "", ""); got != http.StatusNotFound {
		t.Errorf("internal /xapi/about: %d, want 404", got)
	}
	if lrs.New(lrs.Config{Store: store}).Internal() != nil {
		t.Error("Internal() without Config.Internal is not nil")
	}
}

// TestAbout_ProductVersion: /xapi/about names the product and its version
// in an extension.
func TestAbout_ProductVersion(t *testing.T) {
	srv := MustOpenServer(t)
	_, _, b := call(t, srv, "GET", "/xapi/about", "", "")
	var about struct {
		Version    []string
		Extensions map[string]struct{ Name, Version string }
	}
	if err := json.Unmarshal(b, &about); err != nil {
		t.Fatal(err)
	}
	p := about.Extensions["https://lrs.digione.fi/xapi/extensions/product"]
	if len(about.Version) != 2 || p.Name != "DigiOne LRS" || p.Version == "" || p.Version != lrs.ProductVersion() {
		t.Errorf("about: %s", b)
	}
}

// TestMetrics: /metrics counts requests by route template, stored
// statements by tenant, failed logins and throttles, carries the build
// and runtime metrics, and appends Config.Metrics.
func TestMetrics(t *testing.T) {
	store := mustBootstrapped(t)
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store,
		Metrics: func(w io.Writer) error { _, err := io.WriteString(w, "lrs_relay_test_metric 7\n"); return err }})))
	defer srv.Close()
	auth := testKey + ":" + testSecret
	one := `{"actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`
	mustCall(t, srv, "POST", "/xapi/statements", auth, "["+one+","+one+"]", http.StatusOK)
	call(t, srv, "GET", "/xapi/statements?statementId=00000000-0000-4000-8000-000000000000", auth, "")
	call(t, srv, "GET", "/xapi/statements", testKey+":wrong", "")
	_, h, b := call(t, srv, "GET", "/metrics", "", "")
	for _, want := range []string{
		`lrs_http_requests_total{method="POST",route="/xapi/statements",status="200"} 1`,
		`lrs_http_requests_total{method="GET",route="/xapi/statements",status="404"} 1`,
		`lrs_http_request_duration_seconds_bucket{method="POST",route="/xapi/statements",le="+Inf"} 1`,
		`lrs_statements_stored_total{tenant="default"} 2`,
		`lrs_auth_failures_total{kind="credential"} 1`,
		`lrs_http_requests_in_flight 1`,
		`lrs_build_info{goversion="`,
		"go_goroutines ",
		"lrs_relay_test_metric 7",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
}

// mustBootstrapped opens an embedded store in a temporary directory,
// closed at the end of the test, with the test credential.
func mustBootstrapped(tb testing.TB) *sqlitestore.Store {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := lrs.Bootstrap(tb.Context(), store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return store
}

// TestServer_RequestLog: a request's log line names its tenant,
// credential and client, its duration in milliseconds and, for a 4xx, the
// rule it broke, and never the body or a learner's identifier.
func TestServer_RequestLog(t *testing.T) {
	store := mustBootstrapped(t)
	var logs bytes.Buffer
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Logger: zerolog.New(&logs)})))
	defer srv.Close()
	call(t, srv, "POST", "/xapi/statements", testKey+":"+testSecret,
		`{"actor":{"mbox":"secret-learner@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`)
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	for k, want := range map[string]any{"tenant": "default", "credential": testKey, "client": "127.0.0.1", "status": float64(400), "error": "invalid"} {
		if line[k] != want {
			t.Errorf("log field %s = %v, want %v", k, line[k], want)
		}
	}
	if rule, _ := line["rule"].(string); !strings.Contains(rule, "/actor/mbox") {
		t.Errorf("log rule %q, want the JSON path", rule)
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("log has no duration_ms: %s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-learner") {
		t.Errorf("the log names the learner: %s", logs.String())
	}
}
