package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// pagingChecks cover the "more" IRL of StatementResults (Data 2.5).
var pagingChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Data 2.5.s2.table1.row2",
			Text:     `"more" is an IRL (relative: full path, excluding scheme, host and port) that fetches the next results with the same credentials; "" when there are no more`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			stmts := make([]obj, 5)
			for i := range stmts {
				stmts[i] = c.statement(func(s obj) { s["actor"] = x })
			}
			if err := c.storeEach(ctx, stmts...); err != nil {
				return err
			}
			q := url.Values{"agent": {agentParam(x)}}
			if err := c.queryExpect(ctx, q, ids(stmts)...); err != nil {
				return err
			}
			q.Set("limit", "2")
			res, _, err := c.query(ctx, q, nil)
			if err != nil {
				return err
			}
			var errs []error
			seen := ids(res.Statements)
			for pages := 1; res.More != nil && *res.More != ""; pages++ {
				more := *res.More
				if !strings.HasPrefix(more, "/") && !strings.HasPrefix(more, "http://") && !strings.HasPrefix(more, "https://") {
					errs = append(errs, fmt.Errorf(`"more" %q is neither an absolute path nor an absolute IRL`, more))
				}
				if pages > 10 {
					return fmt.Errorf(`"more" still set after %d pages of 2 statements (5 match)`, pages)
				}
				if res, err = c.page(ctx, more); err != nil {
					return err
				}
				seen = append(seen, ids(res.Statements)...)
			}
			if err := c.sameIDs(seen, ids(stmts)); err != nil {
				errs = append(errs, fmt.Errorf("pages of 2 following \"more\": %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.5.s3.b4",
			Text:     `pages fetched through "more" continue the original query: statements stored between pages are neither returned twice nor make others disappear`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			for _, ascending := range []string{"false", "true"} {
				x := c.agent()
				orig := make([]obj, 4)
				for i := range orig {
					orig[i] = c.statement(func(s obj) { s["actor"] = x })
				}
				if err := c.storeEach(ctx, orig...); err != nil {
					return err
				}
				q := url.Values{"agent": {agentParam(x)}}
				if err := c.queryExpect(ctx, q, ids(orig)...); err != nil {
					return err
				}
				q.Set("limit", "2")
				q.Set("ascending", ascending)
				res, _, err := c.query(ctx, q, nil)
				if err != nil {
					return err
				}
				seen := ids(res.Statements)
				// New statements of the same agent arrive between pages.
				if err := c.storeEach(ctx, c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x })); err != nil {
					return err
				}
				for pages := 1; res.More != nil && *res.More != ""; pages++ {
					if pages > 10 {
						return fmt.Errorf(`ascending=%s: "more" still set after %d pages`, ascending, pages)
					}
					if res, err = c.page(ctx, *res.More); err != nil {
						return err
					}
					seen = append(seen, ids(res.Statements)...)
				}
				count := map[string]int{}
				for _, id := range seen {
					count[id]++
				}
				var errs []error
				for _, s := range orig {
					if n := count[idOf(s)]; n != 1 {
						errs = append(errs, fmt.Errorf("ascending=%s: statement %s returned %d times across pages, want once", ascending, idOf(s), n))
					}
				}
				for id, n := range count {
					if n > 1 {
						errs = append(errs, fmt.Errorf("ascending=%s: statement %s returned %d times across pages", ascending, id, n))
					}
				}
				if err := errors.Join(errs...); err != nil {
					return err
				}
			}
			return nil
		},
	},
}
