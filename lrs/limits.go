package lrs

import (
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// DefaultLimits are the limits of a credential when neither it nor its
// tenant sets them. They stop a runaway or hostile client without touching
// a legitimate heavy one: a vendor app's one credential serves every
// learner of a municipality, so its rate allows a lesson start of
// thousands of requests, and a batch is twice the largest page of a query.
var DefaultLimits = statements.Limits{
	Rate:       1000,                // requests per second
	Burst:      5000,                // requests at once
	Batch:      1000,                // statements per POST
	QueryLimit: statements.MaxLimit, // statements per page
	BodyBytes:  -1,                  // only Config.MaxBodyBytes
}

// Unlimited are the limits of the bootstrap credential: none.
var Unlimited = statements.Limits{Rate: -1, Burst: -1, Batch: -1, QueryLimit: -1, BodyBytes: -1}

// ctxLimits is the key of the request credential's statements.Limits.
const ctxLimits = "lrs.limits"

// limitsOf returns the limits of the request's credential.
func limitsOf(c *gin.Context) statements.Limits {
	v, ok := c.Get(ctxLimits)
	if !ok {
		return DefaultLimits
	}
	return v.(statements.Limits)
}

// rateLimiter keeps a token bucket per credential key.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64
	burst  float64
}

func newRateLimiter() *rateLimiter { return &rateLimiter{buckets: map[string]*bucket{}} }

