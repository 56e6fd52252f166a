package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// propertyChecks cover the properties the LRS sets or must keep (Data 2.3, 2.4, 4).
var propertyChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Data 2.4.8.s3.b2",
			Text:     `the "stored" property MUST be set by the LRS, overwriting any value in the received statement`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			before := time.Now()
			s := c.statement(func(s obj) { s["stored"] = "2001-01-01T00:00:00.000Z" })
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			stored, err := parseTimestamp(str(got["stored"]))
			if err != nil {
				return fmt.Errorf(`"stored": %w`, err)
			}
			if stored.Before(before.Add(-c.skew)) || stored.After(time.Now().Add(c.skew)) {
				return fmt.Errorf(`"stored" is %s, want the time the LRS stored it (about %s); the sent value was not overwritten`, got["stored"], before.UTC().Format(time.RFC3339))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.9.s3.b3",
			Text:     `the LRS ensures that all statements stored have an "authority"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			if _, ok := got["authority"].(obj); !ok {
				return fmt.Errorf(`statement has no "authority" object: %s`, jsonString(got))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.9.s3.b2",
			Text:     "the LRS sets the entire authority itself, the same on every statement of a credential (with HTTP Basic the user as an Agent; for an application, as with OAuth, a Group of the application and its user), not the authority the client sent",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			forged := c.agent()
			s := c.statement(func(s obj) { s["authority"] = forged })
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			auth, ok := got["authority"].(obj)
			if !ok {
				return fmt.Errorf(`statement has no "authority" object`)
			}
			if sameJSON(auth, forged) {
				return fmt.Errorf("the LRS kept the authority the client sent instead of the credential's: %s", jsonString(auth))
			}
			if want := c.caps.Authority; want != nil && !sameJSON(auth, want) {
				return fmt.Errorf("authority %s differs from the one the LRS set on the credential's first statement, %s", jsonString(auth), jsonString(want))
			}
			return wantCredentialAuthority(auth)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.7.s3.b2",
			Text:     `the LRS sets "timestamp" (to the value of "stored") when the statement has none`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			ts, err := parseTimestamp(str(got["timestamp"]))
			if err != nil {
				return fmt.Errorf(`"timestamp" %s: %w`, jsonString(got["timestamp"]), err)
			}
			stored, err := parseTimestamp(str(got["stored"]))
			if err != nil {
				return fmt.Errorf(`"stored": %w`, err)
			}
			if !ts.Equal(stored) {
				return fmt.Errorf(`"timestamp" is %s, want the value of "stored" %s`, got["timestamp"], got["stored"])
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 4.5.s1.b5",
			Text:     "the LRS MAY return a timestamp in another timezone only if the point in time it references is not affected",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			sent := "2015-11-18T12:17:00.250+02:00"
			s := c.statement(func(s obj) { s["timestamp"] = sent })
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			ts, err := parseTimestamp(str(got["timestamp"]))
			if err != nil {
				return fmt.Errorf(`"timestamp": %w`, err)
			}
			want, _ := parseTimestamp(sent)
			if !ts.Equal(want) {
				return fmt.Errorf(`"timestamp" is %s, want the same point in time as the sent %s`, got["timestamp"], sent)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 4.5.s1.b3",
			Text:     "a Timestamp MUST preserve precision to at least milliseconds",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			sent := "2020-02-29T23:59:58.987Z"
			s := c.statement(func(s obj) { s["timestamp"] = sent })
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			ts, err := parseTimestamp(str(got["timestamp"]))
			if err != nil {
				return fmt.Errorf(`"timestamp": %w`, err)
			}
			want, _ := parseTimestamp(sent)
			if !ts.Truncate(time.Millisecond).Equal(want) {
				return fmt.Errorf(`"timestamp" is %s, want %s to the millisecond`, got["timestamp"], sent)
			}
			stored := str(got["stored"])
			if _, err := parseTimestamp(stored); err != nil {
				return fmt.Errorf(`"stored": %w`, err)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.10.s3.b3",
			Text:     `statements returned by the LRS retain the version they were accepted with; without one the LRS sets "version" (1.0.0 in 1.0.x, 2.0.0 in 2.0)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			plain := c.statement()
			versioned := c.statement(func(s obj) { s["version"] = "1.0.0" })
			if _, err := c.store(ctx, plain, versioned); err != nil {
				return err
			}
			want := "1.0.0"
			if c.version == V200 {
				want = "2.0.0"
			}
			var errs []error
			got, _, err := c.fetch(ctx, idOf(plain), nil, nil)
			if err != nil {
				return err
			}
			if v := str(got["version"]); v != want {
				errs = append(errs, fmt.Errorf(`statement sent without version has "version" %q, want %q`, v, want))
			}
			got, _, err = c.fetch(ctx, idOf(versioned), nil, nil)
			if err != nil {
				return err
			}
			if v := str(got["version"]); v != "1.0.0" {
				errs = append(errs, fmt.Errorf(`statement sent with version 1.0.0 has "version" %q`, v))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.10.s3.b1",
			Text:     `the LRS accepts statements whose version starts with "1.0." (and in 2.0 "2.0.") if they otherwise validate`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			versions := []string{"1.0.0", "1.0.3"}
			if c.version == V200 {
				versions = append(versions, "2.0.0")
			}
			var errs []error
			for _, v := range versions {
				s := c.statement(func(s obj) { s["version"] = v })
				if _, err := c.store(ctx, s); err != nil {
					errs = append(errs, fmt.Errorf("version %s: %w", v, err))
					continue
				}
				got, _, err := c.fetch(ctx, idOf(s), nil, nil)
				if err != nil {
					return err
				}
				if str(got["version"]) != v {
					errs = append(errs, fmt.Errorf("statement accepted with version %s returned with version %s", v, jsonString(got["version"])))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.10.s3.b2",
			Text:     `the LRS rejects statements with a version that does not start with "1.0." (in 2.0: "1.0." or "2.0.")`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			probes := []probe{setting("version", "0.95"), setting("version", "1.1.0"), setting("version", "3.0.0"), setting("version", "")}
			if c.version == V103 {
				probes = append(probes, setting("version", "2.0.0"))
			}
			return rejectProbes(ctx, c, probes...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.6.2.s4.b3",
			Text:     "the LRS returns every value in contextActivities as an array, even if it arrived as a single Activity object",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			parent := c.activity()
			s := c.statement(func(s obj) { set(s, "context/contextActivities/parent", parent) })
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			arr, ok := get(got, "context/contextActivities/parent").([]any)
			if !ok || len(arr) != 1 {
				return fmt.Errorf(`"parent" is %s, want an array of one activity`, jsonString(get(got, "context/contextActivities/parent")))
			}
			if a, _ := arr[0].(obj); str(a["id"]) != str(parent["id"]) {
				return fmt.Errorf(`"parent" is %s, want [%s]`, jsonString(arr), jsonString(parent))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.2.s2.b5",
			Text:     "the LRS MUST NOT return a different serialisation of any property except the listed exceptions (id, authority, stored, timestamp, version, ...)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.richStatement()
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			var errs []error
			for _, k := range []string{"actor", "verb", "object", "result", "context", "attachments"} {
				if !sameJSON(got[k], s[k]) {
					errs = append(errs, fmt.Errorf("%s returned as %s, sent %s", k, jsonString(got[k]), jsonString(s[k])))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.4.s1.b1",
			Text:     "all strings MUST be encoded and interpreted as UTF-8",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement(func(s obj) {
				set(s, "actor/name", "Åsa Öberg 学生 🎓")
				set(s, "verb/display", obj{"fi": "kävi läpi", "ja": "体験した"})
				set(s, "result/response", "Ĉu vi parolas? — «ja» 👍")
			})
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			for _, p := range []string{"actor/name", "verb/display/fi", "verb/display/ja", "result/response"} {
				if get(got, p) != get(s, p) {
					return fmt.Errorf("%s returned as %q, sent %q", p, get(got, p), get(s, p))
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.2.s4.b3",
			Text:     "the LRS processes and stores numbers with at least the precision of IEEE 754 32-bit floating point numbers",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement(func(s obj) {
				set(s, "result/score", obj{"scaled": 0.123456789, "raw": 123456.7, "min": -1.5e-3, "max": 3.4e37})
			})
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			var errs []error
			for _, k := range []string{"scaled", "raw", "min", "max"} {
				sent := get(s, "result/score/"+k).(float64)
				v, ok := get(got, "result/score/"+k).(float64)
				if !ok || float32(v) != float32(sent) && math.Abs(v-sent) > math.Abs(sent)*1e-7 {
					errs = append(errs, fmt.Errorf("score.%s returned as %v, sent %v", k, get(got, "result/score/"+k), sent))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 4.1.s3.b2",
			Text:     "the LRS MUST NOT reject a statement based on the values of the extensions map (any JSON value, null included)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			ext := obj{
				"http://conformance.example.com/ext/null":   nil,
				"http://conformance.example.com/ext/nested": obj{"a": []any{1.0, "two", nil, obj{"x.y": true}}},
				"http://conformance.example.com/ext/string": "",
				"http://conformance.example.com/ext/number": -0.5,
			}
			s := c.statement(func(s obj) {
				set(s, "result/extensions", ext)
				set(s, "context/extensions", ext)
				set(s, "object/definition/extensions", ext)
			})
			got, err := c.storeAndFetch(ctx, s)
			if err != nil {
				return err
			}
			if !sameJSON(get(got, "result/extensions"), ext) {
				return fmt.Errorf("result extensions returned as %s, sent %s", jsonString(get(got, "result/extensions")), jsonString(ext))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.4.9.s3.b1",
			Text:     `an "authority" Group is only valid as an anonymous Group of exactly two Agents (the OAuth consumer and user): an identified Group (mbox, mbox_sha1sum, openid or account) or a Group of another size is rejected with 400`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			pair := func(c *Client) []any {
				return []any{obj{"account": obj{"homePage": "http://example.com/xAPI/OAuth/Token", "name": c.unique("consumer")}}, c.agent()}
			}
			group := func(name string, edit func(c *Client, g obj)) probe {
				return with(name, func(c *Client, s obj) {
					g := obj{"objectType": "Group", "member": pair(c)}
					edit(c, g)
					s["authority"] = g
				})
			}
			return rejectProbes(ctx, c,
				group("identified by mbox", func(c *Client, g obj) { g["mbox"] = c.mbox() }),
				group("identified by mbox_sha1sum", func(c *Client, g obj) { g["mbox_sha1sum"] = "cd9b00a5611f94eaa7b1661edab976068e364975" }),
				group("identified by openid", func(c *Client, g obj) { g["openid"] = "http://openid.example.org/" + c.unique("group") }),
				group("identified by account", func(c *Client, g obj) {
					g["account"] = obj{"homePage": "http://www.example.com", "name": c.unique("group")}
				}),
				group("one member", func(c *Client, g obj) { g["member"] = pair(c)[:1] }),
				group("three members", func(c *Client, g obj) { g["member"] = append(pair(c), c.agent()) }),
				group("no members", func(c *Client, g obj) { delete(g, "member") }),
			)
		},
	},
}

// countIFIs counts the inverse functional identifiers of an agent or group.
// wantCredentialAuthority wants auth to be an authority an LRS sets for a
// credential: an identified Agent, or the OAuth form, a Group of two
// identified Agents (the application and its user) (Data 2.4.9.s3).
func wantCredentialAuthority(auth obj) error {
	switch t := str(auth["objectType"]); t {
	case "", "Agent":
		if n := countIFIs(auth); n != 1 {
			return fmt.Errorf("authority has %d inverse functional identifiers, want 1: %s", n, jsonString(auth))
		}
	case "Group":
		members, _ := auth["member"].([]any)
		if len(members) != 2 {
			return fmt.Errorf("authority is a Group of %d members, want the OAuth form, a Group of two Agents: %s", len(members), jsonString(auth))
		}
		for _, m := range members {
			a, _ := m.(obj)
			if t := str(a["objectType"]); (t != "" && t != "Agent") || countIFIs(a) != 1 {
				return fmt.Errorf("authority Group member %s is not an Agent with one inverse functional identifier", jsonString(m))
			}
		}
	default:
		return fmt.Errorf("authority has objectType %q, want an Agent or a Group: %s", t, jsonString(auth))
	}
	return nil
}

func countIFIs(a obj) int {
	n := 0
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if _, ok := a[k]; ok {
			n++
		}
	}
	return n
}

// richStatement returns a statement using most optional properties.
func (c *Client) richStatement() obj {
	return c.statement(func(s obj) {
		s["actor"] = obj{"objectType": "Agent", "name": "Rich Learner", "account": obj{"homePage": "https://idp.conformance.example.com", "name": c.unique("account")}}
		s["verb"] = obj{"id": c.verbID(), "display": obj{"en-US": "attempted", "fi-FI": "yritti"}}
		s["object"] = obj{
			"objectType": "Activity",
			"id":         c.activityID(),
			"definition": obj{
				"name":                    obj{"en-US": "Question 1"},
				"description":             obj{"en-US": "Pick one"},
				"type":                    "http://adlnet.gov/expapi/activities/cmi.interaction",
				"moreInfo":                "https://conformance.example.com/more",
				"interactionType":         "choice",
				"correctResponsesPattern": []any{"golf[,]tetris"},
				"choices": []any{
					obj{"id": "golf", "description": obj{"en-US": "Golf"}},
					obj{"id": "tetris", "description": obj{"en-US": "Tetris"}},
				},
			},
		}
		s["result"] = obj{
			"score":      obj{"scaled": 0.5, "raw": 5.0, "min": 0.0, "max": 10.0},
			"success":    true,
			"completion": false,
			"response":   "golf[,]tetris",
			"duration":   "PT1H2M3.45S",
			"extensions": obj{"http://conformance.example.com/ext/r": obj{"k": []any{1.0, 2.0}}},
		}
		s["context"] = obj{
			"registration": newUUID(),
			"instructor":   c.agent(),
			"team":         c.group(),
			"contextActivities": obj{
				"parent":   []any{obj{"objectType": "Activity", "id": c.activityID()}},
				"grouping": []any{obj{"objectType": "Activity", "id": c.activityID()}},
				"category": []any{obj{"objectType": "Activity", "id": c.activityID()}},
				"other":    []any{obj{"objectType": "Activity", "id": c.activityID()}},
			},
			"revision":   "r2",
			"platform":   "conformance",
			"language":   "en-US",
			"statement":  obj{"objectType": "StatementRef", "id": newUUID()},
			"extensions": obj{"http://conformance.example.com/ext/c": "value"},
		}
		s["timestamp"] = "2021-06-01T08:30:00.000Z"
		s["attachments"] = []any{c.fileURLAttachment()}
	})
}
