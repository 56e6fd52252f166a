package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/lrs/signin/oidctest"
)

// code authorizes with a PKCE challenge of verifier and returns the code.
func code(t *testing.T, p *oidctest.Provider, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {p.ClientID}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge_method": {"S256"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(p.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %s", res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func exchange(t *testing.T, p *oidctest.Provider, code, verifier string) int {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/token", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(p.ClientID, p.ClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestProvider_PKCE(t *testing.T) {
	p := oidctest.Start(t)
	v := strings.Repeat("v", 43)
	if got := exchange(t, p, code(t, p, v), strings.Repeat("w", 43)); got != http.StatusBadRequest {
		t.Errorf("wrong verifier: %d, want 400", got)
	}
	c := code(t, p, v)
	if got := exchange(t, p, c, v); got != http.StatusOK {
		t.Errorf("right verifier: %d, want 200", got)
	}
	if got := exchange(t, p, c, v); got != http.StatusBadRequest {
		t.Errorf("code used twice: %d, want 400", got)
	}
}
