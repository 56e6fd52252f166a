package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// agentChecks cover the Agents Resource (Communication 2.4): the Person
// object of an agent.
var agentChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s2.table1.row1",
			Text:     `GET agents requires the "agent" parameter, an Agent object; a missing or malformed agent is rejected with 400`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			for _, q := range []url.Values{{}, {"agent": {"not JSON"}}, {"agent": {`{"name":"No identifier"}`}},
				{"agent": {`{"mbox":"not-a-mailto"}`}}} {
				r, err := c.do(ctx, request{method: http.MethodGet, path: "agents", query: q})
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s3.b3",
			Text:     "for an agent the LRS knows nothing about it still returns a Person object with the information of the requested agent",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			mbox := c.mbox()
			p, err := c.getPerson(ctx, obj{"objectType": "Agent", "mbox": mbox})
			if err != nil {
				return err
			}
			if !slices.Contains(stringList(p["mbox"]), mbox) {
				return fmt.Errorf("Person %s does not list the requested mbox %s", jsonString(p), mbox)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s5.table1.row1",
			Text:     `the Person object has objectType "Person"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			p, err := c.getPerson(ctx, c.agent())
			if err != nil {
				return err
			}
			if p["objectType"] != "Person" {
				return fmt.Errorf(`Person objectType %v, want "Person"`, p["objectType"])
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s6.b1",
			Text:     "the Person object's properties are arrays whose members are defined as the same properties of Agents (names, mailto IRIs, complete accounts)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			account := obj{"homePage": "https://conformance.example.com", "name": c.unique("account")}
			a := obj{"objectType": "Agent", "name": "Conformance Learner", "account": account}
			if _, err := c.store(ctx, c.statement(func(s obj) { s["actor"] = a })); err != nil {
				return err
			}
			p, err := c.getPerson(ctx, a)
			if err != nil {
				return err
			}
			accounts, ok := p["account"].([]any)
			if !ok || !slices.ContainsFunc(accounts, func(x any) bool { return sameJSON(x, account) }) {
				return fmt.Errorf("Person %s: \"account\" is not an array holding the complete account %s", jsonString(p), jsonString(account))
			}
			for _, k := range []string{"name", "mbox", "mbox_sha1sum", "openid", "account"} {
				if v, ok := p[k]; ok {
					if _, isArray := v.([]any); !isArray {
						return fmt.Errorf("Person %s: %q is not an array", jsonString(p), k)
					}
				}
			}
			if names := stringList(p["name"]); len(names) > 0 && !slices.Contains(names, "Conformance Learner") {
				return fmt.Errorf("Person %s: \"name\" lacks the agent's name", jsonString(p))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s6.b2",
			Text:     "the Person object has no properties besides objectType, name, mbox, mbox_sha1sum, openid and account",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			p, err := c.getPerson(ctx, obj{"objectType": "Agent", "name": "Open", "openid": "http://openid.conformance.example.com/" + c.unique("openid")})
			if err != nil {
				return err
			}
			for k := range p {
				if !slices.Contains([]string{"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}, k) {
					return fmt.Errorf("Person %s has the property %q", jsonString(p), k)
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.4.s2",
			Text:     `the "agent" parameter of GET agents is an Agent, not a Group: a Group is rejected with 400`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			r, err := c.do(ctx, request{method: http.MethodGet, path: "agents", query: url.Values{"agent": {jsonString(c.group())}}})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusBadRequest)
		},
	},
}

// getPerson returns GET agents?agent=a, which must be 200 JSON.
func (c *Client) getPerson(ctx context.Context, a obj) (obj, error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "agents", query: url.Values{"agent": {jsonString(a)}}})
	if err != nil {
		return nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, err
	}
	var p obj
	if err := r.decode(&p); err != nil {
		return nil, err
	}
	return p, nil
}

// stringList returns the strings of a JSON array.
func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
