package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// documentChecks cover the State, Activity Profile and Agent Profile
// resources (Communication 2.2, 2.3, 2.6, 2.7) and their concurrency
// control (Communication 3.1).
var documentChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s4.b2",
			Text:     "the LRS does not reject documents for Activities and Agents it has no prior knowledge of",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range docResources {
				errs = append(errs, c.createDoc(ctx, c.newDoc(res), []byte(`{"a":1}`), ""))
			}
			return errors.Join(errs...)
		},
	},
	singleDocCheck("Communication 2.3.s3", stateDocs),
	singleDocCheck("Communication 2.6.s3", agentProfileDocs),
	singleDocCheck("Communication 2.7.s3", activityProfileDocs),
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s2.table1.row3",
			Text:     "document contents are arbitrary binary data: stored and returned byte for byte with their Content-Type",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content := make([]byte, 256)
			for i := range content {
				content[i] = byte(255 - i)
			}
			var errs []error
			for _, res := range docResources {
				d := c.newDoc(res)
				if err := c.createDoc(ctx, d, content, "application/octet-stream"); err != nil {
					errs = append(errs, err)
					continue
				}
				r, err := c.docGet(ctx, d)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					errs = append(errs, err)
					continue
				}
				if string(r.body) != string(content) {
					errs = append(errs, fmt.Errorf("%s: GET returned %d bytes that differ from the 256 stored", d, len(r.body)))
				}
				if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
					errs = append(errs, fmt.Errorf("%s: Content-Type %q, want application/octet-stream", d, ct))
				}
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.3.s3.table1.row3",
			Text:     "a state document exists in the context of its registration: with and without a registration are different documents; a registration that is not a UUID is rejected with 400",
			Versions: both,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			plain := c.newDoc(stateDocs)
			reg := plain.with("registration", newUUID())
			if err := c.createDoc(ctx, plain, []byte(`{"r":"none"}`), ""); err != nil {
				return err
			}
			if err := c.createDoc(ctx, reg, []byte(`{"r":"one"}`), ""); err != nil {
				return err
			}
			errs := []error{
				c.wantDoc(ctx, plain, []byte(`{"r":"none"}`)),
				c.wantDoc(ctx, reg, []byte(`{"r":"one"}`)),
				c.wantNoDoc(ctx, plain.with("registration", newUUID())),
			}
			r, err := c.docGet(ctx, plain.with("registration", "not-a-uuid"))
			if err != nil {
				return err
			}
			errs = append(errs, r.wantStatus(http.StatusBadRequest))
			return errors.Join(errs...)
		},
	},
	requiredParamCheck("Communication 2.3.s3.table1.row1", stateDocs, "activityId"),
	requiredParamCheck("Communication 2.3.s3.table1.row2", stateDocs, "agent"),
	requiredParamCheck("Communication 2.3.s3.table1.row4", stateDocs, "stateId"),
	requiredParamCheck("Communication 2.7.s3.table1.row1", activityProfileDocs, "activityId"),
	requiredParamCheck("Communication 2.7.s3.table1.row2", activityProfileDocs, "profileId"),
	requiredParamCheck("Communication 2.6.s3.table1.row2", agentProfileDocs, "profileId"),
	{
		Requirement: Requirement{
			ID:       "Communication 2.6.s3.table1.row1",
			Text:     "the agent parameter is an Agent object, identified by any inverse functional identifier (mbox, mbox_sha1sum, openid, account); a missing or malformed agent is rejected with 400",
			Versions: both,
		},
		Needs: []string{ScopeProfile},
		Run: func(ctx context.Context, c *Client) error {
			u := c.unique("ifi")
			agents := []obj{
				{"mbox": "mailto:" + u + "@conformance.example.com"},
				{"objectType": "Agent", "mbox_sha1sum": sha1ETag([]byte(u))[1:41]},
				{"openid": "https://openid.conformance.example.com/" + u},
				{"account": obj{"homePage": "https://accounts.conformance.example.com", "name": u}},
			}
			var errs []error
			base := c.newDoc(agentProfileDocs)
			for i, a := range agents {
				d := base.with("agent", agentParam(a))
				if err := c.createDoc(ctx, d, fmt.Appendf(nil, `{"i":%d}`, i), ""); err != nil {
					errs = append(errs, err)
				}
			}
			for i, a := range agents {
				errs = append(errs, c.wantDoc(ctx, base.with("agent", agentParam(a)), fmt.Appendf(nil, `{"i":%d}`, i)))
			}
			for _, bad := range []string{`{"mbox":`, `{"name":"no identifier"}`, `{"mbox":"not-a-mailto"}`} {
				r, err := c.docGet(ctx, base.with("agent", bad))
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, fmt.Errorf("agent %s: %w", bad, err))
				}
			}
			return errors.Join(errs...)
		},
	},
	multipleGetCheck("Communication 2.3.s4", stateDocs),
	multipleGetCheck("Communication 2.6.s4", agentProfileDocs),
	multipleGetCheck("Communication 2.7.s4", activityProfileDocs),
	sinceCheck("Communication 2.3.s4.table1.row4", stateDocs),
	sinceCheck("Communication 2.6.s4.table1.row2", agentProfileDocs),
	sinceCheck("Communication 2.7.s4.table1.row2", activityProfileDocs),
	{
		Requirement: Requirement{
			ID:       "Communication 2.3.s4.table1.row3",
			Text:     "a multiple document GET of the State Resource with a registration returns only the ids of that registration's states",
			Versions: both,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			plain := c.newDoc(stateDocs)
			reg := newUUID()
			inReg := c.sibling(plain).with("registration", reg)
			for _, d := range []doc{plain, inReg} {
				if err := c.createDoc(ctx, d, []byte(`{}`), ""); err != nil {
					return err
				}
			}
			q := plain.context()
			q.Set("registration", reg)
			return c.wantIDs(ctx, stateDocs, q, idsOf(inReg)...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.3.s5",
			Text:     "a DELETE of the State Resource without stateId deletes all state of the Activity and Agent, or of the registration when one is given, and returns 204",
			Versions: both,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			a := c.newDoc(stateDocs)
			reg1, reg2 := newUUID(), newUUID()
			b, d := c.sibling(a).with("registration", reg1), c.sibling(a).with("registration", reg2)
			otherAgent := a.with("agent", agentParam(c.agent()))
			for _, x := range []doc{a, b, d, otherAgent} {
				if err := c.createDoc(ctx, x, []byte(`{}`), ""); err != nil {
					return err
				}
			}
			q := a.context()
			q.Set("registration", reg1)
			r, err := c.docRequest(ctx, http.MethodDelete, stateDocs, q, nil, "")
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			errs := []error{c.wantNoDoc(ctx, b), c.wantDoc(ctx, a, []byte(`{}`)), c.wantDoc(ctx, d, []byte(`{}`))}
			r, err = c.docRequest(ctx, http.MethodDelete, stateDocs, a.context(), nil, "")
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			errs = append(errs, c.wantNoDoc(ctx, a), c.wantNoDoc(ctx, d), c.wantDoc(ctx, otherAgent, []byte(`{}`)))
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s7.b2",
			Text:     "a POST of a JSON object to an application/json document sets each posted top-level property on the stored object (top-level merge)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range docResources {
				d := c.newDoc(res)
				if err := c.createDoc(ctx, d, []byte(`{"x":"foo","y":"bar","o":{"keep":1}}`), ""); err != nil {
					errs = append(errs, err)
					continue
				}
				r, err := c.docPost(ctx, d, []byte(`{"x":"bash","z":"faz","o":{"new":2}}`), "")
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusNoContent); err != nil {
					errs = append(errs, err)
					continue
				}
				errs = append(errs, c.wantJSONDoc(ctx, d, obj{"x": "bash", "y": "bar", "z": "faz", "o": obj{"new": 2.0}}))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s7.b3",
			Text:     "the merged document is stored as valid JSON and returned as application/json; a POST to a document that does not exist stores it",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range docResources {
				d := c.newDoc(res)
				for _, body := range []string{`{"a":1}`, `{"b":2}`} {
					r, err := c.docPost(ctx, d, []byte(body), "")
					if err != nil {
						return err
					}
					if err := r.wantStatus(http.StatusNoContent); err != nil {
						errs = append(errs, err)
					}
				}
				r, err := c.docGet(ctx, d)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					errs = append(errs, err)
					continue
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					errs = append(errs, fmt.Errorf("%s: merged document has Content-Type %q, want application/json", d, ct))
				}
				errs = append(errs, c.wantJSONDoc(ctx, d, obj{"a": 1.0, "b": 2.0}))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s8.b1",
			Text:     "a POST where the stored or the posted document is not an application/json JSON object is rejected with 400 and does not change the document",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range docResources {
				text := c.newDoc(res)
				if err := c.createDoc(ctx, text, []byte("plain text"), "text/plain"); err != nil {
					errs = append(errs, err)
					continue
				}
				jsonDoc := c.sibling(text)
				if err := c.createDoc(ctx, jsonDoc, []byte(`{"a":1}`), ""); err != nil {
					errs = append(errs, err)
					continue
				}
				for _, tc := range []struct {
					what        string
					d           doc
					body, ctype string
				}{
					{"JSON posted to a text/plain document", text, `{"b":2}`, ""},
					{"a JSON array posted", jsonDoc, `[1,2]`, ""},
					{"malformed JSON posted", jsonDoc, `{"b":`, ""},
					{"text/plain posted", jsonDoc, `{"b":2}`, "text/plain"},
				} {
					r, err := c.docPost(ctx, tc.d, []byte(tc.body), tc.ctype)
					if err != nil {
						return err
					}
					if err := r.wantStatus(http.StatusBadRequest); err != nil {
						errs = append(errs, fmt.Errorf("%s, %s: %w", res.name, tc.what, err))
					}
				}
				errs = append(errs, c.wantDoc(ctx, text, []byte("plain text")), c.wantDoc(ctx, jsonDoc, []byte(`{"a":1}`)))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s6.b1",
			Text:     `a GET of a single document includes a "Last-Modified" header: when the document was last modified`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range docResources {
				d := c.newDoc(res)
				if err := c.createDoc(ctx, d, []byte(`{}`), ""); err != nil {
					return err
				}
				r, err := c.docGet(ctx, d)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					errs = append(errs, err)
					continue
				}
				errs = append(errs, c.recentLastModified(d.String(), r))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.2.s6.b2",
			Text:     `a multiple document GET of a profile resource includes a "Last-Modified" header: when the most recently modified document was modified`,
			Versions: both,
		},
		Needs: []string{ScopeProfile},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range profileResources {
				d := c.newDoc(res)
				if err := c.createDoc(ctx, d, []byte(`{}`), ""); err != nil {
					return err
				}
				_, r, err := c.docIDs(ctx, res, d.context())
				if err != nil {
					return err
				}
				errs = append(errs, c.recentLastModified(res.name+" ids", r))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b1",
			Text:     "the LRS adds an ETag header to the response of a GET of a document",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachDocGet(ctx, func(d doc, content []byte, r *response) error {
				if r.header.Get("ETag") == "" {
					return fmt.Errorf("%s: GET has no ETag header", d)
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b2",
			Text:     "the ETag of a document is the hexadecimal SHA-1 digest of its contents, in lower case",
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachDocGet(ctx, func(d doc, content []byte, r *response) error {
				if got, want := strings.Trim(r.header.Get("ETag"), `"`), strings.Trim(sha1ETag(content), `"`); got != want {
					return fmt.Errorf("%s: ETag %q, want the SHA-1 %s", d, r.header.Get("ETag"), want)
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b4",
			Text:     "the ETag header of a GET response is enclosed in quotes",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachDocGet(ctx, func(d doc, content []byte, r *response) error {
				e := strings.TrimPrefix(r.header.Get("ETag"), "W/")
				if len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' {
					return fmt.Errorf("%s: ETag %q is not quoted", d, r.header.Get("ETag"))
				}
				return nil
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b5",
			Text:     "a PUT with If-Match holding the document's current ETag replaces it; with another ETag it is refused",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
					return err
				}
				tag, err := c.etagOf(ctx, d)
				if err != nil {
					return err
				}
				r, err := c.docPut(ctx, d, []byte(`{"v":2}`), "", "If-Match", sha1ETag([]byte("stale")))
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return fmt.Errorf("stale If-Match: %w", err)
				}
				r, err = c.docPut(ctx, d, []byte(`{"v":3}`), "", "If-Match", tag)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusNoContent); err != nil {
					return fmt.Errorf("current If-Match: %w", err)
				}
				return c.wantDoc(ctx, d, []byte(`{"v":3}`))
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b6",
			Text:     `a PUT with "If-None-Match: *" stores a new document and is refused when the document exists`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
					return err
				}
				r, err := c.docPut(ctx, d, []byte(`{"v":2}`), "", "If-None-Match", "*")
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return err
				}
				return c.wantDoc(ctx, d, []byte(`{"v":1}`))
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b9",
			Text:     "a PUT whose If-Match precondition fails (stale ETag, or no document) gets 412 Precondition Failed",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				r, err := c.docPut(ctx, d, []byte(`{}`), "", "If-Match", sha1ETag([]byte("none")))
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return fmt.Errorf("If-Match on a missing document: %w", err)
				}
				return c.wantNoDoc(ctx, d)
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b10",
			Text:     "a PUT whose precondition fails does not modify the document",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
					return err
				}
				for _, h := range [][2]string{{"If-Match", sha1ETag([]byte("stale"))}, {"If-None-Match", "*"}} {
					r, err := c.docPut(ctx, d, []byte(`{"v":2}`), "", h[0], h[1])
					if err != nil {
						return err
					}
					if r.status < 400 {
						return fmt.Errorf("%s %s: status %d, want a refusal", h[0], h[1], r.status)
					}
				}
				return c.wantDoc(ctx, d, []byte(`{"v":1}`))
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b7",
			Text:     "a POST or DELETE with If-Match holding another ETag than the document's is refused with 412 and changes nothing; with the current ETag it succeeds",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
					return err
				}
				stale := sha1ETag([]byte("stale"))
				r, err := c.docPost(ctx, d, []byte(`{"w":2}`), "", "If-Match", stale)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return fmt.Errorf("POST: %w", err)
				}
				r, err = c.docDelete(ctx, d, "If-Match", stale)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return fmt.Errorf("DELETE: %w", err)
				}
				if err := c.wantDoc(ctx, d, []byte(`{"v":1}`)); err != nil {
					return err
				}
				tag, err := c.etagOf(ctx, d)
				if err != nil {
					return err
				}
				r, err = c.docDelete(ctx, d, "If-Match", tag)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusNoContent); err != nil {
					return fmt.Errorf("DELETE with the current ETag: %w", err)
				}
				return c.wantNoDoc(ctx, d)
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b8",
			Text:     `a POST with "If-None-Match: *" to an existing document is refused with 412 and changes nothing`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			return c.eachResource(ctx, func(d doc) error {
				if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
					return err
				}
				r, err := c.docPost(ctx, d, []byte(`{"w":2}`), "", "If-None-Match", "*")
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusPreconditionFailed); err != nil {
					return err
				}
				return c.wantDoc(ctx, d, []byte(`{"v":1}`))
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4.b13",
			Text:     "a PUT without If-Match or If-None-Match to an existing profile document gets 409 Conflict, explaining to check the document and send If-Match with its ETag, and changes nothing",
			Versions: both,
		},
		Needs: []string{ScopeProfile},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range profileResources {
				errs = append(errs, c.putWithoutPrecondition(ctx, c.newDoc(res)))
			}
			return errors.Join(errs...)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 4.1.4",
			Text:     "2.0: the State Resource has concurrency control too: a PUT without If-Match or If-None-Match to an existing state document gets 409 Conflict with an explanation, and changes nothing",
			Versions: only200,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			return c.putWithoutPrecondition(ctx, c.newDoc(stateDocs))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s3",
			Text:     "1.0.3: the State Resource permits a PUT without concurrency headers: it replaces the document",
			Versions: only103,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			d := c.newDoc(stateDocs)
			for _, v := range []string{`{"v":1}`, `{"v":2}`} {
				r, err := c.docPut(ctx, d, []byte(v), "")
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusNoContent); err != nil {
					return err
				}
			}
			return c.wantDoc(ctx, d, []byte(`{"v":2}`))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 4.1.6.2",
			Text:     "2.0: a GET of the State Resource with both stateId and since is rejected with 400 (since is not allowed for a single document)",
			Versions: only200,
		},
		Needs: []string{ScopeState},
		Run: func(ctx context.Context, c *Client) error {
			d := c.newDoc(stateDocs)
			if err := c.createDoc(ctx, d, []byte(`{}`), ""); err != nil {
				return err
			}
			r, err := c.docGet(ctx, d.with("since", "2020-01-01T00:00:00Z"))
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusBadRequest)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 3.1.s4",
			Text:     "1.0.3: a PUT of a new agent or activity profile document without an ETag header (If-Match or If-None-Match) is rejected with 400 and an error message, and creates nothing (Communication 2.6.s3, 2.7.s3, XAPI-00273)",
			Versions: only103,
		},
		Run: func(ctx context.Context, c *Client) error {
			var errs []error
			for _, res := range profileResources {
				d := c.newDoc(res)
				r, err := c.docPut(ctx, d, []byte(`{"v":1}`), "")
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusBadRequest); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", d, err))
					continue
				}
				if len(bytes.TrimSpace(r.body)) == 0 {
					errs = append(errs, fmt.Errorf("%s: the 400 has no error message", d))
				}
				errs = append(errs, c.wantNoDoc(ctx, d))
			}
			return errors.Join(errs...)
		},
	},
}

