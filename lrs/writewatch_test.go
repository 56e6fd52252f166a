package lrs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store}))
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
