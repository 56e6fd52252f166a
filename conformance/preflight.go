package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// PreflightError says why the preflight stopped a run before any check:
// nothing answers at the endpoint, it is no xAPI LRS, or the LRS refuses
// the credential.
type PreflightError struct {
	Msg string
	// Exchange is the exchange that decided it, if any.
	Exchange *Exchange
}

func (e *PreflightError) Error() string { return e.Msg }

// Preflight checks that cfg.Endpoint is an xAPI LRS that accepts the
// credential and learns the credential's scopes and authority.
//
// It GETs /about without a credential, then authenticates once (GET
// statements?limit=1): a refused credential stops it there, so a wrong
// secret costs a single failed login. It then probes each scope with one
// cheap request, where a 403 means the scope is missing: POST of a
// statement (statements/write), read back for its authority, and DELETE
// in a context of its own of the State Resource (state) and the Activity
// Profile Resource (profile). No probe can show the define scope: it is
// assumed when every other scope was seen, or declared in cfg.Scopes.
func Preflight(ctx context.Context, cfg Config) (*Capabilities, error) {
	return preflight(ctx, cfg, nil)
}

func preflight(ctx context.Context, cfg Config, written *writtenLog) (*Capabilities, error) {
	for _, s := range cfg.Scopes {
		if !validScope(s) {
			return nil, &PreflightError{Msg: fmt.Sprintf("unknown scope %q (want some of %s)", s, strings.Join(Scopes(), ", "))}
		}
	}
	pcfg := cfg
	if pcfg.Version == "" {
		pcfg.Version = V103
	}
	c, err := newClient(pcfg, nil, written)
	if err != nil {
		return nil, &PreflightError{Msg: err.Error()}
	}
	c.begin("preflight")
	defer c.begin("")
	stop := func(format string, args ...any) error {
		return &PreflightError{Msg: fmt.Sprintf(format, args...), Exchange: c.lastExchange()}
	}

	// The endpoint answers /about.
	caps := &Capabilities{Probes: map[string]string{}}
	r, err := c.do(ctx, request{method: http.MethodGet, path: "about", noAuth: true})
	if err != nil {
		return nil, stop("cannot reach the LRS: %v", err)
	}
	if r.status != http.StatusOK {
		return nil, stop("%s is not the endpoint of an xAPI LRS: GET %s answered %d, want 200 with the versions it speaks (the endpoint is the base of the xAPI API, e.g. http://host/xapi/)%s",
			c.base, r.url, r.status, r.bodyHint())
	}
	var about struct {
		Version []string `json:"version"`
	}
	if err := r.decode(&about); err != nil || len(about.Version) == 0 {
		return nil, stop("%s is not the endpoint of an xAPI LRS: GET %s did not return a JSON object with a \"version\" list%s", c.base, r.url, r.bodyHint())
	}
	caps.Versions = about.Version
	if cfg.Version == "" {
		i := slices.IndexFunc(Versions(), func(v string) bool { return slices.Contains(about.Version, v) })
		if i < 0 {
			return nil, stop("the LRS speaks xAPI %s; this tool checks %s", strings.Join(about.Version, ", "), strings.Join(Versions(), " and "))
		}
		c.version = Versions()[i]
	}

	// The credential authenticates: one request, whatever it answers.
	r, err = c.do(ctx, request{method: http.MethodGet, path: "statements", query: url.Values{"limit": {"1"}}})
	if err != nil {
		return nil, stop("cannot reach the LRS: %v", err)
	}
	switch r.status {
	case http.StatusUnauthorized:
		return nil, stop("the LRS refused the credential (GET %s: 401 Unauthorized): check the key and the secret%s", r.url, r.bodyHint())
	case http.StatusTooManyRequests:
		return nil, stop("the LRS refuses logins from this address for now (429 Too Many Requests, Retry-After %q), after failed logins: wait, and check the key and the secret",
			r.header.Get("Retry-After"))
	case http.StatusForbidden:
	default:
		if r.status < 200 || r.status > 299 {
			return nil, stop("GET %s answered %d, want 200 (or 403 for a credential that may not read statements)%s", r.url, r.status, r.bodyHint())
		}
	}
	observed := map[string]bool{}
	note := func(scope string, r *response, what string) error {
		caps.Probes[scope] = fmt.Sprintf("%s: %d", what, r.status)
		switch r.status {
		case http.StatusUnauthorized:
			return stop("the LRS refused the credential it had accepted (%s: 401)%s", what, r.bodyHint())
		case http.StatusForbidden:
		default:
			observed[scope] = true
		}
		return nil
	}
	note(ScopeStatementsReadMine, r, "GET statements?limit=1")

	// statements/write, and the authority the LRS sets.
	s := c.named("preflight", c.statement())
	if r, err = c.postStatements(ctx, s); err != nil {
		return nil, stop("cannot reach the LRS: %v", err)
	}
	if err := note(ScopeStatementsWrite, r, "POST statements"); err != nil {
		return nil, err
	}
	if r.status == http.StatusOK && observed[ScopeStatementsReadMine] {
		got, _, err := c.fetch(ctx, idOf(s), nil, nil)
		if err != nil {
			caps.Probes["authority"] = err.Error()
		} else if auth, ok := got["authority"].(obj); ok {
			caps.Authority = auth
		}
	}

	// state and profile: a DELETE in a context no document is in.
	for _, res := range []docResource{stateDocs, activityProfileDocs} {
		q := c.docContext(res)
		if res == activityProfileDocs {
			q.Set(res.idParam, c.unique("doc"))
		}
		if r, err = c.docRequest(ctx, http.MethodDelete, res, q, nil, ""); err != nil {
			return nil, stop("cannot reach the LRS: %v", err)
		}
		if err := note(res.scope, r, "DELETE "+res.path); err != nil {
			return nil, err
		}
	}
	if len(observed) == 0 {
		return nil, stop("the LRS accepts the credential but lets it do nothing this tool checks: every probe got 403 Forbidden (%s)%s",
			probeList(caps.Probes), r.bodyHint())
	}

	if cfg.Scopes != nil {
		caps.Scopes, caps.Declared = slices.Clone(cfg.Scopes), true
		for _, scope := range []string{ScopeStatementsReadMine, ScopeStatementsWrite, ScopeState, ScopeProfile} {
			if caps.Grants(scope) && !observed[scope] {
				return nil, stop("the declared scopes grant %s, but the LRS refused it (%s)", scope, caps.Probes[scope])
			}
		}
		return caps, nil
	}
	for _, scope := range []string{ScopeStatementsWrite, ScopeStatementsReadMine, ScopeState, ScopeProfile} {
		if observed[scope] {
			caps.Scopes = append(caps.Scopes, scope)
		}
	}
	if len(caps.Scopes) == 4 {
		caps.Scopes = append(caps.Scopes, ScopeDefine)
		caps.Assumed = []string{ScopeDefine}
	}
	return caps, nil
}

// probeList returns the probes in a stable order.
func probeList(probes map[string]string) string {
	var out []string
	for _, scope := range []string{ScopeStatementsReadMine, ScopeStatementsWrite, ScopeState, ScopeProfile} {
		if p, ok := probes[scope]; ok {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
