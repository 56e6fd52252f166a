package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// authChecks cover authentication (Communication 4.0, 3.2).
var authChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 4.0.s3.b1",
			Text:     "the LRS authenticates requests (HTTP Basic): a statements request without credentials gets 401 Unauthorized",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			var errs []error
			for _, req := range []request{
				{method: http.MethodGet, path: "statements", query: url.Values{"verb": {c.verbID()}}, noAuth: true},
				{method: http.MethodPost, path: "statements", body: s, noAuth: true},
			} {
				r, err := c.do(ctx, req)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusUnauthorized); err != nil {
					errs = append(errs, err)
				}
			}
			if err := c.wantNotFound(ctx, "statementId", idOf(s)); err != nil {
				errs = append(errs, fmt.Errorf("statement sent without credentials was stored: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.2.s2.b2",
			Text:     "401 Unauthorized: credentials given in the request were refused (wrong secret, unknown key)",
			Versions: both,
		},
		Needs: needsNothing,
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, cred := range [][2]string{{c.key, c.secret + "-wrong"}, {c.unique("unknown-key"), "secret"}} {
				hr := &http.Request{Header: http.Header{}}
				hr.SetBasicAuth(cred[0], cred[1])
				r, err := c.do(ctx, request{method: http.MethodGet, path: "statements", query: url.Values{"verb": {c.verbID()}},
					header: http.Header{"Authorization": hr.Header["Authorization"]}})
				if err != nil {
					return err
				}
				if r.status == http.StatusTooManyRequests && len(errs) == 0 {
					return slowedLogins(r)
				}
				if err := r.wantStatus(http.StatusUnauthorized); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	},
}

// slowedLogins is the verdict on a request with a wrong credential that
// the LRS answered 429: it slows down failed logins from this address
// (after earlier runs, say), so whether it would refuse the credential
// with 401 cannot be seen now.
func slowedLogins(r *response) error {
	return skip("the LRS slows down failed logins from this address (%s %s: 429 Too Many Requests, Retry-After %q); run again later to check this",
		r.method, r.url, r.header.Get("Retry-After"))
}
