package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// versioningChecks cover the X-Experience-API-Version header (Communication 3.3).
var versioningChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b1",
			Text:     `the LRS includes the "X-Experience-API-Version" header in every response, errors included, naming a version it lists in /about`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			probes := []struct {
				name string
				req  request
			}{
				{"GET /about", request{method: http.MethodGet, path: "about"}},
				{"POST /statements (200)", request{method: http.MethodPost, path: "statements", body: s}},
				{"PUT /statements (204)", request{method: http.MethodPut, path: "statements", query: url.Values{"statementId": {newUUID()}}, body: c.statement(func(s obj) { delete(s, "id") })}},
				{"GET /statements (200)", request{method: http.MethodGet, path: "statements", query: url.Values{"verb": {c.verbID()}}}},
				{"GET unknown statement (404)", request{method: http.MethodGet, path: "statements", query: url.Values{"statementId": {newUUID()}}}},
				{"POST invalid statement (400)", request{method: http.MethodPost, path: "statements", body: obj{"verb": c.verb()}}},
				{"GET without credentials (401)", request{method: http.MethodGet, path: "statements", noAuth: true}},
				{"GET without X-Experience-API-Version (400)", request{method: http.MethodGet, path: "statements", noVersion: true}},
			}
			about, err := c.do(ctx, request{method: http.MethodGet, path: "about", noAuth: true})
			if err != nil {
				return err
			}
			var listed struct {
				Version []string `json:"version"`
			}
			if err := about.decode(&listed); err != nil {
				return fmt.Errorf("/about: %w", err)
			}
			var errs []error
			for _, p := range probes {
				r, err := c.do(ctx, p.req)
				if err != nil {
					return err
				}
				if v := r.header.Get("X-Experience-API-Version"); v == "" {
					errs = append(errs, fmt.Errorf("%s: status %d without X-Experience-API-Version header", p.name, r.status))
				} else if !slices.Contains(listed.Version, v) {
					errs = append(errs, fmt.Errorf("%s: status %d labelled X-Experience-API-Version %q, not a version /about lists %q", p.name, r.status, v, listed.Version))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b2",
			Text:     "the LRS sets the X-Experience-API-Version response header to the latest patch version (1.0.3 for 1.0.x requests, 2.0.0 for 2.0.x requests)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			r, err := c.getStatements(ctx, url.Values{"verb": {c.verbID()}})
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			if got := r.header.Get("X-Experience-API-Version"); got != c.version {
				return fmt.Errorf("response X-Experience-API-Version is %q, want %q", got, c.version)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b3",
			Text:     `the LRS accepts a version header of "1.0" as "1.0.0" (and, in 2.0, "2.0" as "2.0.0")`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			short := "1.0"
			if c.version == V200 {
				short = "2.0"
			}
			r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: c.statement(),
				header: http.Header{"X-Experience-API-Version": {short}}})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusOK)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b5",
			Text:     `the LRS accepts requests with a version header starting with "1.0." if otherwise valid`,
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, v := range []string{"1.0.0", "1.0.1", "1.0.2", "1.0.3"} {
				r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: c.statement(),
					header: http.Header{"X-Experience-API-Version": {v}}})
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					errs = append(errs, fmt.Errorf("version %s: %w", v, err))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b4",
			Text:     "the LRS rejects requests with a version header prior to 1.0.0 with 400 Bad Request",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.rejectVersions(ctx, "0.9", "0.95")
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s3.b6",
			Text:     "the LRS rejects requests with a version header it does not implement (1.1.0 or greater, other than 2.0.x) with 400 Bad Request",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.rejectVersions(ctx, "1.1.0", "3.0.0", "nonsense")
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.3.s4.b1",
			Text:     "every request includes the X-Experience-API-Version header: the LRS rejects a statements request without it with 400 Bad Request",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			var errs []error
			for _, req := range []request{
				{method: http.MethodPost, path: "statements", body: s, noVersion: true},
				{method: http.MethodPut, path: "statements", query: url.Values{"statementId": {idOf(s)}}, body: s, noVersion: true},
				{method: http.MethodGet, path: "statements", query: url.Values{"verb": {c.verbID()}}, noVersion: true},
			} {
				r, err := c.do(ctx, req)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, err)
				}
			}
			if err := c.wantNotFound(ctx, "statementId", idOf(s)); err != nil {
				errs = append(errs, fmt.Errorf("statement sent without version header was stored: %w", err))
			}
			return errors.Join(errs...)
		},
	},
}

// rejectVersions checks that POSTs of a valid statement with each version
// header are rejected with 400 and not stored.
func (c *Client) rejectVersions(ctx context.Context, versions ...string) error {
	var errs []error
	for _, v := range versions {
		s := c.statement()
		r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: s,
			header: http.Header{"X-Experience-API-Version": {v}}})
		if err != nil {
			return err
		}
		if err := r.wantStatus(http.StatusBadRequest); err != nil {
			errs = append(errs, fmt.Errorf("version %s: %w", v, err))
			continue
		}
		if err := c.wantNotFound(ctx, "statementId", idOf(s)); err != nil {
			errs = append(errs, fmt.Errorf("version %s: rejected statement was stored: %w", v, err))
		}
	}
	return errors.Join(errs...)
}
