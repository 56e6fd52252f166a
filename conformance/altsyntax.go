package conformance

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// altSyntaxChecks cover the Alternate Request Syntax (Communication 1.3):
// required in 1.0.3, removed in 2.0.
var altSyntaxChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 1.3.s3.b15",
			Text:     `the LRS supports the alternate request syntax: POST ?method=PUT with headers, parameters and "content" as form parameters`,
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			form := c.altForm(url.Values{
				"statementId":  {idOf(s)},
				"Content-Type": {"application/json"},
				"content":      {jsonString(s)},
			})
			r, err := c.altRequest(ctx, "PUT", nil, form)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			_, _, err = c.fetch(ctx, idOf(s), nil, nil)
			return err
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.3.s3.b14",
			Text:     `with the alternate syntax the LRS treats form parameters other than "content" and the header parameters as query parameters (e.g. method=GET with statementId)`,
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			if _, _, err := c.fetch(ctx, idOf(s), nil, nil); err != nil {
				return err
			}
			var errs []error
			r, err := c.altRequest(ctx, "GET", nil, c.altForm(url.Values{"statementId": {idOf(s)}}))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				errs = append(errs, err)
			} else {
				var got obj
				if err := r.decode(&got); err != nil {
					errs = append(errs, err)
				} else if idOf(got) != idOf(s) {
					errs = append(errs, fmt.Errorf("alternate GET returned statement %q, want %q", idOf(got), idOf(s)))
				}
			}
			r, err = c.altRequest(ctx, "GET", nil, c.altForm(url.Values{"agent": {agentParam(s["actor"].(obj))}}))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				errs = append(errs, err)
			} else {
				var res statementResult
				if err := r.decode(&res); err != nil {
					errs = append(errs, err)
				} else if err := c.sameIDs(ids(res.Statements), []string{idOf(s)}); err != nil {
					errs = append(errs, fmt.Errorf("alternate GET with agent: %w", err))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.3.s3.b7",
			Text:     "with the alternate syntax the LRS treats the form parameters Authorization, X-Experience-API-Version, Content-Type, ... as header parameters",
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			form := c.altForm(url.Values{"statementId": {idOf(s)}, "Content-Type": {"application/json"}, "content": {jsonString(s)}})
			form.Set("X-Experience-API-Version", "0.8")
			r, err := c.altRequest(ctx, "PUT", nil, form)
			if err != nil {
				return err
			}
			var errs []error
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				errs = append(errs, fmt.Errorf("form version 0.8: %w", err))
			}
			form = c.altForm(url.Values{"statementId": {idOf(s)}, "Content-Type": {"application/json"}, "content": {jsonString(s)}})
			form.Set("Authorization", basicAuth(c.key, c.secret+"-wrong"))
			if r, err = c.altRequest(ctx, "PUT", nil, form); err != nil {
				return err
			}
			if r.status == http.StatusTooManyRequests && len(errs) == 0 {
				return slowedLogins(r)
			}
			if err := r.wantStatus(http.StatusUnauthorized); err != nil {
				errs = append(errs, fmt.Errorf("form Authorization with a wrong secret: %w", err))
			}
			if err := c.wantNotStored(ctx, s); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.3.s3.b3",
			Text:     `an alternate syntax request carries no query parameter other than "method": the LRS rejects one that does with 400 Bad Request`,
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			form := c.altForm(url.Values{"Content-Type": {"application/json"}, "content": {jsonString(s)}})
			r, err := c.altRequest(ctx, "PUT", url.Values{"statementId": {idOf(s)}}, form)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				return err
			}
			return c.wantNotStored(ctx, s)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.3",
			Text:     `xAPI 2.0 removed the Alternate Request Syntax: the LRS rejects a POST with a "method" parameter (4xx) and stores nothing`,
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			form := c.altForm(url.Values{"statementId": {idOf(s)}, "Content-Type": {"application/json"}, "content": {jsonString(s)}})
			var errs []error
			for _, method := range []string{"PUT", "GET"} {
				r, err := c.altRequest(ctx, method, nil, form)
				if err != nil {
					return err
				}
				if r.status < 400 || r.status > 499 {
					errs = append(errs, fmt.Errorf("POST ?method=%s: status %d, want 4xx%s", method, r.status, r.bodyHint()))
				}
			}
			if err := c.wantNotStored(ctx, s); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		},
	},
}

// altForm adds the client's credential and version as form parameters.
func (c *Client) altForm(form url.Values) url.Values {
	form.Set("Authorization", basicAuth(c.key, c.secret))
	form.Set("X-Experience-API-Version", c.version)
	return form
}

// altRequest sends an alternate syntax request: POST statements?method=M with
// the form, and no Authorization or version header.
func (c *Client) altRequest(ctx context.Context, method string, query, form url.Values) (*response, error) {
	q := url.Values{"method": {method}}
	for k, v := range query {
		q[k] = v
	}
	return c.do(ctx, request{
		method: http.MethodPost, path: "statements", query: q,
		header:    http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body:      []byte(form.Encode()),
		noAuth:    true,
		noVersion: true,
	})
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
