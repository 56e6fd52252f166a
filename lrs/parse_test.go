package lrs

import (
	"context"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gin-gonic/gin"
)

// A request waiting for a parsing slot gives up when it ends, and a
// released slot is taken by the next request.
func TestParseSlot(t *testing.T) {
	if got, want := parseSlots(), max(1, runtime.GOMAXPROCS(0)-1); got != want {
		t.Errorf("parseSlots() = %d, want %d", got, want)
	}
	s := &Server{parsing: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/xapi/statements", nil).WithContext(ctx)

	release, err := s.parseSlot(c)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.parseSlot(c)
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a request that ended while waiting got a slot")
	}
	release()

	c.Request = httptest.NewRequest("POST", "/xapi/statements", nil)
	release, err = s.parseSlot(c)
	if err != nil {
		t.Fatalf("the released slot was not free: %v", err)
	}
	release()
}
