package conformance

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// headerChecks cover response headers of the Statement Resource and HEAD
// (Communication 1.1, 2.1.3).
var headerChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b5",
			Text:     `responses to Statement Resource requests carry "X-Experience-API-Consistent-Through" (ISO 8601, recent, not in the future); every statement stored before it is retrievable`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			r, err := c.postStatements(ctx, s)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			var errs []error
			if _, err := c.consistentThrough(r); err != nil {
				errs = append(errs, fmt.Errorf("POST: %w", err))
			}
			got, r, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return err
			}
			if _, err := c.consistentThrough(r); err != nil {
				errs = append(errs, fmt.Errorf("GET ?statementId: %w", err))
			}
			stored, err := parseTimestamp(str(got["stored"]))
			if err != nil {
				return fmt.Errorf(`"stored": %w`, err)
			}
			q := url.Values{"agent": {agentParam(s["actor"].(obj))}}
			// Wait until the LRS says the statement's stored time is consistent,
			// then the statement must be in query results.
			err = c.eventually(ctx, func() error {
				res, r, err := c.query(ctx, q, nil)
				if err != nil {
					return err
				}
				ct, err := c.consistentThrough(r)
				if err != nil {
					return &fatalError{fmt.Errorf("GET query: %w", err)}
				}
				if ct.Before(stored) {
					return fmt.Errorf("X-Experience-API-Consistent-Through %s stayed before the statement's stored %s", ct.Format(time.RFC3339Nano), got["stored"])
				}
				if err := c.sameIDs(ids(res.Statements), []string{idOf(s)}); err != nil {
					return &fatalError{fmt.Errorf("consistent through %s but the statement stored at %s is not returned: %w", ct.Format(time.RFC3339Nano), got["stored"], err)}
				}
				return nil
			})
			if err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b8",
			Text:     `a GET of a statement includes a "Last-Modified" header matching its "stored" timestamp`,
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			got, r, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return err
			}
			lm := r.header.Get("Last-Modified")
			if lm == "" {
				return fmt.Errorf("GET ?statementId has no Last-Modified header")
			}
			t, err := http.ParseTime(lm)
			if err != nil {
				return fmt.Errorf("Last-Modified %q is not an HTTP date: %v", lm, err)
			}
			stored, err := parseTimestamp(str(got["stored"]))
			if err != nil {
				return fmt.Errorf(`"stored": %w`, err)
			}
			if !t.Equal(stored.Truncate(time.Second)) {
				return fmt.Errorf("Last-Modified %q does not match stored %s", lm, got["stored"])
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b7",
			Text:     `without attachments=true the LRS sends no attachment raw data and reports Content-Type "application/json"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			var errs []error
			for _, extra := range []url.Values{nil, {"attachments": {"false"}}} {
				_, r, err := c.fetch(ctx, idOf(s), extra, nil)
				if err != nil {
					return err
				}
				if err := wantJSONContentType(r); err != nil {
					errs = append(errs, err)
				}
				res, r, err := c.query(ctx, url.Values{"agent": {agentParam(s["actor"].(obj))}}, nil)
				if err != nil {
					return err
				}
				_ = res
				if err := wantJSONContentType(r); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.1.s3.b1",
			Text:     "the LRS responds to HEAD as to the identical GET (status and headers) but omits the message body",
			Versions: both,
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
			for _, q := range []url.Values{
				{"statementId": {idOf(s)}},
				{"agent": {agentParam(s["actor"].(obj))}},
				{"statementId": {newUUID()}},
			} {
				g, err := c.do(ctx, request{method: http.MethodGet, path: "statements", query: q})
				if err != nil {
					return err
				}
				h, err := c.do(ctx, request{method: http.MethodHead, path: "statements", query: q})
				if err != nil {
					return err
				}
				if h.status != g.status {
					errs = append(errs, fmt.Errorf("HEAD %s: status %d, GET gave %d", h.url, h.status, g.status))
				}
				if len(h.body) != 0 {
					errs = append(errs, fmt.Errorf("HEAD %s: has a body of %d bytes", h.url, len(h.body)))
				}
				for _, k := range []string{"Content-Type", "X-Experience-API-Version", "X-Experience-API-Consistent-Through"} {
					if g.header.Get(k) != "" && h.header.Get(k) == "" {
						errs = append(errs, fmt.Errorf("HEAD %s: no %s header, GET had %q", h.url, k, g.header.Get(k)))
					}
				}
			}
			return errors.Join(errs...)
		},
	},
}

// consistentThrough parses the response's X-Experience-API-Consistent-Through
// and checks that it is not in the future.
func (c *Client) consistentThrough(r *response) (time.Time, error) {
	v := r.header.Get("X-Experience-API-Consistent-Through")
	if v == "" {
		return time.Time{}, fmt.Errorf("%s %s: no X-Experience-API-Consistent-Through header", r.method, r.url)
	}
	t, err := parseTimestamp(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("X-Experience-API-Consistent-Through: %w", err)
	}
	if now := time.Now(); t.After(now.Add(c.skew)) {
		return t, fmt.Errorf("X-Experience-API-Consistent-Through %s is in the future (now %s)", v, now.UTC().Format(time.RFC3339Nano))
	}
	return t, nil
}

func wantJSONContentType(r *response) error {
	ct := r.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%s %s: Content-Type %q, want application/json", r.method, r.url, ct)
	}
	return nil
}
