// Package oidctest runs a real OpenID Connect provider over HTTP on
// 127.0.0.1 for tests: discovery, a JWKS with RS256 keys (rotatable),
// an authorization endpoint that signs in a chosen person without a form,
// a token endpoint with client_secret_basic and client_secret_post, PKCE
// S256, single-use codes that expire, userinfo, and an
// end_session_endpoint. Switches make it misbehave the ways a relying
// party must notice. It imports only go-jose and the standard library.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Provider is a running test provider. Its fields are set before the
// sign-in they should affect; they are read under its lock.
type Provider struct {
	URL          string // the issuer, http://127.0.0.1:port
	ClientID     string
	ClientSecret string

	mu     sync.Mutex
	srv    *httptest.Server
	keys   []*jose.JSONWebKey // keys[0] signs; all are published
	stray  *jose.JSONWebKey   // a key never published
	claims map[string]any
	codes  map[string]*grant
	m      Misbehave
	now    func() time.Time

	// Authorizations counts the requests to /authorize, Exchanges the
	// codes the token endpoint answered, KeyFetches the requests to the
	// JWKS. Read them under no lock only when no request is under way.
	Authorizations, Exchanges, KeyFetches int
}

// Misbehave makes the provider's ID tokens or exchanges wrong one way.
type Misbehave struct {
	Audience         string        // aud of ID tokens instead of the client id
	Issuer           string        // iss instead of the provider's URL
	ExpiresIn        time.Duration // exp - now; default 5 min; negative: expired
	BadSignature     bool          // signed with a key the JWKS does not hold
	Nonce            string        // nonce instead of the one asked for
	SkipPKCE         bool          // the token endpoint does not check the verifier
	ClaimsInUserInfo bool          // the configured claims only from userinfo, not the ID token
}

type grant struct {
	clientID, redirect, challenge, nonce string
	claims                               map[string]any
	expires                              time.Time
}

// Start runs a provider for client id "lrs" until the test ends.
func Start(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{ClientID: "lrs", ClientSecret: "lrs-secret", codes: map[string]*grant{}, now: time.Now}
	first, stray := startKeys(tb)
	p.keys = []*jose.JSONWebKey{first}
	p.stray = stray
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /end-session", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("signed out\n")) })
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	tb.Cleanup(p.srv.Close)
	return p
}

var (
	keysOnce           sync.Once
	firstKey, strayKey *rsa.PrivateKey
	keysErr            error
)

// startKeys returns the first signing key and the unpublished key of a
// new provider: the same for every provider of the test binary, since
// making RSA keys is slow (RotateKey makes a fresh one).
func startKeys(tb testing.TB) (first, stray *jose.JSONWebKey) {
	keysOnce.Do(func() {
		if firstKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr == nil {
			strayKey, keysErr = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if keysErr != nil {
		tb.Fatal(keysErr)
	}
	return &jose.JSONWebKey{Key: firstKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"},
		&jose.JSONWebKey{Key: strayKey, KeyID: "stray", Algorithm: string(jose.RS256), Use: "sig"}
}

func newKey(tb testing.TB, id string) *jose.JSONWebKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return &jose.JSONWebKey{Key: k, KeyID: id, Algorithm: string(jose.RS256), Use: "sig"}
}

// SignInAs sets the claims the next sign-ins carry, besides sub (taken
// from "sub" in claims, default "person-1") and the registered claims.
func (p *Provider) SignInAs(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

// Misbehave sets how the provider misbehaves from now on; the zero value
// behaves.
func (p *Provider) Misbehave(m Misbehave) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m = m
}

// RotateKey publishes a new signing key first; the old ones stay
// published.
func (p *Provider) RotateKey(tb testing.TB) {
	k := newKey(tb, "k"+strings.Repeat("x", len(p.keys)))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append([]*jose.JSONWebKey{k}, p.keys...)
}

// Token returns an ID token for claims signed as the provider signs, for
// the client as audience unless Misbehave says otherwise: a bearer token
// of a machine client acting for a person.
func (p *Provider) Token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.idToken(claims, "", true)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"jwks_uri":                              p.URL + "/jwks",
		"end_session_endpoint":                  p.URL + "/end-session",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.KeyFetches++
	var set jose.JSONWebKeySet
	for _, k := range p.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	writeJSON(w, http.StatusOK, set)
}

// authorize signs in the configured person at once and sends the browser
// back with a code, or with error=invalid_request for a request this
// provider would refuse.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Authorizations++
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" || q.Get("client_id") != p.ClientID {
		http.Error(w, "bad client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	if q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		back.Set("error", "invalid_request")
	} else {
		code := randomText()
		p.codes[code] = &grant{clientID: p.ClientID, redirect: redirect, challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), claims: p.claims, expires: p.now().Add(time.Minute)}
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// token exchanges a code once, checking the client, the redirect URI and
// the PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != p.ClientID || secret != p.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	g := p.codes[code]
	delete(p.codes, code) // single use, whatever follows
	if r.PostForm.Get("grant_type") != "authorization_code" || g == nil || p.now().After(g.expires) ||
		g.redirect != r.PostForm.Get("redirect_uri") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !p.m.SkipPKCE && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier"})
		return
	}
	claims := map[string]any{}
	for k, v := range g.claims {
		if !p.m.ClaimsInUserInfo || k == "sub" {
			claims[k] = v
		}
	}
	claims["nonce"] = g.nonce
	idt, err := p.idToken(claims, g.nonce, false)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	at := randomText()
	p.codes["at:"+at] = &grant{claims: g.claims, expires: p.now().Add(time.Hour)}
	p.Exchanges++
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
}

// userinfo answers the claims of an access token.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.codes["at:"+at]
	if g == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	out := map[string]any{"sub": "person-1"}
	for k, v := range g.claims {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

// idToken signs claims with the registered claims added; p.mu is held.
func (p *Provider) idToken(claims map[string]any, nonce string, bearer bool) (string, error) {
	now := p.now()
	out := map[string]any{"sub": "person-1"}
	for k, v := range claims {
		out[k] = v
	}
	out["iss"], out["aud"] = p.URL, p.ClientID
	exp := 5 * time.Minute
	if p.m.ExpiresIn != 0 {
		exp = p.m.ExpiresIn
	}
	out["iat"], out["exp"] = now.Unix(), now.Add(exp).Unix()
	if p.m.Audience != "" {
		out["aud"] = p.m.Audience
	}
	if p.m.Issuer != "" {
		out["iss"] = p.m.Issuer
	}
	if !bearer && p.m.Nonce != "" {
		out["nonce"] = p.m.Nonce
	}
	key := p.keys[0]
	if p.m.BadSignature {
		key = p.stray
		key = &jose.JSONWebKey{Key: p.stray.Key, KeyID: p.keys[0].KeyID, Algorithm: key.Algorithm}
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(sig).Claims(out).Serialize()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomText() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