// allow takes a token of key's bucket; when there is none it returns how
// long until there is one.
func (r *rateLimiter) allow(key string, l statements.Limits, now time.Time) (bool, time.Duration) {
	if l.Rate < 0 {
		return true, 0
	}
	burst := float64(l.Burst)
	if l.Burst < 0 {
		burst = math.Inf(1)
	}
	burst = max(burst, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[key]
	if b == nil {
		if len(r.buckets) > 100000 {
			clear(r.buckets)
		}
		b = &bucket{tokens: burst, last: now, rate: l.Rate, burst: burst}
		r.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.rate != l.Rate || b.burst != burst {
		// The limits changed (by an operator, or with the replica count):
		// the bucket keeps how full it was, so that a change never hands
		// out a fresh burst.
		if math.IsInf(b.burst, 1) || math.IsInf(burst, 1) {
			b.tokens = burst
		} else {
			b.tokens = b.tokens / b.burst * burst
		}
		b.rate, b.burst = l.Rate, burst
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	if b.rate <= 0 {
		return false, time.Hour
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

func (r *rateLimiter) forget(key string) {
	r.mu.Lock()
	delete(r.buckets, key)
	r.mu.Unlock()
}

// limit enforces the credential's rate and body size limits. Its rate
// and burst are the deployment's: each of n replicas lets through an n-th
// of them (see perReplica).
func (s *Server) limit(c *gin.Context) {
	cred, l := credentialOf(c), limitsOf(c)
	n := s.replicas.Count()
	if ok, wait := s.rates.allow(cred.Key, perReplica(l, n), s.now()); !ok {
		s.prom.throttled.WithLabelValues("rate").Inc()
		msg := "rate limit of this credential exceeded (" + strconv.FormatFloat(l.Rate, 'f', -1, 64) + " requests per second"
		if n > 1 {
			msg += " across " + strconv.Itoa(n) + " LRS replicas"
		}
		s.tooMany(c, wait, msg+")")
		return
	}
	limit := s.bodyLimit(l)
	if c.Request.ContentLength > limit {
		if l.BodyBytes > 0 {
			s.fail(c, statements.Errorf(statements.ETooLarge, "body: larger than this credential's limit of %d bytes", limit))
		} else {
			s.fail(c, statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", limit))
		}
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// bodyLimit is the most bytes a request body of a credential with limits
// l may have: its bodyBytes, or where it sets none, Config.MaxBodyBytes.
// A body the LRS holds in memory whole (JSON, a document, the statements
// part of a multipart/mixed body) is also never larger than
// Config.MaxBodyBytes; attachment parts are not held in memory.
func (s *Server) bodyLimit(l statements.Limits) int64 {
	if l.BodyBytes > 0 {
		return l.BodyBytes
	}
	return s.maxBody
}

// readPiece is the most bytes readBody reads at once.
const readPiece = 32 << 10

// errOverLimit is readBody's error for a body over its limit.
var errOverLimit = errors.New("over the limit")

// readBody reads r to its end, at most limit bytes (more: errOverLimit).
// With batch > 0 it counts the statements of a JSON array as they arrive
// and stops with ETooLarge at statement batch+1, without reading the rest.
func readBody(r io.Reader, limit int64, batch int) ([]byte, error) {
	var count batchCounter
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+readPiece)])
		if batch > 0 && count.add(buf[len(buf):len(buf)+n]) > batch {
			return nil, statements.Errorf(statements.ETooLarge, "body: over this credential's limit of %d statements per request", batch)
		}
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errOverLimit
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// batchCounter counts the elements of a top-level JSON array as its bytes
// arrive, without decoding them: it follows only strings and nesting.
// What it counts of bytes that are not JSON does not matter: validation
// refuses them.
type batchCounter struct {
	n        int
	depth    int
	array    bool // the body is an array
	str, esc bool // in a string; after a backslash in it
	expect   bool // an element starts at the next byte that is not space or ']'
}

// add counts the elements that start in p and returns the count so far.
func (b *batchCounter) add(p []byte) int {
	for _, c := range p {
		if b.str {
			switch {
			case b.esc:
				b.esc = false
			case c == '\\':
				b.esc = true
			case c == '"':
				b.str = false
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if b.expect && c != ']' {
			b.n++
		}
		b.expect = false
		switch c {
		case '"':
			b.str = true
		case '[':
			if b.depth == 0 && !b.array {
				b.array, b.expect = true, true
			}
			b.depth++
		case '{':
			b.depth++
		case ']', '}':
			b.depth--
		case ',':
			b.expect = b.array && b.depth == 1
		}
	}
	return b.n
}

// tooMany answers 429 with Retry-After.
func (s *Server) tooMany(c *gin.Context, wait time.Duration, msg string) {
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
	s.fail(c, statements.Errorf(statements.ETooMany, "%s", msg))
}

// Failed logins. Each (key, client address) pair, and each client address,
// may fail a few times freely; after that a failed attempt is told to
// wait, twice as long after each further failure (see Server.login: every
// attempt is still checked, so the holder of the secret is never locked
// out; only wrong guesses are answered 429 after a pause). On one of n
// replicas the free failures are an n-th and the waits n times as long
// (see scaleLogins): the failures are kept in each process, and spread
// over n of them they allow what one would.
//
// What is kept is bounded whatever clients send: a failure is kept under a
// digest of the key and address (never the key itself), and at most
// maxLoginFailures of them are kept; past that the oldest are dropped.
const (
	freeKeyFailures  = 5
	freeAddrFailures = 50
	maxLoginBackoff  = 15 * time.Minute
	maxLoginFailures = 100000
)

type loginGuard struct {
	mu       sync.Mutex
	failures map[[32]byte]*failure // by failureID of key and address, and of address alone
}

// failureID is the key of the failures of key (with keyed) from addr.
func failureID(keyed bool, key, addr string) [32]byte {
	h := sha256.New()
	if keyed {
		h.Write([]byte{'k'})
		h.Write([]byte(key))
	} else {
		h.Write([]byte{'a'})
	}
	h.Write([]byte{0})
	h.Write([]byte(addr))
	var id [32]byte
	h.Sum(id[:0])
	return id
}

type failure struct {
	n     int
	until time.Time // failed attempts before it are told to wait
	last  time.Time
}

func newLoginGuard() *loginGuard {
	return &loginGuard{failures: map[[32]byte]*failure{}}
}

// wait returns how long the failures of key from addr make the client
// wait; 0 when it need not.
func (g *loginGuard) wait(key, addr string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	var w time.Duration
	for _, k := range [][32]byte{failureID(true, key, addr), failureID(false, "", addr)} {
		if f := g.failures[k]; f != nil && now.Before(f.until) {
			w = max(w, f.until.Sub(now))
		}
	}
	return w
}

// failed records a failed attempt, with the free failures and waits of
// sc.
func (g *loginGuard) failed(key, addr string, now time.Time, sc loginScale) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.failures) >= maxLoginFailures {
		g.prune(now, sc.max)
	}
	for k, free := range map[[32]byte]int{failureID(true, key, addr): sc.freeKey, failureID(false, "", addr): sc.freeAddr} {
		f := g.failures[k]
		if f == nil || now.Sub(f.last) > sc.max {
			f = &failure{}
			g.failures[k] = f
		}
		f.n++
		f.last = now
		if f.n > free {
			d := sc.backoff << min(f.n-free-1, 20)
			f.until = now.Add(min(d, sc.max))
		}
	}
}

// prune drops the failures that no longer count (none for longer than
// keep) and, when that is not enough, the oldest half of the rest.
func (g *loginGuard) prune(now time.Time, keep time.Duration) {
	var lasts []time.Time
	for k, f := range g.failures {
		if now.Sub(f.last) > keep {
			delete(g.failures, k)
		} else {
			lasts = append(lasts, f.last)
		}
	}
	if len(g.failures) < maxLoginFailures*3/4 {
		return
	}
	slices.SortFunc(lasts, func(a, b time.Time) int { return a.Compare(b) })
	cut := lasts[len(lasts)/2]
	for k, f := range g.failures {
		if !f.last.After(cut) {
			delete(g.failures, k)
		}
	}
}

// succeeded forgives the failures of key from addr.
func (g *loginGuard) succeeded(key, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.failures, failureID(true, key, addr))
}
