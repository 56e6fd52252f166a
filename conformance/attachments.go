package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// attachmentChecks cover attachments sent by fileUrl (Communication 1.5.1)
// and the "attachments" parameter; multipart bodies are not checked yet.
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
