package conformance

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// startLRS starts the LRS in process, on the embedded store in a temporary
// directory, and returns a Config that reaches it with a credential of
// scope "all".
func startLRS(t *testing.T) Config {
	t.Helper()
	store, err := sqlitestore.New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return serveLRS(t, store)
}

// serveLRS serves the LRS in process on store, closed at the end of the
// test, and returns a Config that reaches it with a credential of scope
// "all".
func serveLRS(t *testing.T, store statements.Store) Config {
	t.Helper()
	ctx := context.Background()
	boot, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: "conformance", Secret: "conformance-secret"}, time.Now())
	if err != nil || boot == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store}))
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	return Config{Endpoint: srv.URL + "/xapi/", Key: boot.Key, Secret: "conformance-secret"}
}
