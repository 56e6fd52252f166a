package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// putChecks cover PUT Statements (Communication 2.1.1).
var putChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s1",
			Text:     "PUT /statements?statementId= stores a single statement with the given id and returns 204 No Content",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			r, err := c.put(ctx, idOf(s), s)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			got, _, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return fmt.Errorf("statement PUT was not retrievable: %w", err)
			}
			if !sameJSON(got["verb"], s["verb"]) {
				return fmt.Errorf("stored verb %s, want %s", jsonString(got["verb"]), jsonString(s["verb"]))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s1.table1.row1",
			Text:     `the "statementId" parameter of PUT is required: a PUT without it gets 400 Bad Request`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			r, err := c.do(ctx, request{method: http.MethodPut, path: "statements", body: s})
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				return err
			}
			return c.wantNotFound(ctx, "statementId", idOf(s))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s2.b2",
			Text:     "an LRS receiving a statement with a statementId it already has MUST NOT modify the stored statement (whether it answers 409 or 204)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if err := wantPut(ctx, c, s, http.StatusNoContent); err != nil {
				return err
			}
			changed := clone(s)
			changed["verb"] = c.verb()
			if _, err := c.put(ctx, idOf(s), changed); err != nil {
				return err
			}
			got, _, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return err
			}
			if !sameJSON(got["verb"], s["verb"]) {
				return fmt.Errorf("statement was modified by a second PUT: verb is %s, want %s", jsonString(got["verb"]), jsonString(s["verb"]))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s2.b3",
			Text:     "PUT of a statement whose id the LRS already has: 204 when it matches the stored one, 409 Conflict when it does not",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if err := wantPut(ctx, c, s, http.StatusNoContent); err != nil {
				return err
			}
			if err := wantPut(ctx, c, s, http.StatusNoContent); err != nil {
				return fmt.Errorf("same statement again: %w", err)
			}
			changed := clone(s)
			set(changed, "result/success", true)
			if err := wantPut(ctx, c, changed, http.StatusConflict); err != nil {
				return fmt.Errorf("same id, different statement: %w", err)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s3.b3",
			Text:     `the "id" of a PUT statement must match the "statementId" parameter: a mismatch gets 400 Bad Request and nothing is stored`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			param := newUUID()
			r, err := c.put(ctx, param, s)
			if err != nil {
				return err
			}
			var errs []error
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				errs = append(errs, err)
			}
			for _, id := range []string{param, idOf(s)} {
				if err := c.wantNotFound(ctx, "statementId", id); err != nil {
					errs = append(errs, fmt.Errorf("mismatched PUT stored a statement: %w", err))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.1.s3.b2",
			Text:     `a PUT statement without "id" is stored under the "statementId" parameter`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement(func(s obj) { delete(s, "id") })
			id := newUUID()
			r, err := c.put(ctx, id, s)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			_, _, err = c.fetch(ctx, id, nil, nil)
			return err
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 4.6",
			Text:     "2.0: when comparing statements, duration precision beyond 0.01 s is not included: a statement sent again with P1DT12H36M0.1237S for P1DT12H36M0.12S, or PT1.50S for PT1.5S, is the same statement (204, not 409 Conflict), and so is a signed statement whose JWS payload differs from it only so",
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, pair := range [][2]string{{"P1DT12H36M0.12S", "P1DT12H36M0.1237S"}, {"PT1.5S", "PT1.50S"}} {
				s := c.statement(func(s obj) { delete(s, "id"); s["result"] = obj{"duration": pair[0]} })
				id := newUUID()
				for i, d := range pair {
					set(s, "result/duration", d)
					r, err := c.put(ctx, id, s)
					if err != nil {
						return err
					}
					if err := r.wantStatus(http.StatusNoContent); err != nil {
						errs = append(errs, fmt.Errorf("PUT %d with duration %s after %s: %w", i+1, d, pair[0], err))
					}
				}
			}
			s := c.statement(func(s obj) { s["result"] = obj{"duration": "P1DT12H36M0.12S"} })
			jws, err := signJWS("RS256", jsonBytes(s), true)
			if err != nil {
				return err
			}
			sent := clone(s)
			set(sent, "result/duration", "P1DT12H36M0.1237S")
			r, err := c.postMultipart(ctx, withSignature(sent, jws), signaturePart(jws))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				errs = append(errs, fmt.Errorf("signed statement with P1DT12H36M0.1237S, payload P1DT12H36M0.12S: %w", err))
			}
			return errors.Join(errs...)
		},
	},
}

// wantPut PUTs the statement under its own id and checks the status.
func wantPut(ctx context.Context, c *Client, s obj, status int) error {
	r, err := c.put(ctx, idOf(s), s)
	if err != nil {
		return err
	}
	return r.wantStatus(status)
}

// wantNotStored checks that none of the statements is retrievable.
func (c *Client) wantNotStored(ctx context.Context, stmts ...obj) error {
	var errs []error
	for _, s := range stmts {
		r, err := c.getStatements(ctx, url.Values{"statementId": {idOf(s)}})
		if err != nil {
			return err
		}
		if r.status != http.StatusNotFound {
			errs = append(errs, fmt.Errorf("statement %s is retrievable (GET status %d), want 404: it must not have been stored", idOf(s), r.status))
		}
	}
	return errors.Join(errs...)
}
