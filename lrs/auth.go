package lrs

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"sync"
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

// HashSecret returns the stored form of a credential secret.
func HashSecret(secret string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
}

// authenticator checks HTTP Basic credentials against the store. A
// verified key and secret are remembered for a while, so the slow hash is
// not paid on every request.
type authenticator struct {
	store statements.Store
	ttl   time.Duration
	now   func() time.Time

	mu       sync.Mutex
	cache    map[string]cachedCredential
	inflight map[[32]byte]*verification // by SHA-256 of key and secret
}

// verification is a check of a key and secret under way: requests with
// the same credential wait for it instead of paying the slow hash again.
type verification struct {
	done chan struct{}
	cred *statements.Credential
	err  error
}

type cachedCredential struct {
	cred    *statements.Credential
	secret  [32]byte // SHA-256 of the verified secret
	expires time.Time
}

func newAuthenticator(store statements.Store, ttl time.Duration, now func() time.Time) *authenticator {
	return &authenticator{store: store, ttl: ttl, now: now, cache: map[string]cachedCredential{},
		inflight: map[[32]byte]*verification{}}
}

var errBadCredential = statements.Errorf(statements.EUnauthorized, "Authorization: unknown key or wrong secret")

// verify returns the credential of key if secret is its secret.
func (a *authenticator) verify(ctx context.Context, key, secret string) (*statements.Credential, error) {
	sum := sha256.Sum256([]byte(secret))
	now := a.now()
	a.mu.Lock()
	cc, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(cc.expires) {
		if subtle.ConstantTimeCompare(cc.secret[:], sum[:]) == 1 {
			return cc.cred, nil
		}
	}
	id := sha256.Sum256([]byte(key + "\x00" + secret))
	a.mu.Lock()
	if v, ok := a.inflight[id]; ok {
		a.mu.Unlock()
		select {
		case <-v.done:
			return v.cred, v.err
		case <-ctx.Done():
			return nil, statements.Internal(ctx.Err(), "the request ended during authentication")
		}
	}
	v := &verification{done: make(chan struct{})}
	a.inflight[id] = v
	a.mu.Unlock()

	v.cred, v.err = a.check(ctx, key, secret)
	a.mu.Lock()
	delete(a.inflight, id)
	if v.err == nil {
		if len(a.cache) > 10000 {
			clear(a.cache)
		}
		a.cache[key] = cachedCredential{cred: v.cred, secret: sum, expires: now.Add(a.ttl)}
	}
	a.mu.Unlock()
	close(v.done)
	return v.cred, v.err
}

// check looks the credential up and compares the secret with its hash.
func (a *authenticator) check(ctx context.Context, key, secret string) (*statements.Credential, error) {
	cred, err := a.store.Credential(ctx, key)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, errBadCredential
	}
	if err != nil {
		return nil, err
	}
	if cred.Revoked {
		return nil, errBadCredential
	}
	if bcrypt.CompareHashAndPassword(cred.SecretHash, []byte(secret)) != nil {
		return nil, errBadCredential
	}
	return cred, nil
}

// authenticate requires a valid HTTP Basic credential.
func (s *Server) authenticate(c *gin.Context) {
	key, secret, ok := c.Request.BasicAuth()
	if !ok {
		s.fail(c, statements.Errorf(statements.EUnauthorized, "Authorization: HTTP Basic credentials required"))
		return
	}
	cred, err := s.auth.verify(c.Request.Context(), key, secret)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxCredential, cred)
	c.Next()
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
