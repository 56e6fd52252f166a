package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// formatChecks cover the "format" parameter of GET Statements
// (Communication 2.1.3, Data 2.4.3.s6).
var formatChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row12",
			Text:     `format=ids includes only the minimum needed to identify Agents (one IFI), Groups, Activities (id alone, also in SubStatements and context activities) and Verbs (id)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			member := obj{"objectType": "Agent", "name": "Member", "mbox": c.mbox()}
			s := c.statement(func(s obj) {
				set(s, "actor/name", "Named Learner")
				set(s, "verb/display", obj{"en-US": "experienced", "fi": "koki"})
				set(s, "object/definition", obj{"name": obj{"en-US": "Activity"}, "description": obj{"en-US": "An activity"}})
				set(s, "context/team", obj{"objectType": "Group", "name": "Team", "member": []any{member}})
			})
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			var errs []error
			check := func(name string, got any, allowed ...string) {
				o, ok := got.(obj)
				if !ok {
					errs = append(errs, fmt.Errorf("%s is missing: %s", name, jsonString(got)))
					return
				}
				for k := range o {
					if !slices.Contains(allowed, k) {
						errs = append(errs, fmt.Errorf("format=ids: %s has %q: %s", name, k, jsonString(o)))
					}
				}
			}
			for _, how := range []string{"statementId", "query"} {
				var got obj
				if how == "statementId" {
					st, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"ids"}}, nil)
					if err != nil {
						return err
					}
					got = st
				} else {
					q := url.Values{"agent": {agentParam(s["actor"].(obj))}, "format": {"ids"}}
					if err := c.eventually(ctx, func() error {
						res, _, err := c.query(ctx, q, nil)
						if err != nil {
							return err
						}
						if len(res.Statements) != 1 {
							return fmt.Errorf("format=ids query returned %d statements, want 1", len(res.Statements))
						}
						got = res.Statements[0]
						return nil
					}); err != nil {
						return err
					}
				}
				check(how+": actor", got["actor"], "objectType", "mbox")
				check(how+": verb", got["verb"], "id")
				check(how+": object", got["object"], "id")
				check(how+": team", get(got, "context/team"), "objectType", "member")
				if members, ok := get(got, "context/team/member").([]any); ok && len(members) == 1 {
					check(how+": team member", members[0], "objectType", "mbox")
				} else {
					errs = append(errs, fmt.Errorf("%s: anonymous team lost its member: %s", how, jsonString(get(got, "context/team"))))
				}
			}
			errs = append(errs, c.idsActivities(ctx))
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.3.s6.b1",
			Text:     `with format=exact the LRS returns the verb "display" exactly as included (or omitted) in the statement`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			verbID := c.verbID()
			first := c.statement(func(s obj) { s["verb"] = obj{"id": verbID, "display": obj{"en-US": "tried"}} })
			bare := c.statement(func(s obj) { s["verb"] = obj{"id": verbID} })
			later := c.statement(func(s obj) { s["verb"] = obj{"id": verbID, "display": obj{"en-US": "attempted", "fi": "yritti"}} })
			if err := c.storeEach(ctx, first, bare, later); err != nil {
				return err
			}
			var errs []error
			for _, s := range []obj{first, bare, later} {
				got, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"exact"}}, nil)
				if err != nil {
					return err
				}
				if !sameJSON(got["verb"], s["verb"]) {
					errs = append(errs, fmt.Errorf("verb returned as %s, sent %s", jsonString(got["verb"]), jsonString(s["verb"])))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s4.b1",
			Text:     `with format=canonical the LRS returns only one language in each language map of an Activity ("name", "description", ...)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.multilingualStatement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			got, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"canonical"}}, nil)
			if err != nil {
				return err
			}
			var errs []error
			for _, p := range []string{"object/definition/name", "object/definition/description"} {
				m, ok := get(got, p).(obj)
				if !ok || len(m) != 1 {
					errs = append(errs, fmt.Errorf("%s is %s, want one language", p, jsonString(get(got, p))))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s4.b5",
			Text:     `with format=canonical the LRS chooses each language map's entry by the "Accept-Language" header (RFC 2616), map by map`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.multilingualStatement()
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			var errs []error
			for _, tc := range []struct{ accept, want string }{
				{"fi", "fi"},
				{"de-DE, fi;q=0.5", "fi"},
				{"sv;q=0.2, en-US;q=0.9", "en-US"},
			} {
				got, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"canonical"}}, http.Header{"Accept-Language": {tc.accept}})
				if err != nil {
					return err
				}
				for _, p := range []string{"object/definition/name", "object/definition/description"} {
					m, _ := get(got, p).(obj)
					if _, ok := m[tc.want]; !ok || len(m) != 1 {
						errs = append(errs, fmt.Errorf("Accept-Language %q: %s is %s, want only %q", tc.accept, p, jsonString(m), tc.want))
					}
				}
			}
			return errors.Join(errs...)
		},
	},
}

// multilingualStatement returns a statement whose activity has names and
// descriptions in three languages.
func (c *Client) multilingualStatement() obj {
	return c.statement(func(s obj) {
		set(s, "object/definition", obj{
			"name":        obj{"en-US": "Lesson", "fi": "Oppitunti", "sv": "Lektion"},
			"description": obj{"en-US": "A lesson", "fi": "Oppitunti", "sv": "En lektion"},
		})
	})
}

// idsActivities checks that format=ids gives an Activity as {"id": …} only,
// also when it was sent with "objectType", as the object of a SubStatement
// and in context activities.
func (c *Client) idsActivities(ctx context.Context) error {
	inner := c.activity()
	s := c.statement(func(s obj) {
		s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": inner}
		set(s, "context/contextActivities", obj{"grouping": []any{c.activity()}})
	})
	if _, err := c.store(ctx, s); err != nil {
		return err
	}
	got, _, err := c.fetch(ctx, idOf(s), url.Values{"format": {"ids"}}, nil)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range []string{"object/object", "context/contextActivities/grouping"} {
		v := get(got, p)
		if l, ok := v.([]any); ok && len(l) == 1 {
			v = l[0]
		}
		o, ok := v.(obj)
		if !ok || len(o) != 1 || o["id"] == nil {
			errs = append(errs, fmt.Errorf("format=ids: %s is %s, want {\"id\": …} only", p, jsonString(v)))
		}
	}
	return errors.Join(errs...)
}
