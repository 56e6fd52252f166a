package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// queryChecks cover the filter parameters of GET Statements (Communication 2.1.3).
var queryChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row3",
			Text:     `"agent" returns statements whose actor or object is the agent (by IFI), including groups that have it as a member; not other roles`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			asActor := c.named("actor", c.statement(func(s obj) { s["actor"] = x }))
			asObject := c.named("object", c.statement(func(s obj) { s["object"] = x }))
			inGroup := c.named("member of the actor group", c.statement(func(s obj) { s["actor"] = obj{"objectType": "Group", "member": []any{c.agent(), x}} }))
			sameIFI := c.named("actor with the same IFI", c.statement(func(s obj) { s["actor"] = obj{"mbox": x["mbox"], "name": "Other name"} }))
			asInstructor := c.named("instructor", c.statement(func(s obj) { set(s, "context/instructor", x) }))
			if _, err := c.store(ctx, asActor, asObject, inGroup, sameIFI, asInstructor); err != nil {
				return err
			}
			errs := []error{c.queryExpect(ctx, url.Values{"agent": {agentParam(obj{"mbox": x["mbox"]})}},
				idOf(asActor), idOf(asObject), idOf(inGroup), idOf(sameIFI))}
			// Every kind of inverse functional identifier works as a filter.
			for _, ifi := range []obj{
				{"mbox_sha1sum": randomHex(20)},
				{"openid": "https://openid.conformance.example.com/" + c.unique("openid")},
				{"account": obj{"homePage": "https://idp.conformance.example.com", "name": c.unique("account")}},
			} {
				s := c.statement(func(s obj) { s["actor"] = clone(ifi) })
				if _, err := c.store(ctx, s); err != nil {
					return err
				}
				if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(ifi)}}, idOf(s)); err != nil {
					errs = append(errs, fmt.Errorf("agent %s: %w", jsonString(ifi), err))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row4",
			Text:     `"verb" returns only statements with the given verb id`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			v := c.verb()
			a := c.statement(func(s obj) { s["verb"] = v })
			b := c.statement(func(s obj) { s["verb"] = obj{"id": v["id"]} })
			other := c.statement(func(s obj) { s["actor"] = a["actor"] })
			if _, err := c.store(ctx, a, b, other); err != nil {
				return err
			}
			return c.queryExpect(ctx, url.Values{"verb": {str(v["id"])}}, idOf(a), idOf(b))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row5",
			Text:     `"activity" returns statements whose object is the activity with that id (not context activities unless related_activities)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			act := c.activity()
			a := c.statement(func(s obj) { s["object"] = act })
			b := c.statement(func(s obj) { s["object"] = obj{"id": act["id"]} })
			inContext := c.statement(func(s obj) { set(s, "context/contextActivities/parent", []any{act}) })
			if _, err := c.store(ctx, a, b, inContext); err != nil {
				return err
			}
			return c.queryExpect(ctx, url.Values{"activity": {str(act["id"])}}, idOf(a), idOf(b))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row6",
			Text:     `"registration" returns statements with that registration; combined with "agent" or "activity" both must match`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			reg := newUUID()
			x := c.agent()
			mine := c.statement(func(s obj) { s["actor"] = x; set(s, "context/registration", reg) })
			theirs := c.statement(func(s obj) { set(s, "context/registration", reg) })
			unregistered := c.statement(func(s obj) { s["actor"] = x })
			if _, err := c.store(ctx, mine, theirs, unregistered); err != nil {
				return err
			}
			var errs []error
			if err := c.queryExpect(ctx, url.Values{"registration": {reg}}, idOf(mine), idOf(theirs)); err != nil {
				errs = append(errs, fmt.Errorf("registration: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"registration": {reg}, "agent": {agentParam(x)}}, idOf(mine)); err != nil {
				errs = append(errs, fmt.Errorf("registration and agent: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"registration": {reg}, "activity": {str(get(theirs, "object/id"))}}, idOf(theirs)); err != nil {
				errs = append(errs, fmt.Errorf("registration and activity: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"registration": {reg}, "verb": {str(get(unregistered, "verb/id"))}}); err != nil {
				errs = append(errs, fmt.Errorf("registration and the verb of another statement: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row7",
			Text:     `"related_activities=true" matches the activity also in context activities (parent, grouping, category, other) and in a SubStatement`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			act := c.activity()
			ref := obj{"objectType": "Activity", "id": act["id"]}
			var stmts []obj
			object := c.statement(func(s obj) { s["object"] = act })
			stmts = append(stmts, object)
			for _, kind := range []string{"parent", "grouping", "category", "other"} {
				stmts = append(stmts, c.statement(func(s obj) { set(s, "context/contextActivities/"+kind, []any{ref}) }))
			}
			stmts = append(stmts,
				c.statement(func(s obj) {
					s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": ref}
				}),
				c.statement(func(s obj) {
					sub := obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": c.activity()}
					set(sub, "context/contextActivities/grouping", []any{ref})
					s["object"] = sub
				}),
			)
			if _, err := c.store(ctx, stmts...); err != nil {
				return err
			}
			var errs []error
			if err := c.queryExpect(ctx, url.Values{"activity": {str(act["id"])}, "related_activities": {"true"}}, ids(stmts)...); err != nil {
				errs = append(errs, fmt.Errorf("related_activities=true: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"activity": {str(act["id"])}, "related_activities": {"false"}}, idOf(object)); err != nil {
				errs = append(errs, fmt.Errorf("related_activities=false: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row8",
			Text:     `"related_agents=true" matches the agent also as authority, instructor, team, in a SubStatement (and in 2.0 in contextAgents and contextGroups)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			team := c.group()
			teamIFI := obj{"objectType": "Group", "mbox": team["mbox"]}
			actor := c.named("actor", c.statement(func(s obj) { s["actor"] = x }))
			instructor := c.named("instructor", c.statement(func(s obj) { set(s, "context/instructor", x) }))
			inTeam := c.named("team", c.statement(func(s obj) { set(s, "context/team", team) }))
			subActor := c.named("SubStatement actor", c.statement(func(s obj) {
				s["object"] = obj{"objectType": "SubStatement", "actor": x, "verb": c.verb(), "object": c.activity()}
			}))
			subInstructor := c.named("SubStatement instructor", c.statement(func(s obj) {
				sub := obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": c.activity()}
				set(sub, "context/instructor", x)
				s["object"] = sub
			}))
			stmts := []obj{actor, instructor, subActor, subInstructor}
			if c.version == V200 {
				stmts = append(stmts,
					c.named("contextAgents", c.statement(func(s obj) {
						set(s, "context/contextAgents", []any{obj{"objectType": "contextAgent", "agent": x}})
					})),
				)
			}
			groupStmts := []obj{inTeam}
			if c.version == V200 {
				groupStmts = append(groupStmts, c.named("contextGroups", c.statement(func(s obj) {
					set(s, "context/contextGroups", []any{obj{"objectType": "contextGroup", "group": team}})
				})))
			}
			if _, err := c.store(ctx, append(slices.Clone(stmts), groupStmts...)...); err != nil {
				return err
			}
			var errs []error
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "related_agents": {"true"}}, ids(stmts)...); err != nil {
				errs = append(errs, fmt.Errorf("related_agents=true: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "related_agents": {"false"}}, idOf(actor)); err != nil {
				errs = append(errs, fmt.Errorf("related_agents=false: %w", err))
			}
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(teamIFI)}, "related_agents": {"true"}}, ids(groupStmts)...); err != nil {
				errs = append(errs, fmt.Errorf("identified group: %w", err))
			}
			// The authority is the credential's: narrow the query by verb. An
			// anonymous Group (OAuth's application and user) cannot be an
			// agent parameter, so only an identified authority is queried.
			got, _, err := c.fetch(ctx, idOf(actor), nil, nil)
			if err != nil {
				return err
			}
			if auth, ok := got["authority"].(obj); ok && countIFIs(auth) == 1 {
				q := url.Values{"agent": {agentParam(auth)}, "related_agents": {"true"}, "verb": {str(get(actor, "verb/id"))}}
				if err := c.queryExpect(ctx, q, idOf(actor)); err != nil {
					errs = append(errs, fmt.Errorf("authority: %w", err))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row9",
			Text:     `"since" returns only statements stored after the given timestamp (exclusive)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x, first, second, err := c.twoStored(ctx)
			if err != nil {
				return err
			}
			var errs []error
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "since": {str(first["stored"])}}, idOf(second)); err != nil {
				errs = append(errs, err)
			}
			// The same instant written in another time zone selects the same statements.
			t, _ := parseTimestamp(str(first["stored"]))
			other := t.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000000000-07:00")
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "since": {other}}, idOf(second)); err != nil {
				errs = append(errs, fmt.Errorf("since %s: %w", other, err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row10",
			Text:     `"until" returns only statements stored at or before the given timestamp (inclusive)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x, first, second, err := c.twoStored(ctx)
			if err != nil {
				return err
			}
			var errs []error
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "until": {str(first["stored"])}}, idOf(first)); err != nil {
				errs = append(errs, err)
			}
			if err := c.queryExpect(ctx, url.Values{"agent": {agentParam(x)}, "since": {str(first["stored"])}, "until": {str(second["stored"])}}, idOf(second)); err != nil {
				errs = append(errs, fmt.Errorf("since and until: %w", err))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row11",
			Text:     `"limit" is the maximum number of statements to return; 0 means the maximum the server allows`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			stmts := []obj{c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x })}
			if _, err := c.store(ctx, stmts...); err != nil {
				return err
			}
			q := url.Values{"agent": {agentParam(x)}}
			if err := c.queryExpect(ctx, q, ids(stmts)...); err != nil {
				return err
			}
			var errs []error
			for _, limit := range []int{1, 2} {
				res, _, err := c.query(ctx, url.Values{"agent": {agentParam(x)}, "limit": {fmt.Sprint(limit)}}, nil)
				if err != nil {
					return err
				}
				if len(res.Statements) != limit {
					errs = append(errs, fmt.Errorf("limit=%d returned %d statements", limit, len(res.Statements)))
				}
				if res.More == nil || *res.More == "" {
					errs = append(errs, fmt.Errorf(`limit=%d returned no "more" IRL although more statements match`, limit))
				}
			}
			res, _, err := c.query(ctx, url.Values{"agent": {agentParam(x)}, "limit": {"0"}}, nil)
			if err != nil {
				return err
			}
			if len(res.Statements) != len(stmts) {
				errs = append(errs, fmt.Errorf("limit=0 returned %d statements, want all %d", len(res.Statements), len(stmts)))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1",
			Text:     `a query returns statements in reverse chronological order of "stored"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			stmts := []obj{c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x })}
			if err := c.storeEach(ctx, stmts...); err != nil {
				return err
			}
			want := ids(stmts)
			slices.Reverse(want)
			return c.eventually(ctx, func() error {
				got, err := c.queryAll(ctx, url.Values{"agent": {agentParam(x)}})
				if err != nil {
					return err
				}
				if !slices.Equal(ids(got), want) {
					return fmt.Errorf("query returned %v, want newest first %v", ids(got), want)
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row14",
			Text:     `"ascending=true" returns statements in ascending order of "stored"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			x := c.agent()
			stmts := []obj{c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x }), c.statement(func(s obj) { s["actor"] = x })}
			if err := c.storeEach(ctx, stmts...); err != nil {
				return err
			}
			return c.eventually(ctx, func() error {
				got, err := c.queryAll(ctx, url.Values{"agent": {agentParam(x)}, "ascending": {"true"}})
				if err != nil {
					return err
				}
				if !slices.Equal(ids(got), ids(stmts)) {
					return fmt.Errorf("ascending query returned %v, want oldest first %v", ids(got), ids(stmts))
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s3",
			Text:     "statements targeting another statement by StatementRef (recursively) meet a filter when the target does; since/until still apply to the targeting statement; context StatementRefs do not count",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			a := c.statement()
			b := c.statement(func(s obj) { s["object"] = obj{"objectType": "StatementRef", "id": idOf(a)} })
			cc := c.statement(func(s obj) { s["object"] = obj{"objectType": "StatementRef", "id": idOf(b)} })
			inContext := c.statement(func(s obj) { set(s, "context/statement", obj{"objectType": "StatementRef", "id": idOf(a)}) })
			if err := c.storeEach(ctx, a, b, cc, inContext); err != nil {
				return err
			}
			var errs []error
			for name, q := range map[string]url.Values{
				"agent":    {"agent": {agentParam(a["actor"].(obj))}},
				"verb":     {"verb": {str(get(a, "verb/id"))}},
				"activity": {"activity": {str(get(a, "object/id"))}},
			} {
				if err := c.queryExpect(ctx, q, idOf(a), idOf(b), idOf(cc)); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
				}
			}
			storedB, _, err := c.fetch(ctx, idOf(b), nil, nil)
			if err != nil {
				return err
			}
			q := url.Values{"verb": {str(get(a, "verb/id"))}, "since": {str(storedB["stored"])}}
			if err := c.queryExpect(ctx, q, idOf(cc)); err != nil {
				errs = append(errs, fmt.Errorf("verb and since: %w", err))
			}
			return errors.Join(errs...)
		},
	},
}

// twoStored stores two statements of one agent, the second clearly later,
// and returns the agent and the statements as the LRS returns them.
func (c *Client) twoStored(ctx context.Context) (agent, first, second obj, err error) {
	x := c.agent()
	s1 := c.statement(func(s obj) { s["actor"] = x })
	s2 := c.statement(func(s obj) { s["actor"] = x })
	if _, err := c.store(ctx, s1); err != nil {
		return nil, nil, nil, err
	}
	if first, _, err = c.fetch(ctx, idOf(s1), nil, nil); err != nil {
		return nil, nil, nil, err
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := c.store(ctx, s2); err != nil {
		return nil, nil, nil, err
	}
	if second, _, err = c.fetch(ctx, idOf(s2), nil, nil); err != nil {
		return nil, nil, nil, err
	}
	t1, err1 := parseTimestamp(str(first["stored"]))
	t2, err2 := parseTimestamp(str(second["stored"]))
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, nil, fmt.Errorf(`"stored": %w`, err)
	}
	if !t1.Before(t2) {
		return nil, nil, nil, fmt.Errorf(`statement stored 20 ms after another has "stored" %s, not after %s`, second["stored"], first["stored"])
	}
	return x, first, second, nil
}