// singleDocCheck checks PUT, GET and DELETE of one document of res.
func singleDocCheck(id string, res docResource) Check {
	return Check{
		Requirement: Requirement{
			ID:       id,
			Text:     fmt.Sprintf("the %s stores (PUT, 204), returns (GET, 200, the document) and deletes (DELETE, 204) a single document; a missing document is 404", res.name),
			Versions: both,
		},
		Needs: []string{res.scope},
		Run: func(ctx context.Context, c *Client) error {
			d := c.newDoc(res)
			if err := c.wantNoDoc(ctx, d); err != nil {
				return err
			}
			content := []byte(`{"learner":"state","n":1}`)
			if err := c.createDoc(ctx, d, content, ""); err != nil {
				return err
			}
			if err := c.wantDoc(ctx, d, content); err != nil {
				return err
			}
			r, err := c.docDelete(ctx, d)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusNoContent); err != nil {
				return err
			}
			return c.wantNoDoc(ctx, d)
		},
	}
}

// requiredParamCheck checks that a request to res without param is 400.
func requiredParamCheck(id string, res docResource, param string) Check {
	return Check{
		Requirement: Requirement{
			ID:       id,
			Text:     fmt.Sprintf("the %s requires the %s parameter: a request without it is rejected with 400", res.name, param),
			Versions: both,
		},
		Needs: []string{res.scope},
		Run: func(ctx context.Context, c *Client) error {
			d := c.newDoc(res)
			q := d.context()
			q.Set(res.idParam, d.q.Get(res.idParam))
			q.Del(param)
			r, err := c.docRequest(ctx, http.MethodPut, res, q, []byte(`{}`), "", "If-None-Match", "*")
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				return fmt.Errorf("PUT without %s: %w", param, err)
			}
			if param == res.idParam {
				return nil
			}
			r, err = c.docRequest(ctx, http.MethodGet, res, q, nil, "")
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				return fmt.Errorf("GET without %s: %w", param, err)
			}
			return nil
		},
	}
}

