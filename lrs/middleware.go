package lrs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/digione/lrs/statements"
)

// Keys of values a request carries through the handler chain.
const (
	ctxRequestID    = "lrs.requestID"
	ctxVersion      = "lrs.version"
	ctxCredential   = "lrs.credential"
	ctxError        = "lrs.error"
	ctxStatus       = "lrs.status"
	ctxConsistent   = "lrs.consistentThrough"
	ctxTenantOrigin = "lrs.tenantOrigin" // an Origin a tenant, not the server, lists
)

// xAPI versions the LRS speaks; a request names one in its header.
const (
	Version103 = "1.0.3"
	Version200 = "2.0.0"
)

const versionHeader = "X-Experience-API-Version"

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 {
		return id
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestIDOf(c *gin.Context) string { return c.GetString(ctxRequestID) }

func versionOf(c *gin.Context) string { return c.GetString(ctxVersion) }

// requestLog gives the request an id and logs one line when it is done.
// The log names no learner: it carries no query string and no body.
func (s *Server) requestLog(c *gin.Context) {
	start := s.now()
	s.prom.inFlight.Inc()
	defer s.prom.inFlight.Dec()
	rid := requestID(c.Request)
	c.Set(ctxRequestID, rid)
	c.Header("X-Request-Id", rid)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
	var err error
	if v, ok := c.Get(ctxError); ok {
		err, _ = v.(error)
	}
	status := c.Writer.Status()
	if c.GetInt(ctxStatus) == statusClientClosed {
		status = statusClientClosed
	}
	s.prom.observe(c, status, s.now().Sub(start))
	ev := s.requestEvent(c.Request, rid, status, start, err)
	if cred := credentialOf(c); cred != nil {
		ev = ev.Str("tenant", cred.Tenant).Str("credential", cred.Key)
	}
	ev.Str("client", c.ClientIP()).Msg("request")
}

func (s *Server) logRequest(r *http.Request, rid string, status int, start time.Time, err error) {
	s.requestEvent(r, rid, status, start, err).Msg("request")
}

// requestEvent is the log line of a request: its id, method, path (never
// the query or body), status and duration, and for a 4xx the rule it broke
// (the message of the error: a JSON path and a rule, never a value) and
// for a 5xx the cause.
func (s *Server) requestEvent(r *http.Request, rid string, status int, start time.Time, err error) *zerolog.Event {
	ev := s.log.Info()
	switch {
	case status >= 500 && status != statusClientClosed:
		ev = s.log.Error().Err(err)
	case status >= 400 && err != nil:
		if de, _ := asDomainError(err); de != nil {
			ev = ev.Str("error", de.Code).Str("rule", truncate(de.Message, 300))
		}
	}
	return withTraceID(ev, r).Str("request_id", rid).Str("method", r.Method).Str("path", r.URL.Path).
		Int("status", status).Float64("duration_ms", float64(s.now().Sub(start).Microseconds())/1000)
}

// truncate cuts s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// recoverer turns a panic in a handler into a 500 with the request id;
// http.ErrAbortHandler (see cutShort) goes on to drop the connection.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.fail(c, statements.Internal(fmt.Errorf("panic: %v", p), "internal error"))
		}
	}()
	c.Next()
}

// cors lets browser-based content call the xAPI API: preflights are
// answered here, before version and credential checks. An origin listed
// in Config.CORSOrigins or by a tenant gets its origin back and
// credentials (a tenant's origin only with that tenant's credentials: see
// corsAfterLogin); without a server list, any other origin gets "*" and
// no credentials; otherwise it gets no CORS headers, and neither does
// any path outside /xapi/.
func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || !strings.HasPrefix(c.Request.URL.Path, "/xapi/") {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	norm := normalOrigin(origin)
	switch {
	case s.corsOrigins[norm]:
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	case s.tenantOrigins.listed(c.Request.Context(), norm):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		c.Set(ctxTenantOrigin, norm)
	case s.corsOrigins == nil:
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		c.Next()
		return
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Last-Modified, Content-Type, X-Experience-API-Version, X-Experience-API-Consistent-Through, X-Request-Id")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, X-Request-Id, Accept-Language")
		h.Set("Access-Control-Max-Age", "86400")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// announceVersion puts X-Experience-API-Version on every response: the
// version the request asked for when the LRS speaks it, else the latest.
// negotiateVersion refines it for the resources that require the header:
// a request that names no version the LRS speaks is answered in the
// version its credential declares.
func (s *Server) announceVersion(c *gin.Context) {
	v, err := negotiate(c.GetHeader(versionHeader))
	if err != nil {
		v = Version200
	}
	c.Header(versionHeader, v)
	c.Next()
}

// negotiateVersion picks the behaviour of the request from its
// X-Experience-API-Version header: 1.0.x gets 1.0.3, 2.0.x gets 2.0.0;
// anything else, or no header, is a 400.
func (s *Server) negotiateVersion(c *gin.Context) {
	v, err := negotiate(c.GetHeader(versionHeader))
	if err != nil {
		if d := s.declaredVersion(c); d != "" {
			c.Header(versionHeader, d)
		}
		s.fail(c, err)
		return
	}
	c.Set(ctxVersion, v)
	c.Next()
}

func negotiate(h string) (string, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return "", statements.Errorf(statements.EInvalid, "%s header: required (1.0.3 or 2.0.0)", versionHeader)
	case isVersion(h, "1.0"):
		return Version103, nil
	case isVersion(h, "2.0"):
		return Version200, nil
	}
	return "", statements.Errorf(statements.EInvalid, "%s header: version %q is not supported (1.0.3 or 2.0.0)", versionHeader, h)
}

// isVersion reports whether v is "<minor>" or "<minor>.<patch>" with a
// numeric patch.
func isVersion(v, minor string) bool {
	if v == minor {
		return true
	}
	rest, ok := strings.CutPrefix(v, minor+".")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
