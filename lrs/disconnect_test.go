package lrs_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/lrs"
)

// TestServer_ClientGoneIsNotAFault: a request whose client went away
// before it was answered is logged as closed by the client (499, info),
// not as an internal error.
func TestServer_ClientGoneIsNotAFault(t *testing.T) {
	store := mustBootstrapped(t)
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
