package lrs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/digione/lrs/statements"
)

// xAPI scopes a credential can hold.
const (
	scopeAll                = "all"
	scopeAllRead            = "all/read"
	scopeStatementsWrite    = "statements/write"
	scopeStatementsRead     = "statements/read"
	scopeStatementsReadMine = "statements/read/mine"
	scopeState              = "state"
	scopeDefine             = "define"
	scopeProfile            = "profile"
)

// Scopes lists every scope a credential may be given.
var Scopes = []string{scopeAll, scopeAllRead, scopeStatementsWrite, scopeStatementsRead,
	scopeStatementsReadMine, scopeState, scopeDefine, scopeProfile}

// grants reports whether holding scope allows what want asks for.
func grants(held []string, want string) bool {
	for _, h := range held {
		switch {
		case h == want, h == scopeAll:
			return true
		case h == scopeAllRead && (want == scopeStatementsRead || want == scopeStatementsReadMine):
			return true
		case h == scopeStatementsRead && want == scopeStatementsReadMine:
			return true
		}
	}
	return false
}

// HashSecret returns the stored form of a credential secret a person
// chose: a bcrypt hash, slow to guess from if the store leaks.
func HashSecret(secret string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
}

// generatedPrefix marks the stored form of a generated secret.
const generatedPrefix = "$sha256$"

// generatedSecretLen is the length of the secrets the LRS generates:
// randomToken(32), 187 bits.
const generatedSecretLen = 32

// hashGenerated returns the stored form of a secret the LRS generated:
// its SHA-256. No one can guess 187 random bits, so a slow hash adds
// nothing; a fast one lets the LRS check every attempt at once, so the
// holder of the secret is never turned away because of others' failures.
func hashGenerated(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return []byte(generatedPrefix + hex.EncodeToString(sum[:]))
}

// isGenerated reports whether secret has the form of the secrets the LRS
// generates.
func isGenerated(secret string) bool {
	if len(secret) != generatedSecretLen {
		return false
	}
	for i := range len(secret) {
		if !strings.ContainsRune(tokenAlphabet, rune(secret[i])) {
			return false
		}
	}
	return true
}

// isFast reports whether a stored secret hash is a generated secret's.
func isFast(hash []byte) bool { return bytes.HasPrefix(hash, []byte(generatedPrefix)) }

// authenticator checks HTTP Basic credentials against the store. A
// verified key and secret are remembered for a while, so the slow hash is
// not paid on every request.
type authenticator struct {
	store statements.Store
	ttl   time.Duration
	now   func() time.Time
	// tenant looks up the tenant of a credential, for its state and
	// limits; nil: every tenant is enabled and has no limits of its own.
	tenant   func(ctx context.Context, id string) (*statements.Tenant, error)
	defaults statements.Limits

	hashing chan struct{} // slots of the bcrypt comparisons running; see hashSlots
	hashes  atomic.Int64  // bcrypt comparisons made

	mu       sync.Mutex
	gen      uint64 // bumped by forget: verifications begun before it are not cached
	cache    map[string]cachedCredential
	inflight map[[32]byte]*verification // by SHA-256 of key and secret
}

// principal is a verified credential with its effective limits.
type principal struct {
	cred    *statements.Credential
	limits  statements.Limits
	origins []string // the CORS origins of its tenant
}

// verification is a check of a key and secret under way: requests with
// the same credential wait for it instead of paying the slow hash again.
type verification struct {
	done chan struct{}
	p    *principal
	err  error
}

type cachedCredential struct {
	p       *principal
	secret  [32]byte // SHA-256 of the verified secret
	expires time.Time
}

func newAuthenticator(store statements.Store, ttl time.Duration, now func() time.Time) *authenticator {
	return &authenticator{store: store, ttl: ttl, now: now, cache: map[string]cachedCredential{}, hashing: make(chan struct{}, hashSlots()),
		inflight: map[[32]byte]*verification{}, defaults: DefaultLimits}
}

// forget drops the cached verification of key, or of every credential of
// tenant when key is "", so a change takes effect at the next request.
func (a *authenticator) forget(tenant, key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	for k, cc := range a.cache {
		if k == key || (key == "" && cc.p.cred.Tenant == tenant) {
			delete(a.cache, k)
		}
	}
}