// multipleGetCheck checks the ids a GET without the id parameter returns.
func multipleGetCheck(id string, res docResource) Check {
	return Check{
		Requirement: Requirement{
			ID:       id,
			Text:     fmt.Sprintf("a GET of the %s without %s returns 200 and a JSON array of the ids of the documents in its context", res.name, res.idParam),
			Versions: both,
		},
		Needs: []string{res.scope},
		Run: func(ctx context.Context, c *Client) error {
			a := c.newDoc(res)
			b := c.sibling(a)
			if err := c.wantIDs(ctx, res, a.context()); err != nil {
				return err
			}
			for _, d := range []doc{a, b} {
				if err := c.createDoc(ctx, d, []byte(`{}`), ""); err != nil {
					return err
				}
			}
			return c.wantIDs(ctx, res, a.context(), idsOf(a, b)...)
		},
	}
}

// sinceCheck checks the since filter of a multiple document GET.
func sinceCheck(id string, res docResource) Check {
	return Check{
		Requirement: Requirement{
			ID:       id,
			Text:     fmt.Sprintf("a GET of the %s ids with since returns only the ids of documents stored or updated after it (exclusive)", res.name),
			Versions: both,
		},
		Needs: []string{res.scope},
		Run: func(ctx context.Context, c *Client) error {
			old := c.newDoc(res)
			fresh := c.sibling(old)
			split, err := c.sinceSplit(ctx, []doc{old}, []doc{fresh})
			if err != nil {
				return err
			}
			q := old.context()
			q.Set("since", split)
			if err := c.wantIDs(ctx, res, q, idsOf(fresh)...); err != nil {
				return err
			}
			q.Set("since", "2000-01-01T00:00:00Z")
			return c.wantIDs(ctx, res, q, idsOf(old, fresh)...)
		},
	}
}

