package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// getChecks cover GET Statements (Communication 2.1.3) and its parameters.
var getChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row1",
			Text:     `GET /statements?statementId= returns 200 OK and the single statement with that id`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			for _, k := range []string{"actor", "verb", "object"} {
				if !sameJSON(got[k], s[k]) {
					return fmt.Errorf("%s is %s, want %s", k, jsonString(got[k]), jsonString(s[k]))
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.2.s2.b4",
			Text:     "404 Not Found: GET of a single statement the LRS does not have",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			if err := c.wantNotFound(ctx, "statementId", newUUID()); err != nil {
				return err
			}
			return c.wantNotFound(ctx, "voidedStatementId", newUUID())
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b1",
			Text:     "the LRS rejects with 400 Bad Request a request with both statementId and voidedStatementId",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			r, err := c.getStatements(ctx, url.Values{"statementId": {idOf(s)}, "voidedStatementId": {idOf(s)}})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusBadRequest)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b2",
			Text:     `the LRS rejects with 400 a request with statementId or voidedStatementId and any other parameter besides "attachments" or "format"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			if _, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"exact"}, "attachments": {"false"}}, nil); err != nil {
				return fmt.Errorf("with format and attachments: %w", err)
			}
			var errs []error
			for _, extra := range []url.Values{
				{"verb": {get(s, "verb/id").(string)}},
				{"agent": {agentParam(s["actor"].(obj))}},
				{"limit": {"1"}},
				{"ascending": {"true"}},
				{"since": {"2000-01-01T00:00:00Z"}},
			} {
				for _, param := range []string{"statementId", "voidedStatementId"} {
					q := url.Values{param: {idOf(s)}}
					for k, v := range extra {
						q[k] = v
					}
					r, err := c.getStatements(ctx, q)
					if err != nil {
						return err
					}
					if err := r.wantStatus(http.StatusBadRequest); err != nil {
						errs = append(errs, err)
					}
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.2.s3.b7",
			Text:     "the LRS rejects with 400 Bad Request requests that use parameters it does not recognize",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, q := range []url.Values{
				{"foo": {"bar"}},
				{"verb": {c.verbID()}, "activityId": {c.activityID()}},
			} {
				r, err := c.getStatements(ctx, q)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, err)
				}
			}
			s := c.statement()
			r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", query: url.Values{"foo": {"bar"}}, body: s})
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.2.s3.b8",
			Text:     "the LRS rejects with 400 Bad Request parameters matching those of the specification in all but case",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			var errs []error
			for _, q := range []url.Values{
				{"StatementId": {idOf(s)}},
				{"statementID": {idOf(s)}},
				{"VERB": {get(s, "verb/id").(string)}},
			} {
				r, err := c.getStatements(ctx, q)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b4",
			Text:     `when no statements match the query the LRS still returns 200 OK and a StatementResult whose "statements" is an empty array`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			res, _, err := c.query(ctx, url.Values{"verb": {c.verbID()}}, nil)
			if err != nil {
				return err
			}
			if len(res.Statements) != 0 {
				return fmt.Errorf("query for an unused verb returned %d statements", len(res.Statements))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.5.s2.table1.row1",
			Text:     `a query returns a StatementResult object: "statements" (array of statements) and "more" (IRL, empty string when there are no more results)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			q := url.Values{"agent": {agentParam(s["actor"].(obj))}}
			if err := c.queryExpect(ctx, q, idOf(s)); err != nil {
				return err
			}
			res, r, err := c.query(ctx, q, nil)
			if err != nil {
				return err
			}
			var raw obj
			if err := r.decode(&raw); err != nil {
				return err
			}
			for k := range raw {
				if k != "statements" && k != "more" {
					return fmt.Errorf("StatementResult has unexpected property %q", k)
				}
			}
			if res.More != nil && *res.More != "" {
				return fmt.Errorf(`"more" is %q although every result was returned; want "" or absent`, *res.More)
			}
			if _, ok := raw["more"]; ok {
				if _, isString := raw["more"].(string); !isString {
					return fmt.Errorf(`"more" is not a string: %s`, jsonString(raw["more"]))
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.2.s4.b4",
			Text:     "the LRS validates parameter values to the same standards as values of the same types in statements: malformed values get 400 Bad Request",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, q := range []url.Values{
				{"statementId": {"not-a-uuid"}},
				{"voidedStatementId": {"1234"}},
				{"registration": {"not-a-uuid"}},
				{"agent": {"not json"}},
				{"agent": {`{"mbox":"not-a-mailto"}`}},
				{"verb": {"not an iri"}},
				{"since": {"yesterday"}},
				{"until": {"2015-13-45T99:00:00Z"}},
				{"limit": {"-1"}},
				{"limit": {"ten"}},
				{"format": {"bogus"}},
				{"ascending": {"yes"}},
				{"related_agents": {"1"}},
			} {
				r, err := c.getStatements(ctx, q)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, err)
				}
			}
			r, err := c.put(ctx, "not-a-uuid", c.statement(func(s obj) { delete(s, "id") }))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				errs = append(errs, fmt.Errorf("PUT with statementId not a UUID: %w", err))
			}
			return errors.Join(errs...)
		},
	},
}
