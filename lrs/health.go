package lrs

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// handleReady serves GET /readyz: 200 when the LRS can take writes (the
// store answers and its latest write did not fail for want of room or
// reach), 503 with the reason otherwise. What Config.Ready reports (a
// failing sink) is in the body of a 200, and a 503 only with
// Config.ReadyRequiresSinks: the store keeps what a sink has yet to take.
// What Config.ReadyNotes says is in the body and never makes a 503.
func (s *Server) handleReady(c *gin.Context) {
	if _, err := s.store.ConsistentThrough(c.Request.Context(), ""); err != nil {
		s.log.Warn().Err(err).Msg("not ready: store")
		c.Data(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("store: unavailable\n"))
		return
	}
	if reason, since := s.writes.failing(); reason != "" {
		msg := fmt.Sprintf("store: cannot write since %s: %s\n", since.UTC().Format(time.RFC3339), reason)
		c.Data(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte(msg))
		return
	}
	notes := ""
	if s.readyNotes != nil {
		if n := s.readyNotes(); n != "" {
			notes = "; " + n
		}
	}
	if s.ready != nil {
		if err := s.ready(); err != nil {
			status := http.StatusOK
			if s.readyRequiresSinks {
				status = http.StatusServiceUnavailable
			}
			c.Data(status, "text/plain; charset=utf-8", []byte("ready to take writes; "+err.Error()+notes+"\n"))
			return
		}
	}
	if notes != "" {
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("ready to take writes"+notes+"\n"))
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("ready\n"))
}