// eachResource runs f on a new document of each document resource.
func (c *Client) eachResource(ctx context.Context, f func(d doc) error) error {
	var errs []error
	for _, res := range docResources {
		if err := f(c.newDoc(res)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", res.name, err))
		}
	}
	return errors.Join(errs...)
}

// eachDocGet stores a document in each resource and runs f on its GET.
func (c *Client) eachDocGet(ctx context.Context, f func(d doc, content []byte, r *response) error) error {
	return c.eachResource(ctx, func(d doc) error {
		content := []byte(`{"etag":"` + c.unique("content") + `"}`)
		if err := c.createDoc(ctx, d, content, ""); err != nil {
			return err
		}
		r, err := c.docGet(ctx, d)
		if err != nil {
			return err
		}
		if err := r.wantStatus(http.StatusOK); err != nil {
			return err
		}
		return f(d, content, r)
	})
}

// etagOf returns the ETag a GET of d carries.
func (c *Client) etagOf(ctx context.Context, d doc) (string, error) {
	r, err := c.docGet(ctx, d)
	if err != nil {
		return "", err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return "", err
	}
	tag := r.header.Get("ETag")
	if tag == "" {
		return "", fmt.Errorf("%s: GET has no ETag header", d)
	}
	return tag, nil
}

// putWithoutPrecondition wants a PUT without preconditions over the
// existing document d to be a 409 that explains, changing nothing.
func (c *Client) putWithoutPrecondition(ctx context.Context, d doc) error {
	if err := c.createDoc(ctx, d, []byte(`{"v":1}`), ""); err != nil {
		return err
	}
	r, err := c.docPut(ctx, d, []byte(`{"v":2}`), "")
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusConflict); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	if !explains(r.body, "If-Match", "ETag") {
		return fmt.Errorf("%s: the 409 does not explain to send If-Match with the current ETag%s", d, r.bodyHint())
	}
	return c.wantDoc(ctx, d, []byte(`{"v":1}`))
}

// recentLastModified wants r to carry a Last-Modified close to now.
func (c *Client) recentLastModified(what string, r *response) error {
	h := r.header.Get("Last-Modified")
	if h == "" {
		return fmt.Errorf("%s: no Last-Modified header", what)
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return fmt.Errorf("%s: Last-Modified %q is not an HTTP date: %v", what, h, err)
	}
	if d := time.Since(t); d > c.skew || d < -c.skew {
		return fmt.Errorf("%s: Last-Modified %s is %s away from now", what, h, d.Round(time.Second))
	}
	return nil
}
