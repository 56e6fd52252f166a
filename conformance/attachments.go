package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
)

// attachmentChecks cover attachments sent by fileUrl (Communication 1.5.1),
// attachment content in multipart/mixed requests and responses
// (Communication 1.5.2) and the "attachments" parameter.
var attachmentChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.1.s1.b2",
			Text:     `with Content-Type application/json the LRS accepts batches of statements whose attachments all have a "fileUrl"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			a := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment()} })
			b := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment(), c.fileURLAttachment()} })
			if _, err := c.store(ctx, a, b); err != nil {
				return err
			}
			put := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment()} })
			if err := wantPut(ctx, c, put, http.StatusNoContent); err != nil {
				return err
			}
			got, _, err := c.fetch(ctx, idOf(a), nil, nil)
			if err != nil {
				return err
			}
			if !sameJSON(got["attachments"], a["attachments"]) {
				return fmt.Errorf("attachments returned as %s, sent %s", jsonString(got["attachments"]), jsonString(a["attachments"]))
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.1.s1.b1",
			Text:     "with Content-Type application/json the LRS accepts batches of statements which contain no attachment objects",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			_, err := c.store(ctx, c.statement(), c.statement(), c.statement())
			return err
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s1.table1.row13",
			Text:     `GET Statements accepts the boolean "attachments" parameter (true: multipart response with attachment data)`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment()} })
			if _, err := c.store(ctx, s); err != nil {
				return err
			}
			if _, _, err := c.fetch(ctx, idOf(s), nil, nil); err != nil {
				return err
			}
			for _, q := range []url.Values{
				{"statementId": {idOf(s)}, "attachments": {"true"}},
				{"agent": {agentParam(s["actor"].(obj))}, "attachments": {"true"}},
			} {
				r, err := c.getStatements(ctx, q)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s3.b4",
			Text:     "with Content-Type multipart/mixed the LRS accepts PUT and POST of statements whose attachment content comes in parts after the statements",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content := c.attachmentContent("essay")
			s := c.statement(func(s obj) { s["attachments"] = []any{contentAttachment(content, "text/plain")} })
			r, err := c.postMultipart(ctx, s, attachmentPart(content, "text/plain"))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			content = c.attachmentContent("certificate")
			p := c.statement(func(s obj) { s["attachments"] = []any{contentAttachment(content, "application/pdf")} })
			r, err = c.putMultipart(ctx, p, attachmentPart(content, "application/pdf"))
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusNoContent)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s3.b5",
			Text:     "with multipart/mixed the LRS rejects statements having attachments that neither contain a fileUrl nor match a received part by hash",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content, other := c.attachmentContent("essay"), c.attachmentContent("other")
			for _, tc := range []struct {
				name  string
				parts []rawPart
			}{
				{"no part", nil},
				{"a part of other content", []rawPart{attachmentPart(other, "text/plain")}},
			} {
				s := c.statement(func(s obj) {
					s["attachments"] = []any{contentAttachment(content, "text/plain"), contentAttachment(other, "text/plain")}
				})
				if tc.parts == nil {
					s["attachments"] = []any{contentAttachment(content, "text/plain")}
				}
				if err := c.wantRejectedMultipart(ctx, tc.name, s, tc.parts...); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s3.b8",
			Text:     "with multipart/mixed the LRS accepts batches of statements which contain no attachment objects",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			r, err := c.postMultipart(ctx, []obj{c.statement(), c.statement()})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusOK)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s3.b9",
			Text:     "with multipart/mixed the LRS accepts batches of statements which contain only attachment objects with a populated fileUrl",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			a := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment()} })
			b := c.statement(func(s obj) { s["attachments"] = []any{c.fileURLAttachment()} })
			r, err := c.postMultipart(ctx, []obj{a, b})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusOK)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s1.b4",
			Text:     "the LRS matches attachment parts with attachment objects by SHA-2, not by their order",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			first, second := c.attachmentContent("first"), c.attachmentContent("second")
			s := c.statement(func(s obj) {
				s["attachments"] = []any{contentAttachment(first, "text/plain"), contentAttachment(second, "text/plain")}
			})
			r, err := c.postMultipart(ctx, s, attachmentPart(second, "text/plain"), attachmentPart(first, "text/plain"))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			parts, err := c.fetchWithAttachments(ctx, idOf(s))
			if err != nil {
				return err
			}
			return wantAttachmentParts(parts[1:], first, second)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s3.b1",
			Text:     "with attachments=true the LRS returns the attachment content it received, in the multipart format: statements first, each attachment's raw data once, byte for byte",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			shared, own := c.attachmentContent("shared"), c.attachmentContent("own")
			actor := c.agent()
			a := c.statement(func(s obj) {
				s["actor"] = actor
				s["attachments"] = []any{contentAttachment(shared, "image/png")}
			})
			b := c.statement(func(s obj) {
				s["actor"] = actor
				s["attachments"] = []any{contentAttachment(shared, "image/png"), contentAttachment(own, "application/octet-stream")}
			})
			// One copy of shared content for both statements (Communication 1.5.2.s2.b2.b5).
			r, err := c.postMultipart(ctx, []obj{a, b}, attachmentPart(shared, "image/png"), attachmentPart(own, "application/octet-stream"))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			q := url.Values{"agent": {agentParam(actor)}, "attachments": {"true"}}
			return c.eventually(ctx, func() error {
				r, err := c.getStatements(ctx, q)
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					return err
				}
				parts, err := parseMultipart(r)
				if err != nil {
					return &fatalError{err}
				}
				if len(parts) == 0 {
					return &fatalError{fmt.Errorf("GET %s: empty multipart response", r.url)}
				}
				var res statementResult
				if err := json.Unmarshal(parts[0].body, &res); err != nil {
					return &fatalError{fmt.Errorf("GET %s: first part is not a StatementResult: %v", r.url, err)}
				}
				if err := c.sameIDs(ids(res.Statements), []string{idOf(a), idOf(b)}); err != nil {
					return err
				}
				return wantAttachmentParts(parts[1:], shared, own)
			})
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.1.3.s2.b6",
			Text:     `with attachments=true the LRS uses the multipart response format: Content-Type multipart/mixed, the statement as the first part (application/json), then the attachments`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content := c.attachmentContent("single")
			s := c.statement(func(s obj) { s["attachments"] = []any{contentAttachment(content, "text/plain")} })
			r, err := c.postMultipart(ctx, s, attachmentPart(content, "text/plain"))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			parts, err := c.fetchWithAttachments(ctx, idOf(s))
			if err != nil {
				return err
			}
			mt, _, _ := mime.ParseMediaType(parts[0].header.Get("Content-Type"))
			if mt != "application/json" {
				return fmt.Errorf("first part has Content-Type %q, want application/json", parts[0].header.Get("Content-Type"))
			}
			var got obj
			if err := json.Unmarshal(parts[0].body, &got); err != nil || idOf(got) != idOf(s) {
				return fmt.Errorf("first part is not the statement %s: %.200s", idOf(s), parts[0].body)
			}
			return wantAttachmentParts(parts[1:], content)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s2.b1",
			Text:     "an application/json request whose attachment has no fileUrl is rejected: its content would need a multipart/mixed part",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement(func(s obj) { s["attachments"] = []any{contentAttachment(c.attachmentContent("lost"), "text/plain")} })
			r, err := c.postStatements(ctx, s)
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusBadRequest); err != nil {
				return err
			}
			return c.wantNotFound(ctx, "statementId", idOf(s))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s2.b2.b1",
			Text:     "the first part of a multipart/mixed statements request holds the statements as application/json; a request whose first part is another type is rejected",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			ct, body := multipartBody(s)
			body = bytes.Replace(body, []byte("Content-Type: application/json"), []byte("Content-Type: text/plain"), 1)
			r, err := c.do(ctx, request{method: http.MethodPost, path: "statements", body: body, header: http.Header{"Content-Type": {ct}}})
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusBadRequest)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s2.b2.b2",
			Text:     "each part after the first holds the raw data of an attachment of the statements; a part that belongs to no attachment is rejected",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content := c.attachmentContent("stray")
			return c.wantRejectedMultipart(ctx, "a part no attachment refers to", c.statement(), attachmentPart(content, "text/plain"))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 1.5.2.s2.b2.b3",
			Text:     "each attachment part carries an X-Experience-API-Hash header matching its content; a part without it or with another hash cannot match and is rejected",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			content, other := c.attachmentContent("hashed"), c.attachmentContent("other")
			noHash := attachmentPart(content, "text/plain")
			noHash.header.Del(hashHeader)
			wrongContent := attachmentPart(other, "text/plain")
			wrongContent.header.Set(hashHeader, sha256Hex(content))
			for _, tc := range []struct {
				name string
				part rawPart
			}{{"no " + hashHeader, noHash}, {hashHeader + " of other content", wrongContent}} {
				s := c.statement(func(s obj) { s["attachments"] = []any{contentAttachment(content, "text/plain")} })
				if err := c.wantRejectedMultipart(ctx, tc.name, s, tc.part); err != nil {
					return err
				}
			}
			return nil
		},
	},
}

// fileURLAttachment returns an attachment object whose data is at a fileUrl.
func (c *Client) fileURLAttachment() obj {
	return obj{
		"usageType":   "http://conformance.example.com/attachment-usage/certificate",
		"display":     obj{"en-US": "Certificate"},
		"description": obj{"en-US": "A certificate of completion"},
		"contentType": "application/pdf",
		"length":      27.0,
		"sha2":        "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
		"fileUrl":     "https://files.conformance.example.com/" + c.unique("file") + ".pdf",
	}
}

const hashHeader = "X-Experience-API-Hash"

// rawPart is one part of a multipart/mixed body.
type rawPart struct {
	header textproto.MIMEHeader
	body   []byte
}

// attachmentContent returns content unique to this client, with bytes
// that are not text and a line that looks like multipart framing.
func (c *Client) attachmentContent(kind string) []byte {
	return []byte("attachment " + c.unique(kind) + "\r\n--boundary-lookalike\r\n\x00\x01\xfe\xff\r\n")
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// contentAttachment returns an attachment object for content sent in a
// part (no fileUrl).
func contentAttachment(content []byte, contentType string) obj {
	return obj{
		"usageType":   "http://conformance.example.com/attachment-usage/evidence",
		"display":     obj{"en-US": "Evidence"},
		"contentType": contentType,
		"length":      float64(len(content)),
		"sha2":        sha256Hex(content),
	}
}

// attachmentPart returns the part carrying content, with the headers the
// spec asks for (Communication 1.5.2.s2.b2).
func attachmentPart(content []byte, contentType string) rawPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set(hashHeader, sha256Hex(content))
	return rawPart{header: h, body: content}
}

// multipartBody returns the Content-Type and body of a multipart/mixed
// statements request: the statements (JSON) first, then the parts.
func multipartBody(stmts any, parts ...rawPart) (string, []byte) {
	data, _ := json.Marshal(stmts)
	boundary := "conformance-" + randomHex(12)
	var b bytes.Buffer
	writePart := func(h textproto.MIMEHeader, body []byte) {
		b.WriteString("--" + boundary + "\r\n")
		keys := make([]string, 0, len(h))
		for k := range h {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range h[k] {
				b.WriteString(k + ": " + v + "\r\n")
			}
		}
		b.WriteString("\r\n")
		b.Write(body)
		b.WriteString("\r\n")
	}
	writePart(textproto.MIMEHeader{"Content-Type": {"application/json"}}, data)
	for _, p := range parts {
		writePart(p.header, p.body)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return `multipart/mixed; boundary="` + boundary + `"`, b.Bytes()
}

// postMultipart POSTs the statements (an object or an array) with the parts.
func (c *Client) postMultipart(ctx context.Context, stmts any, parts ...rawPart) (*response, error) {
	ct, body := multipartBody(stmts, parts...)
	return c.do(ctx, request{method: http.MethodPost, path: "statements", body: body, header: http.Header{"Content-Type": {ct}}})
}

// putMultipart PUTs the statement under its id with the parts.
func (c *Client) putMultipart(ctx context.Context, stmt obj, parts ...rawPart) (*response, error) {
	ct, body := multipartBody(stmt, parts...)
	return c.do(ctx, request{method: http.MethodPut, path: "statements", query: url.Values{"statementId": {idOf(stmt)}},
		body: body, header: http.Header{"Content-Type": {ct}}})
}

// wantRejectedMultipart POSTs the statement with the parts and expects 400,
// and the statement not stored.
func (c *Client) wantRejectedMultipart(ctx context.Context, name string, stmt obj, parts ...rawPart) error {
	r, err := c.postMultipart(ctx, stmt, parts...)
	if err != nil {
		return err
	}
	if err := r.wantStatus(http.StatusBadRequest); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := c.wantNotFound(ctx, "statementId", idOf(stmt)); err != nil {
		return fmt.Errorf("%s: the rejected statement was stored: %w", name, err)
	}
	return nil
}

// parseMultipart returns the parts of a multipart/mixed response.
func parseMultipart(r *response) ([]rawPart, error) {
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		return nil, fmt.Errorf("%s %s: Content-Type %q, want multipart/mixed%s", r.method, r.url, r.header.Get("Content-Type"), r.bodyHint())
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var out []rawPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: not a valid multipart/mixed body: %v", r.method, r.url, err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("%s %s: not a valid multipart/mixed body: %v", r.method, r.url, err)
		}
		out = append(out, rawPart{header: p.Header, body: b})
	}
}

// fetchWithAttachments returns the parts of GET ?statementId=id&attachments=true,
// at least the statement's.
func (c *Client) fetchWithAttachments(ctx context.Context, id string) ([]rawPart, error) {
	var parts []rawPart
	err := c.eventually(ctx, func() error {
		r, err := c.getStatements(ctx, url.Values{"statementId": {id}, "attachments": {"true"}})
		if err != nil {
			return err
		}
		if err := r.wantStatus(http.StatusOK); err != nil {
			return err
		}
		if parts, err = parseMultipart(r); err != nil {
			return &fatalError{err}
		}
		if len(parts) == 0 {
			return &fatalError{fmt.Errorf("GET %s: empty multipart response", r.url)}
		}
		return nil
	})
	return parts, err
}

// wantAttachmentParts checks that parts hold each content exactly once,
// under its hash, with binary transfer encoding.
func wantAttachmentParts(parts []rawPart, contents ...[]byte) error {
	if len(parts) != len(contents) {
		return fmt.Errorf("%d attachment parts, want %d (one per distinct attachment)", len(parts), len(contents))
	}
	for _, want := range contents {
		sum := sha256Hex(want)
		found := false
		for _, p := range parts {
			if !strings.EqualFold(p.header.Get(hashHeader), sum) {
				continue
			}
			found = true
			if !bytes.Equal(p.body, want) {
				return fmt.Errorf("the part with %s %s holds %d bytes that differ from the %d sent", hashHeader, sum, len(p.body), len(want))
			}
			if cte := p.header.Get("Content-Transfer-Encoding"); !strings.EqualFold(cte, "binary") {
				return fmt.Errorf("the part with %s %s has Content-Transfer-Encoding %q, want binary", hashHeader, sum, cte)
			}
		}
		if !found {
			return fmt.Errorf("no part with %s %s", hashHeader, sum)
		}
	}
	return nil
}
