package lrs_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestServer_ClientGoneIsNotAFault: a request whose client went away
// before it was answered is logged as closed by the client (499, info),
// not as an internal error.
func TestServer_ClientGoneIsNotAFault(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := lrs.Bootstrap(t.Context(), store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := lrs.New(lrs.Config{Store: store, Logger: zerolog.New(&logs)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/xapi/statements", nil).WithContext(ctx)
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	h.ServeHTTP(httptest.NewRecorder(), req)
	line := logs.String()
	if !strings.Contains(line, `"status":499`) || strings.Contains(line, `"level":"error"`) {
		t.Errorf("log of a request whose client went away: %q; want status 499 at level info", line)
	}
}