var errBadCredential = statements.Errorf(statements.EUnauthorized, "Authorization: unknown key or wrong secret")

// verify returns the credential of key if secret is its secret.
func (a *authenticator) verify(ctx context.Context, key, secret string) (*statements.Credential, error) {
	p, err := a.principal(ctx, key, secret)
	if err != nil {
		return nil, err
	}
	return p.cred, nil
}

// principal returns the credential of key and its limits if secret is its
// secret.
func (a *authenticator) principal(ctx context.Context, key, secret string) (*principal, error) {
	sum := sha256.Sum256([]byte(secret))
	now := a.now()
	a.mu.Lock()
	cc, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(cc.expires) {
		if subtle.ConstantTimeCompare(cc.secret[:], sum[:]) == 1 {
			return cc.p, nil
		}
	}
	id := sha256.Sum256([]byte(key + "\x00" + secret))
	a.mu.Lock()
	if v, ok := a.inflight[id]; ok {
		a.mu.Unlock()
		select {
		case <-v.done:
			return v.p, v.err
		case <-ctx.Done():
			return nil, statements.Internal(ctx.Err(), "the request ended during authentication")
		}
	}
	v := &verification{done: make(chan struct{})}
	a.inflight[id] = v
	gen := a.gen
	a.mu.Unlock()

	v.p, v.err = a.check(ctx, key, secret)
	a.mu.Lock()
	delete(a.inflight, id)
	if v.err == nil && gen == a.gen {
		if len(a.cache) > 10000 {
			clear(a.cache)
		}
		a.cache[key] = cachedCredential{p: v.p, secret: sum, expires: now.Add(a.ttl)}
	}
	a.mu.Unlock()
	close(v.done)
	return v.p, v.err
}

// check looks the credential up and compares the secret with its hash,
// then checks its tenant.
func (a *authenticator) check(ctx context.Context, key, secret string) (*principal, error) {
	cred, err := a.store.Credential(ctx, key)
	if err != nil && statements.ErrorCode(err) != statements.ENotFound {
		return nil, err
	}
	// An unknown key and a revoked credential pay a comparison too: they
	// answer no faster than a wrong secret of a generated credential, so
	// timing does not tell which keys exist.
	hash := dummyFastHash
	if cred != nil && len(cred.SecretHash) > 0 {
		hash = cred.SecretHash
	}
	ok, err := a.compare(ctx, hash, secret)
	if err != nil {
		return nil, err
	}
	if !ok || cred == nil || cred.Revoked {
		return nil, errBadCredential
	}
	if !isFast(cred.SecretHash) && isGenerated(secret) {
		// A secret the LRS generated, stored before generated secrets were
		// kept as SHA-256: keep it so from now on. Failing, it stays bcrypt.
		up := *cred
		up.SecretHash = hashGenerated(secret)
		if a.store.UpdateCredential(ctx, up) == nil {
			cred = &up
		}
	}
	var tl statements.Limits
	var origins []string
	if a.tenant != nil {
		t, err := a.tenant(ctx, cred.Tenant)
		if statements.ErrorCode(err) == statements.ENotFound {
			return nil, statements.Errorf(statements.EForbidden, "Authorization: the tenant of this credential does not exist")
		}
		if err != nil {
			return nil, err
		}
		if t.Disabled {
			return nil, statements.Errorf(statements.EForbidden, "Authorization: the tenant of this credential is disabled")
		}
		tl, origins = t.Limits, t.CORSOrigins
	}
	return &principal{cred: cred, limits: cred.Limits.Over(tl).Over(a.defaults), origins: origins}, nil
}

// compare reports whether secret matches the bcrypt hash. At most
// hashSlots comparisons run at once, so a flood of wrong secrets, each
// costing a bcrypt, leaves processors to requests whose credential is
// cached.
func (a *authenticator) compare(ctx context.Context, hash []byte, secret string) (bool, error) {
	if isFast(hash) {
		a.hashes.Add(1)
		want := hashGenerated(secret)
		return subtle.ConstantTimeCompare(want, hash) == 1, nil
	}
	select {
	case a.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, statements.Errorf(statements.EUnavailable, "the request ended while waiting to check its credential")
	}
	defer func() { <-a.hashing }()
	a.hashes.Add(1)
	return bcrypt.CompareHashAndPassword(hash, []byte(secret)) == nil, nil
}

