package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// probe is one request body sent to POST /statements by a validation check.
type probe struct {
	name string
	body func(c *Client) any
}

// rejectProbes POSTs each probe's body and checks for 400 Bad Request, and
// that a rejected statement was not stored.
func rejectProbes(ctx context.Context, c *Client, probes ...probe) error {
	var errs []error
	for _, p := range probes {
		body := p.body(c)
		r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: body})
		if err != nil {
			return err
		}
		if err := r.wantStatus(http.StatusBadRequest); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
			continue
		}
		if s, ok := body.(obj); ok && uuidPattern.MatchString(idOf(s)) {
			if err := c.wantNotStored(ctx, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// acceptProbes POSTs each probe's body and checks for 200 OK.
func acceptProbes(ctx context.Context, c *Client, probes ...probe) error {
	var errs []error
	for _, p := range probes {
		r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: p.body(c)})
		if err != nil {
			return err
		}
		if err := r.wantStatus(http.StatusOK); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// with returns a probe sending a fresh statement changed by edit.
func with(name string, edit func(c *Client, s obj)) probe {
	return probe{name, func(c *Client) any { return c.statement(func(s obj) { edit(c, s) }) }}
}

// setting returns a probe sending a fresh statement with path set to v.
func setting(path string, v any) probe {
	return with(fmt.Sprintf("%s = %s", path, jsonString(v)), func(_ *Client, s obj) { set(s, path, v) })
}

// rejecting returns a check expecting 400 for every probe.
func rejecting(id, text string, versions []string, probes ...probe) Check {
	return Check{
		Requirement: Requirement{ID: id, Text: text, Versions: versions},
		Run: func(ctx context.Context, c *Client) error {
			return rejectProbes(ctx, c, probes...)
		},
	}
}

// validationChecks cover the statement formatting rules the LRS enforces:
// a sample of each rule family (Data 2.2, 2.4, 4).
var validationChecks = []Check{
	rejecting("Data 2.2.s2.b3", `a statement MUST use "actor", "verb" and "object": one without any of them is rejected`, both,
		with("no actor", func(_ *Client, s obj) { delete(s, "actor") }),
		with("no verb", func(_ *Client, s obj) { delete(s, "verb") }),
		with("no object", func(_ *Client, s obj) { delete(s, "object") }),
		with("empty actor", func(_ *Client, s obj) { s["actor"] = obj{} }),
	),
	rejecting("Data 2.2.s4.b1.b1", "the LRS rejects statements with any null values (except inside extensions)", both,
		setting("actor/name", nil),
		setting("result/success", nil),
		setting("context/registration", nil),
		setting("timestamp", nil),
		setting("verb/display/en-US", nil),
	),
	rejecting("Data 2.2.s4.b1.b2", "the LRS rejects statements with strings where numbers are required, even if those strings contain numbers", both,
		setting("result/score/raw", "10"),
		setting("result/score/scaled", "0.5"),
		setting("attachments", []any{obj{"usageType": "http://conformance.example.com/usage", "display": obj{"en-US": "a"}, "contentType": "text/plain", "length": "27", "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a", "fileUrl": "https://conformance.example.com/a.txt"}}),
	),
	rejecting("Data 2.2.s4.b1.b3", "the LRS rejects statements with strings where booleans are required, even if those strings contain booleans", both,
		setting("result/success", "true"),
		setting("result/completion", "false"),
	),
	rejecting("Data 2.2.s4.b1.b4", "the LRS rejects statements with a value not following its required format (mailto IRI, UUID, timestamp, duration), including the empty string", both,
		with("mbox without mailto:", func(c *Client, s obj) { set(s, "actor/mbox", c.unique("x")+"@conformance.example.com") }),
		setting("actor/mbox", ""),
		setting("id", "not-a-uuid"),
		setting("id", ""),
		setting("context/registration", "1234"),
		setting("timestamp", "yesterday"),
		setting("timestamp", "01/11/2015"),
		setting("timestamp", ""),
		setting("result/duration", "1 hour"),
		setting("verb/id", ""),
		setting("actor/mbox_sha1sum", "not-a-sha1"),
		setting("id", "0123456789abcdef0123456789abcdef"),
		setting("object", obj{"objectType": "StatementRef", "id": "not-a-uuid"}),
	),
	rejecting("Data 2.2.s4.b1.b5", "the LRS rejects statements where the case of a key does not match the case given in the specification", both,
		setting("result/Success", true),
		with(`"ObjectType" key`, func(_ *Client, s obj) {
			a := s["actor"].(obj)
			a["ObjectType"] = a["objectType"]
			delete(a, "objectType")
		}),
		setting("context/contextActivities/Parent", []any{obj{"id": "http://conformance.example.com/activities/parent"}}),
	),
	rejecting("Data 2.2.s4.b1.b6", "the LRS rejects statements where the case of an enumerated value does not match the specification exactly", both,
		setting("actor/objectType", "agent"),
		setting("object/objectType", "activity"),
		with("statementref", func(_ *Client, s obj) {
			s["object"] = obj{"objectType": "statementref", "id": newUUID()}
		}),
		setting("object/definition/interactionType", "True-False"),
	),
	rejecting("Data 2.2.s4.b1.b7", "the LRS rejects statements with a key not allowed by the specification", both,
		setting("foo", "bar"),
		setting("actor/nickname", "Jo"),
		setting("verb/label", "did"),
		setting("result/grade", "A"),
		setting("context/location", "room 1"),
	),
	rejecting("Data 2.2.s4.b1.b8", "the LRS rejects statements containing IRL or IRI values without a scheme", both,
		setting("verb/id", "conformance.example.com/verbs/did"),
		setting("object/id", "activities/42"),
		setting("object/definition/type", "type-without-scheme"),
		setting("actor/account", obj{"homePage": "conformance.example.com", "name": "x"}),
		with("attachment fileUrl without scheme", func(c *Client, s obj) {
			a := c.fileURLAttachment()
			a["fileUrl"] = "files/cert.pdf"
			s["attachments"] = []any{a}
		}),
	),
	rejecting("Data 2.2.s4.b2", "the LRS validates language map keys as RFC 5646 language tags", both,
		setting("verb/display", obj{"en_US": "did"}),
		setting("verb/display", obj{"abcdefghi": "did"}),
		setting("object/definition/name", obj{"en-": "activity"}),
		setting("context/language", "not a tag"),
	),
	rejecting("Data 2.4.2.1.s2.b1", "an Agent MUST be identified by one of the four inverse functional identifiers", both,
		setting("actor", obj{"objectType": "Agent", "name": "Nobody"}),
	),
	rejecting("Data 2.4.2.1.s2.b2", "an Agent MUST NOT include more than one inverse functional identifier", both,
		with("mbox and openid", func(_ *Client, s obj) { set(s, "actor/openid", "https://openid.conformance.example.com/u") }),
	),
	rejecting("Data 2.4.2.4.s2.table1.row1", `an account's "homePage" (an IRL) is required`, both,
		with("account without homePage", func(c *Client, s obj) {
			s["actor"] = obj{"objectType": "Agent", "account": obj{"name": c.unique("account")}}
		}),
	),
	rejecting("Data 2.4.2.4.s2.table1.row2", `an account's "name" is required`, both,
		setting("actor", obj{"objectType": "Agent", "account": obj{"homePage": "https://idp.conformance.example.com"}}),
	),
	rejecting("Data 2.4.3.s3.table1.row1", `a Verb's "id" (an IRI) is required`, both,
		setting("verb", obj{"display": obj{"en-US": "did"}}),
	),
	rejecting("Data 2.4.4.1.s1.table1.row2", `an Activity's "id" (an IRI) is required`, both,
		setting("object", obj{"objectType": "Activity", "definition": obj{"name": obj{"en-US": "No id"}}}),
	),
	rejecting("Data 2.4.4.1.s16.b1", "within an array of interaction components all id values MUST be distinct", both,
		setting("object/definition", obj{
			"type":            "http://adlnet.gov/expapi/activities/cmi.interaction",
			"interactionType": "choice",
			"choices":         []any{obj{"id": "a", "description": obj{"en-US": "A"}}, obj{"id": "a", "description": obj{"en-US": "Also A"}}},
		}),
	),
	rejecting("Data 2.4.6.s3.table1.row3", `the context "team" is a Group`, both,
		with("an Agent as team", func(c *Client, s obj) { set(s, "context/team", c.agent()) }),
	),
	rejecting("Data 2.4.2.2.s4.b1", `an Anonymous Group MUST include a "member" property`, both,
		setting("actor", obj{"objectType": "Group", "name": "Nobody"}),
	),
	rejecting("Data 2.4.2.2.s4.b2", "a Group MUST NOT contain Group objects in its members", both,
		with("group in group", func(c *Client, s obj) {
			s["actor"] = obj{"objectType": "Group", "member": []any{c.agent(), c.group()}}
		}),
	),
	rejecting("Data 2.4.4.2.s1.b1", `a statement with an Agent or Group as object MUST specify the object's "objectType"`, both,
		with("agent object without objectType", func(c *Client, s obj) { s["object"] = obj{"mbox": c.mbox()} }),
	),
	rejecting("Data 2.4.4.1.s13.b1", "interaction activities MUST have a valid interactionType", both,
		setting("object/definition/interactionType", "essay"),
	),
	rejecting("Data 2.4.4.3.s8.b2", "a SubStatement MUST be validated as a statement", both,
		with("substatement without verb", func(c *Client, s obj) {
			s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "object": c.activity()}
		}),
		with("substatement with a bad mbox", func(c *Client, s obj) {
			s["object"] = obj{"objectType": "SubStatement", "actor": obj{"mbox": "nobody"}, "verb": c.verb(), "object": c.activity()}
		}),
	),
	rejecting("Data 2.4.4.3.s8.b3", `a SubStatement MUST NOT have the "id", "stored", "version" or "authority" properties`, both,
		substatementWith("id", newUUID()),
		substatementWith("stored", "2020-01-01T00:00:00Z"),
		substatementWith("version", "1.0.0"),
		substatementWith("authority", obj{"objectType": "Agent", "mbox": "mailto:authority@conformance.example.com"}),
	),
	rejecting("Data 2.4.4.3.s8.b4", "a SubStatement MUST NOT contain a SubStatement of its own", both,
		with("nested substatement", func(c *Client, s obj) {
			inner := obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": c.activity()}
			s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": inner}
		}),
	),
	rejecting("Data 2.4.5.1.s2.table1.row1", `score "scaled" is a decimal number between -1 and 1, inclusive`, both,
		setting("result/score/scaled", 1.5),
		setting("result/score/scaled", -1.01),
	),
	rejecting("Data 2.4.5.1.s2.table1.row2", `score "raw" is a decimal number between "min" and "max" (when present), inclusive`, both,
		setting("result/score", obj{"raw": 11.0, "min": 0.0, "max": 10.0}),
		setting("result/score", obj{"raw": -1.0, "min": 0.0}),
	),
	rejecting("Data 2.4.5.1.s2.table1.row3", `score "min" is a decimal number less than "max"`, both,
		setting("result/score", obj{"min": 10.0, "max": 1.0}),
	),
	rejecting("Data 2.4.6.s4.b1", `the "revision" property MUST only be used if the statement's object is an Activity`, both,
		with("revision with an Agent object", func(c *Client, s obj) {
			s["object"] = c.agent()
			set(s, "context/revision", "r1")
		}),
		with("revision with a StatementRef object", func(_ *Client, s obj) {
			s["object"] = obj{"objectType": "StatementRef", "id": newUUID()}
			set(s, "context/revision", "r1")
		}),
	),
	rejecting("Data 2.4.6.s4.b2", `the "platform" property MUST only be used if the statement's object is an Activity`, both,
		with("platform with an Agent object", func(c *Client, s obj) {
			s["object"] = c.agent()
			set(s, "context/platform", "web")
		}),
	),
	rejecting("Data 2.4.6.2.s4.b1", "every key in contextActivities MUST be one of parent, grouping, category or other", both,
		setting("context/contextActivities/sibling", []any{obj{"id": "http://conformance.example.com/activities/sibling"}}),
	),
	rejecting("Data 2.4.11.s2.table1.row6", `an attachment's "sha2" (and "usageType", "display", "contentType", "length") are required`, both,
		with("attachment without sha2", func(c *Client, s obj) {
			a := c.fileURLAttachment()
			delete(a, "sha2")
			s["attachments"] = []any{a}
		}),
		with("attachment without usageType", func(c *Client, s obj) {
			a := c.fileURLAttachment()
			delete(a, "usageType")
			s["attachments"] = []any{a}
		}),
	),
	rejecting("Data 4.6.s1.b1", "a Duration MUST be expressed in the ISO 8601 duration format", both,
		setting("result/duration", "PT1H30"),
		setting("result/duration", "01:30:00"),
		setting("result/duration", "P4W1D"),
	),
	{
		Requirement: Requirement{
			ID:       "Data 4.5.s1.b1",
			Text:     "a Timestamp MUST be formatted according to ISO 8601 (2.0: RFC 3339, no unknown-offset forms -00, -0000, -00:00)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			probes := []probe{
				setting("timestamp", "should fail"),
				setting("timestamp", "2015-11-18 noon"),
				setting("timestamp", "2015-02-30T12:00:00Z"),
			}
			if c.version == V200 {
				probes = append(probes,
					setting("timestamp", "2008-09-15T15:53:00.601-00"),
					setting("timestamp", "2008-09-15T15:53:00.601-0000"),
					setting("timestamp", "2008-09-15T15:53:00.601-00:00"),
				)
			}
			if err := rejectProbes(ctx, c, probes...); err != nil {
				return err
			}
			return acceptProbes(ctx, c,
				setting("timestamp", "2008-09-15T15:53:00.601Z"),
				setting("timestamp", "2008-09-15T15:53:00.601+05:30"),
			)
		},
	},
	rejecting("Data 2.4.6.s3.table1", "a 1.0.3 Context has only the properties of its table: contextAgents and contextGroups (2.0 only) are rejected", only103,
		with("contextAgents", func(c *Client, s obj) {
			set(s, "context/contextAgents", []any{obj{"objectType": "contextAgent", "agent": c.agent()}})
		}),
		with("contextGroups", func(c *Client, s obj) {
			set(s, "context/contextGroups", []any{obj{"objectType": "contextGroup", "group": c.group()}})
		}),
	),
	{
		Requirement: Requirement{
			ID:       "Data 2.4.6.3",
			Text:     `"contextAgents" is an array of contextAgent objects: objectType "contextAgent", a valid Agent "agent", optional non-empty "relevantTypes" of IRIs`,
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			valid := func(c *Client) obj {
				return obj{"objectType": "contextAgent", "agent": c.agent(),
					"relevantTypes": []any{"https://conformance.example.com/types/coach"}}
			}
			s := c.statement(func(s obj) { set(s, "context/contextAgents", []any{valid(c)}) })
			if _, err := c.store(ctx, s); err != nil {
				return fmt.Errorf("valid contextAgents: %w", err)
			}
			got, _, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return err
			}
			if !sameJSON(get(got, "context/contextAgents"), get(s, "context/contextAgents")) {
				return fmt.Errorf("contextAgents returned as %s, sent %s", jsonString(get(got, "context/contextAgents")), jsonString(get(s, "context/contextAgents")))
			}
			edit := func(name string, f func(ca obj)) probe {
				return with(name, func(c *Client, s obj) {
					ca := valid(c)
					f(ca)
					set(s, "context/contextAgents", []any{ca})
				})
			}
			return rejectProbes(ctx, c,
				edit("objectType not contextAgent", func(ca obj) { ca["objectType"] = "Agent" }),
				edit("no objectType", func(ca obj) { delete(ca, "objectType") }),
				edit("invalid agent", func(ca obj) { ca["agent"] = obj{"key": "x"} }),
				edit("a group as agent", func(ca obj) { ca["agent"] = c.group() }),
				edit("empty relevantTypes", func(ca obj) { ca["relevantTypes"] = []any{} }),
				edit("relevantTypes not IRIs", func(ca obj) { ca["relevantTypes"] = []any{"abc"} }),
				setting("context/contextAgents", obj{"objectType": "contextAgent"}),
			)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.6.4",
			Text:     `"contextGroups" is an array of contextGroup objects: objectType "contextGroup", a valid Group "group", optional non-empty "relevantTypes" of IRIs`,
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			valid := func(c *Client) obj {
				return obj{"objectType": "contextGroup", "group": c.group(),
					"relevantTypes": []any{"https://conformance.example.com/types/team"}}
			}
			s := c.statement(func(s obj) { set(s, "context/contextGroups", []any{valid(c)}) })
			if _, err := c.store(ctx, s); err != nil {
				return fmt.Errorf("valid contextGroups: %w", err)
			}
			got, _, err := c.fetch(ctx, idOf(s), nil, nil)
			if err != nil {
				return err
			}
			if !sameJSON(get(got, "context/contextGroups"), get(s, "context/contextGroups")) {
				return fmt.Errorf("contextGroups returned as %s, sent %s", jsonString(get(got, "context/contextGroups")), jsonString(get(s, "context/contextGroups")))
			}
			edit := func(name string, f func(cg obj)) probe {
				return with(name, func(c *Client, s obj) {
					cg := valid(c)
					f(cg)
					set(s, "context/contextGroups", []any{cg})
				})
			}
			return rejectProbes(ctx, c,
				edit("objectType not contextGroup", func(cg obj) { cg["objectType"] = "Group" }),
				edit("an agent as group", func(cg obj) { cg["group"] = c.agent() }),
				edit("empty relevantTypes", func(cg obj) { cg["relevantTypes"] = []any{} }),
				edit("relevantTypes not IRIs", func(cg obj) { cg["relevantTypes"] = []any{"abc"} }),
			)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.10.s2.b1",
			Text:     `a statement "version" of "1.0" or "1.0.x" is accepted`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return acceptProbes(ctx, c, setting("version", "1.0"), setting("version", "1.0.0"), setting("version", "1.0.9"))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.10",
			Text:     `2.0: a statement "version" of "2.0" or "2.0.x" is accepted, as are 1.0 versions`,
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			return acceptProbes(ctx, c, setting("version", "2.0"), setting("version", "2.0.0"), setting("version", "1.0"))
		},
	},
}

// substatementWith returns a probe whose object is a SubStatement with the
// property set.
func substatementWith(key string, v any) probe {
	return with("substatement with "+key, func(c *Client, s obj) {
		s["object"] = obj{"objectType": "SubStatement", "actor": c.agent(), "verb": c.verb(), "object": c.activity(), key: v}
	})
}
