package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// needsDefine is what a check needs that relies on the LRS keeping the
// activity definitions of statements: without the define scope an LRS
// keeps at most the first and does not update it (Communication 4.2,
// the table of scopes).
var needsDefine = []string{ScopeStatementsWrite, ScopeStatementsReadMine, ScopeDefine}

// activityChecks cover the Activities Resource (Communication 2.5) and the
// LRS's canonical activity definitions (Data 2.4.4.1.s4).
var activityChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.5.s1.table1.row1",
			Text:     `GET activities requires the "activityId" parameter, an IRI; without it the LRS answers 400`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			for _, q := range []url.Values{{}, {"activityId": {"not an IRI"}}} {
				r, err := c.do(ctx, request{method: http.MethodGet, path: "activities", query: q})
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
			ID:       "Communication 2.5.s2.b1",
			Text:     "for an activity without a canonical definition the LRS still returns an Activity object",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			id := c.activityID()
			got, err := c.getActivity(ctx, id)
			if err != nil {
				return err
			}
			return wantActivityObject(got, id)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.5.s1",
			Text:     "GET activities returns the complete Activity object, with the definition the LRS received in statements",
			Versions: both,
		},
		Needs: needsDefine,
		Run: func(ctx context.Context, c *Client) error {
			a := c.activity()
			def := obj{"name": obj{"en-US": "Conformance course"}, "description": obj{"en-US": "Described"},
				"type": "http://adlnet.gov/expapi/activities/course"}
			a["definition"] = def
			if _, err := c.store(ctx, c.statement(func(s obj) { s["object"] = a })); err != nil {
				return err
			}
			return c.eventually(ctx, func() error {
				got, err := c.getActivity(ctx, idOf(a))
				if err != nil {
					return err
				}
				if err := wantActivityObject(got, idOf(a)); err != nil {
					return &fatalError{err}
				}
				if !sameJSON(got["definition"], def) {
					return fmt.Errorf("definition %s, want %s", jsonString(got["definition"]), jsonString(def))
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.4.1.s4.b2",
			Text:     "references to the same activity id are the same activity: definitions from the object and from context activities of different statements describe one activity",
			Versions: both,
		},
		Needs: needsDefine,
		Run: func(ctx context.Context, c *Client) error {
			id := c.activityID()
			first := c.statement(func(s obj) {
				s["object"] = obj{"objectType": "Activity", "id": id, "definition": obj{"name": obj{"en-US": "Shared"}}}
			})
			second := c.statement(func(s obj) {
				s["context"] = obj{"contextActivities": obj{"parent": []any{
					obj{"id": id, "definition": obj{"description": obj{"en-US": "Shared activity"}}}}}}
			})
			if err := c.storeEach(ctx, first, second); err != nil {
				return err
			}
			want := obj{"name": obj{"en-US": "Shared"}, "description": obj{"en-US": "Shared activity"}}
			return c.eventually(ctx, func() error {
				got, err := c.getActivity(ctx, id)
				if err != nil {
					return err
				}
				if !sameJSON(got["definition"], want) {
					return fmt.Errorf("definition %s, want %s", jsonString(got["definition"]), jsonString(want))
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.4.1.s4.b3",
			Text:     "a definition that differs from the stored one, from a provider with the authority to change it (scope define), updates the canonical definition",
			Versions: both,
		},
		Needs: needsDefine,
		Run: func(ctx context.Context, c *Client) error {
			id := c.activityID()
			first := c.statement(func(s obj) {
				s["object"] = obj{"id": id, "definition": obj{"name": obj{"en-US": "Fractoins"}}}
			})
			second := c.statement(func(s obj) {
				s["object"] = obj{"id": id, "definition": obj{"name": obj{"en-US": "Fractions", "fi-FI": "Murtoluvut"}}}
			})
			if err := c.storeEach(ctx, first, second); err != nil {
				return err
			}
			want := obj{"name": obj{"en-US": "Fractions", "fi-FI": "Murtoluvut"}}
			return c.eventually(ctx, func() error {
				got, err := c.getActivity(ctx, id)
				if err != nil {
					return err
				}
				if !sameJSON(got["definition"], want) {
					return fmt.Errorf("definition %s, want %s", jsonString(got["definition"]), jsonString(want))
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.3.1.b2",
			Text:     "activity definitions are not part of the statement: format=canonical returns the LRS's canonical definition, format=exact the statement as received",
			Versions: both,
		},
		Needs: needsDefine,
		Run: func(ctx context.Context, c *Client) error {
			id := c.activityID()
			old := c.statement(func(s obj) {
				s["object"] = obj{"id": id, "definition": obj{"name": obj{"en-US": "Old name"}}}
			})
			renamed := c.statement(func(s obj) {
				s["object"] = obj{"id": id, "definition": obj{"name": obj{"en-US": "New name"}}}
			})
			if err := c.storeEach(ctx, old, renamed); err != nil {
				return err
			}
			lang := http.Header{"Accept-Language": {"en-US"}}
			return c.eventually(ctx, func() error {
				got, _, err := c.fetch(ctx, idOf(old), url.Values{"format": {"canonical"}}, lang)
				if err != nil {
					return err
				}
				if name := get(got, "object/definition/name"); !sameJSON(name, obj{"en-US": "New name"}) {
					return fmt.Errorf("format=canonical: object name %s, want the canonical {\"en-US\":\"New name\"}", jsonString(name))
				}
				exact, _, err := c.fetch(ctx, idOf(old), url.Values{"format": {"exact"}}, nil)
				if err != nil {
					return err
				}
				if name := get(exact, "object/definition/name"); !sameJSON(name, obj{"en-US": "Old name"}) {
					return &fatalError{fmt.Errorf("format=exact: object name %s, want the received {\"en-US\":\"Old name\"}", jsonString(name))}
				}
				return nil
			})
		},
	},
}

// getActivity returns GET activities?activityId=id, which must be 200 JSON.
func (c *Client) getActivity(ctx context.Context, id string) (obj, error) {
	r, err := c.do(ctx, request{method: http.MethodGet, path: "activities", query: url.Values{"activityId": {id}}})
	if err != nil {
		return nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, err
	}
	var got obj
	if err := r.decode(&got); err != nil {
		return nil, err
	}
	return got, nil
}

// wantActivityObject checks that got is an Activity object with the id.
func wantActivityObject(got obj, id string) error {
	if t, ok := got["objectType"]; ok && t != "Activity" {
		return fmt.Errorf("objectType %v, want Activity", t)
	}
	if idOf(got) != id {
		return fmt.Errorf("Activity object has id %q, want %q: %s", idOf(got), id, jsonString(got))
	}
	return nil
}