// hashSlots is how many bcrypt comparisons may run at once: half the
// processors, at least one.
func hashSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// dummyFastHash is a generated secret's hash no secret matches in
// practice, compared against for keys that do not exist.
var dummyFastHash = hashGenerated("no secret is this one, though it is compared")

// dummyHash is a bcrypt hash no secret matches in practice.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no secret is this one"), bcrypt.DefaultCost)
	return h
})

// authenticate requires a valid HTTP Basic credential.
func (s *Server) authenticate(c *gin.Context) {
	p, wait, err := s.login(c)
	switch {
	case wait > 0:
		s.prom.throttled.WithLabelValues("login").Inc()
		s.tooMany(c, wait, "Authorization: too many failed attempts; wait before trying again")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	c.Set(ctxCredential, p.cred)
	c.Set(ctxLimits, p.limits)
	s.corsAfterLogin(c, p.origins)
	c.Next()
}

// login checks the request's HTTP Basic credential. Failed attempts are
// logged, without the secret, and slowed down (see loginGuard): a wait
// above zero means the attempt was refused for that long.
func (s *Server) login(c *gin.Context) (*principal, time.Duration, error) {
	key, secret, ok := c.Request.BasicAuth()
	if !ok {
		return nil, 0, statements.Errorf(statements.EUnauthorized, "Authorization: HTTP Basic credentials required")
	}
	return s.loginWith(c, key, secret)
}

// loginWith checks key and secret as login does, however the request
// carried them.
func (s *Server) loginWith(c *gin.Context, key, secret string) (*principal, time.Duration, error) {
	addr := c.ClientIP()
	// Every attempt is checked, so the holder of the secret gets in
	// whatever others tried from the same address.
	wait := s.logins.wait(key, addr, s.now())
	p, err := s.auth.principal(c.Request.Context(), key, secret)
	if err == nil {
		s.logins.succeeded(key, addr)
		return p, 0, nil
	}
	if err != errBadCredential {
		return nil, 0, err
	}
	s.logins.failed(key, addr, s.now(), scaleLogins(s.replicas.Count()))
	s.prom.authFails.WithLabelValues("credential").Inc()
	if wait <= 0 {
		s.log.Warn().Str("request_id", requestIDOf(c)).Str("key", logKey(key)).Str("client", addr).
			Msg("login failed: unknown key, revoked credential or wrong secret")
		return nil, 0, err
	}
	// After too many failures, a wrong attempt is answered after a pause
	// (a second at most, so that it holds its connection only so long)
	// with the wait before the next.
	s.log.Warn().Str("request_id", requestIDOf(c)).Str("key", logKey(key)).Str("client", addr).
		Msg("login refused: too many failed attempts")
	select {
	case <-time.After(min(wait, s.loginPause)):
	case <-c.Request.Context().Done():
	}
	return nil, wait, nil
}

// DefaultLoginPause is the default Config.LoginPause.
const DefaultLoginPause = time.Second

// logKey returns a credential key as the logs show it: keys the LRS
// issues are 20 characters; anything past 40 is cut, so that no client
// can write megabytes into the log.
func logKey(key string) string {
	const max = 40
	if len(key) <= max {
		return key
	}
	return key[:max] + "…"
}

// declaredVersion returns the xAPI version the request's credential
// declares (Credential.XAPIVersion), or "" when it declares none or the
// request does not authenticate.
func (s *Server) declaredVersion(c *gin.Context) string {
	if _, _, ok := c.Request.BasicAuth(); !ok {
		return ""
	}
	p, _, err := s.login(c)
	if p == nil || err != nil {
		return ""
	}
	return p.cred.XAPIVersion
}

func credentialOf(c *gin.Context) *statements.Credential {
	v, _ := c.Get(ctxCredential)
	cred, _ := v.(*statements.Credential)
	return cred
}

// require lets the request through only if the credential holds a scope
// that grants want.
func (s *Server) require(want string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cred := credentialOf(c)
		if cred == nil || !grants(cred.Scopes, want) {
			s.fail(c, statements.Errorf(statements.EForbidden, "credential lacks scope %q", want))
			return
		}
		c.Next()
	}
}

// validScopes reports whether every scope is known.
func validScopes(scopes []string) bool {
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return false
		}
	}
	return len(scopes) > 0
}
