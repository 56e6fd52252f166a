package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// voidingChecks cover voiding (Data 2.3.2) and voided statements (Communication 2.1.4).
var voidingChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row2",
			Text:     `GET ?voidedStatementId= returns the voided statement with that id (and 404 for a statement that is not voided)`,
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
			if err := c.wantNotFound(ctx, "voidedStatementId", idOf(s)); err != nil {
				return fmt.Errorf("statement not voided: %w", err)
			}
			if _, err := c.store(ctx, c.voiding(idOf(s))); err != nil {
				return err
			}
			got, _, err := c.fetchVoided(ctx, idOf(s))
			if err != nil {
				return err
			}
			if !sameJSON(got["verb"], s["verb"]) {
				return fmt.Errorf("voided statement has verb %s, want %s", jsonString(got["verb"]), jsonString(s["verb"]))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.4.s1.b1",
			Text:     "the LRS MUST NOT return a voided statement unless requested by voidedStatementId: not by statementId (404), not in queries",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			v := c.voiding(idOf(s))
			if _, err := c.store(ctx, v); err != nil {
				return err
			}
			if _, _, err := c.fetchVoided(ctx, idOf(s)); err != nil {
				return err
			}
			var errs []error
			if err := c.wantNotFound(ctx, "statementId", idOf(s)); err != nil {
				errs = append(errs, fmt.Errorf("voided statement by statementId: %w", err))
			}
			// The voiding statement targets s, so it matches s's filters (Communication
			// 2.1.3.s3); s itself must not be returned.
			for _, q := range []url.Values{
				{"agent": {agentParam(s["actor"].(obj))}},
				{"verb": {str(get(s, "verb/id"))}},
				{"activity": {str(get(s, "object/id"))}},
			} {
				got, err := c.queryAll(ctx, q)
				if err != nil {
					return err
				}
				for _, id := range ids(got) {
					if id == idOf(s) {
						errs = append(errs, fmt.Errorf("query %v returned the voided statement", q))
					}
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.4.s1.b2",
			Text:     "the LRS still returns statements targeting a voided statement (by StatementRef), including the voiding statement, when they match the query",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			comment := c.statement(func(x obj) { x["object"] = obj{"objectType": "StatementRef", "id": idOf(s)} })
			if _, err := c.store(ctx, comment); err != nil {
				return err
			}
			v := c.voiding(idOf(s))
			if _, err := c.store(ctx, v); err != nil {
				return err
			}
			var errs []error
			if _, _, err := c.fetch(ctx, idOf(v), nil, nil); err != nil {
				errs = append(errs, fmt.Errorf("voiding statement by statementId: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(s["actor"].(obj))}}, idOf(comment), idOf(v)); err != nil {
				errs = append(errs, fmt.Errorf("agent of the voided statement: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(v["actor"].(obj))}}, idOf(v)); err != nil {
				errs = append(errs, fmt.Errorf("actor of the voiding statement: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.3.2.s2.b3",
			Text:     "the LRS considers a statement voided iff it is not itself a voiding statement and a voiding statement refers to it: a voiding statement cannot be voided",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			v1 := c.voiding(idOf(s))
			if err := c.storeEach(ctx, s, v1); err != nil {
				return err
			}
			v2 := c.voiding(idOf(v1))
			r, err := c.postStatements(ctx, v2)
			if err != nil {
				return err
			}
			// The LRS may refuse the attempt or store it without effect.
			if err := r.wantStatus(http.StatusOK, http.StatusBadRequest, http.StatusForbidden); err != nil {
				return err
			}
			var errs []error
			if _, _, err := c.fetch(ctx, idOf(v1), nil, nil); err != nil {
				errs = append(errs, fmt.Errorf("the voiding statement was treated as voided: %w", err))
			}
			if err := c.wantNotFound(ctx, "voidedStatementId", idOf(v1)); err != nil {
				errs = append(errs, fmt.Errorf("the voiding statement is returned as voided: %w", err))
			}
			if err := c.wantNotFound(ctx, "statementId", idOf(s)); err != nil {
				errs = append(errs, fmt.Errorf("the original statement is no longer voided: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	rejecting("Data 2.3.2.s2.b1", `the object of a voiding statement MUST be a StatementRef ("objectType": "StatementRef")`, both,
		with("voiding an activity", func(c *Client, s obj) {
			s["verb"] = obj{"id": "http://adlnet.gov/expapi/verbs/voided", "display": obj{"en-US": "voided"}}
		}),
		with("voiding a SubStatement", func(c *Client, s obj) {
			s["verb"] = obj{"id": "http://adlnet.gov/expapi/verbs/voided", "display": obj{"en-US": "voided"}}
			s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": c.activity()}
		}),
	),
	{
		Requirement: Requirement{
			ID:       "Data 2.3.2.s2.b5",
			Text:     "the LRS SHOULD NOT* reject a voiding statement because the statement it voids is not present",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			_, err := c.store(ctx, c.voiding(newUUID()))
			return err
		},
	},
}
