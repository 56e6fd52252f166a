package conformance

import (
	"context"
	"net/http"
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
	return startTestLRS(t, nil).Config
}

// serveLRS serves the LRS in process on store, closed at the end of the
// test, and returns a Config that reaches it with a credential of scope
// "all".
func serveLRS(t *testing.T, store statements.Store) Config {
	t.Helper()
	return serveTestLRS(t, store, nil).Config
}

// testLRS is an LRS served in process for one test.
type testLRS struct {
	// Config reaches it with a credential of scope "all".
	Config
	admin *lrs.Admin
}

// startTestLRS serves the LRS on the embedded store in a temporary
// directory; wrap, when not nil, wraps its handler.
func startTestLRS(t *testing.T, wrap func(http.Handler) http.Handler) *testLRS {
	t.Helper()
	store, err := sqlitestore.New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return serveTestLRS(t, store, wrap)
}

func serveTestLRS(t *testing.T, store statements.Store, wrap func(http.Handler) http.Handler) *testLRS {
	t.Helper()
	ctx := context.Background()
	boot, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: "conformance", Secret: "conformance-secret"}, time.Now())
	if err != nil || boot == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var h http.Handler = lrs.New(lrs.Config{Store: store})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	l := &testLRS{Config: Config{Endpoint: srv.URL + "/xapi/", Key: boot.Key, Secret: "conformance-secret"}}
	if as, ok := store.(statements.AdminStore); ok {
		l.admin = &lrs.Admin{Store: store, Admin: as}
	}
	return l
}

// appCredential creates a credential of the scopes for the vendor app
// "Vendor A", as `lrs credential create --app` does, and returns a Config
// that reaches the LRS with it.
func (l *testLRS) appCredential(t *testing.T, scopes ...string) Config {
	t.Helper()
	if l.admin == nil {
		t.Fatal("the store keeps no credentials of its own")
	}
	cred, secret, err := l.admin.CreateCredential(context.Background(), "test",
		lrs.NewCredential{Tenant: lrs.DefaultTenant, Scopes: scopes, App: "Vendor A"})
	if err != nil {
		t.Fatalf("create credential: %v", err)
	}
	cfg := l.Config
	cfg.Key, cfg.Secret = cred.Key, secret
	return cfg
}
