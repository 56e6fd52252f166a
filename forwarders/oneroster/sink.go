package oneroster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// Scope is the OAuth 2 scope that allows writing results.
const Scope = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput"

// Config configures a Sink. BaseURL, TokenURL, ClientID and ClientSecret
// are required.
type Config struct {
	// BaseURL is the gradebook service, up to and including
	// /ims/oneroster/gradebook/v1p2.
	BaseURL string
	// TokenURL is the OAuth 2 token endpoint; ClientID and ClientSecret
	// are the client credentials sent to it (HTTP Basic).
	TokenURL, ClientID, ClientSecret string
	// IdentityHomePage is the account home page whose names are OneRoster
	// user sourcedIds; default DefaultIdentityHomePage.
	IdentityHomePage string
	// Verbs are the verb IRIs that make results; default DefaultVerbs.
	Verbs []string
	// Name names the sink's cursor in the store; default "oneroster:" and
	// the host of BaseURL. A new name starts from the beginning of the log.
	Name string
	// HTTPClient sends the requests; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives dead letters; the zero value logs nothing.
	Logger zerolog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Stats counts what a Sink did with the statements it was sent.
type Stats struct {
	// Written counts results the gradebook accepted.
	Written uint64
	// Ignored counts statements whose verb makes no result.
	Ignored uint64
	// Skipped counts completion statements that could not be mapped, by
	// reason (SkipStudent, SkipLineItem, ...).
	Skipped map[Skip]uint64
	// DeadLetters counts results the gradebook refused for good (400, 404,
	// 422); they are logged, not kept.
	DeadLetters uint64
	// TokenRequests counts access tokens requested.
	TokenRequests uint64
}

// Sink writes results to a OneRoster 1.2 gradebook; it is a
// forwarders.Sink.
type Sink struct {
	cfg    Config
	base   string
	mapper Mapper
	client *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	done    int64 // highest position handled; a retried batch skips it
	stats   Stats
}

var _ forwarders.Sink = (*Sink)(nil)

// New returns a Sink for cfg. It requests no token until the first Send.
func New(cfg Config) (*Sink, error) {
	for _, f := range []struct{ name, v string }{
		{"BaseURL", cfg.BaseURL}, {"TokenURL", cfg.TokenURL},
		{"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret},
	} {
		if f.v == "" {
			return nil, fmt.Errorf("oneroster: Config.%s is required", f.name)
		}
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("oneroster: BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.Name == "" {
		cfg.Name = "oneroster:" + u.Host
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &Sink{
		cfg:    cfg,
		base:   base,
		mapper: NewMapper(base, cfg.IdentityHomePage, cfg.Verbs),
		client: cfg.HTTPClient,
		stats:  Stats{Skipped: map[Skip]uint64{}},
	}, nil
}

// Name returns the name of the sink's cursor.
func (s *Sink) Name() string { return s.cfg.Name }

// Stats returns the sink's counters since New.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Skipped = make(map[Skip]uint64, len(s.stats.Skipped))
	for k, v := range s.stats.Skipped {
		st.Skipped[k] = v
	}
	return st
}

// Send writes the results of entries, in order. It returns an error when
// the gradebook or the token endpoint cannot be reached or answers 429, 5xx
// or an unexpected status: the relay then sends the batch again, and the
// statements this Sink already handled are not written twice. A result the
// gradebook refuses (400, 404, 422) is a dead letter and does not stop
// Send.
func (s *Sink) Send(ctx context.Context, entries []statements.LogEntry) error {
	for _, e := range entries {
		if e.Record.Position > 0 && e.Record.Position <= s.handled() {
			continue
		}
		if err := s.send(ctx, e); err != nil {
			return err
		}
		s.mu.Lock()
		s.done = max(s.done, e.Record.Position)
		s.mu.Unlock()
	}
	return nil
}

func (s *Sink) handled() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// send writes the result of one statement, when it has one.
func (s *Sink) send(ctx context.Context, e statements.LogEntry) error {
	res, skip := s.mapper.Map(e)
	switch skip {
	case "":
	case SkipVerb:
		s.count(func(st *Stats) { st.Ignored++ })
		return nil
	default:
		s.count(func(st *Stats) { st.Skipped[skip]++ })
		return nil
	}
	res.DateLastModified = FormatTime(s.cfg.Now())
	body, err := json.Marshal(map[string]*Result{"result": res})
	if err != nil {
		return fmt.Errorf("oneroster: result of statement %s: %w", e.Record.ID, err)
	}
	target := s.base + "/results/" + url.PathEscape(res.SourcedID)

	status, msg, err := s.put(ctx, target, body, false)
	if err == nil && status == http.StatusUnauthorized {
		// The token may have been revoked or expired early: one new one.
		status, msg, err = s.put(ctx, target, body, true)
	}
	if err != nil {
		return err
	}
	switch {
	case status >= 200 && status < 300:
		s.count(func(st *Stats) { st.Written++ })
		return nil
	case status == http.StatusBadRequest, status == http.StatusNotFound, status == http.StatusUnprocessableEntity:
		s.count(func(st *Stats) { st.DeadLetters++ })
		s.cfg.Logger.Error().Str("sink", s.cfg.Name).Str("tenant", e.Tenant).
			Str("statement", e.Record.ID).Int64("position", e.Record.Position).
			Str("result", res.SourcedID).Int("status", status).Str("response", msg).
			Msg("gradebook refused a result; dropped as a dead letter")
		return nil
	default:
		return fmt.Errorf("oneroster: PUT %s: status %d: %s", target, status, msg)
	}
}

// put sends one PUT with a bearer token, a new one when fresh is true.
func (s *Sink) put(ctx context.Context, target string, body []byte, fresh bool) (int, string, error) {
	tok, err := s.accessToken(ctx, fresh)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("oneroster: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("oneroster: PUT %s: %w", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// accessToken returns the cached token, or a new one when there is none,
// it is about to expire, or fresh is true.
func (s *Sink) accessToken(ctx context.Context, fresh bool) (string, error) {
	s.mu.Lock()
	tok, exp := s.token, s.expires
	s.mu.Unlock()
	if !fresh && tok != "" && s.cfg.Now().Before(exp) {
		return tok, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {Scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oneroster: token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret)) // RFC 6749 2.3.1
	s.count(func(st *Stats) { st.TokenRequests++ })
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("oneroster: token: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("oneroster: token: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var t struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return "", fmt.Errorf("oneroster: token: %w", err)
	}
	if t.AccessToken == "" {
		return "", errors.New("oneroster: token: no access_token in the response")
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return "", fmt.Errorf("oneroster: token: type %q, want Bearer", t.TokenType)
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	// Renew a little early, so a token does not expire in flight.
	life -= min(life/10, 30*time.Second)
	s.mu.Lock()
	s.token, s.expires = t.AccessToken, s.cfg.Now().Add(life)
	s.mu.Unlock()
	return t.AccessToken, nil
}

func (s *Sink) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}
