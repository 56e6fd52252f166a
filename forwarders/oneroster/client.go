package oneroster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Scope is the OAuth 2 scope that allows writing results.
const Scope = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput"

// gradebook writes results to one tenant's OneRoster provider with a
// client-credentials token, cached until it expires and renewed at once
// when the provider answers 401.
type gradebook struct {
	cfg    TenantConfig
	base   string
	client *http.Client
	cc     clientcredentials.Config
	tctx   context.Context // carries client for the token requests

	mu sync.Mutex
	ts oauth2.TokenSource
}

func newGradebook(cfg TenantConfig, client *http.Client) *gradebook {
	g := &gradebook{
		cfg:    cfg,
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		client: client,
		cc: clientcredentials.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL,
			Scopes: []string{Scope}, AuthStyle: oauth2.AuthStyleInHeader,
		},
		tctx: context.WithValue(context.Background(), oauth2.HTTPClient, client),
	}
	g.ts = g.cc.TokenSource(g.tctx)
	return g
}

// answer is what the gradebook said to one PUT.
type answer struct {
	status     int           // 0 when there was no answer
	body       string        // the answer's body, shortened
	retryAfter time.Duration // from Retry-After; 0 when absent
}

// put writes res. err is non-nil when no answer came (network, token).
func (g *gradebook) put(ctx context.Context, res *Result) (answer, error) {
	body, err := marshalResult(res)
	if err != nil {
		return answer{}, err
	}
	target := g.base + "/results/" + url.PathEscape(res.SourcedID)
	a, err := g.do(ctx, target, body)
	if err == nil && a.status == http.StatusUnauthorized {
		// The token may have been revoked or expired early: one new one.
		g.mu.Lock()
		g.ts = g.cc.TokenSource(g.tctx)
		g.mu.Unlock()
		a, err = g.do(ctx, target, body)
	}
	return a, err
}

func (g *gradebook) do(ctx context.Context, target string, body []byte) (answer, error) {
	g.mu.Lock()
	ts := g.ts
	g.mu.Unlock()
	tok, err := ts.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return answer{}, fmt.Errorf("token endpoint %s: status %d: %s", g.cfg.TokenURL, re.Response.StatusCode, truncate(strings.TrimSpace(string(re.Body)), 512))
		}
		return answer{}, fmt.Errorf("token endpoint %s: %w", g.cfg.TokenURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	resp, err := g.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("PUT %s: %w", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseKept+1))
	return answer{
		status:     resp.StatusCode,
		body:       truncate(strings.TrimSpace(string(b)), maxResponseKept),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}, nil
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date (RFC 9110 10.2.3); 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}
