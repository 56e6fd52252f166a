package lrs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

// sendAs sends a request with the credential auth ("key:secret") in
// version 1.0.3.
func sendAs(t testing.TB, srv *httptest.Server, auth, method, path, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	key, secret, _ := strings.Cut(auth, ":")
	req.SetBasicAuth(key, secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	if contentType != "" {
		req.Header.Set("Content-Type", strings.Replace(contentType, "multipart/form-data", "multipart/mixed", 1))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// errorWithout returns an error body without its request id and with the
// id replaced, to compare the answers of two requests.
func errorWithout(t testing.TB, body []byte, id string) string {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	delete(e, "requestId")
	b, _ := json.Marshal(e)
	return strings.ReplaceAll(string(b), id, "ID")
}

func refTo(id, verb string) string {
	return `{"actor":{"mbox":"mailto:someone@example.fi"},"verb":{"id":"` + verb + `"},"object":{"objectType":"StatementRef","id":"` + id + `"}}`
}

func voidingOf(id string) string { return refTo(id, "http://adlnet.gov/expapi/verbs/voided") }

// withID puts the id in front of the statement stmt, which has none.
func withID(stmt, id string) string { return `{"id":"` + id + `",` + stmt[1:] }

func statementOf(id, verb string) string {
	return `{"id":"` + id + `","actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"` + verb + `"},"object":{"id":"https://example.fi/a"}}`
}

// TestScopes_ReadMineHostile: a credential with statements/read/mine (and
// write) cannot void, read the attachments of, or learn about the
// statements of another credential of its tenant; what it stored itself it
// reads and voids as before.
func TestScopes_ReadMineHostile(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	mine := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/write","statements/read/mine"],"app":"A"}`)
	all := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	const secretVerb = "https://example.fi/verbs/secret"

	// The other credential's statements: X with attachment content, X2
	// voided by it.
	secret := []byte("the other credential's attachment content")
	idX, idX2, unknown := newUUID(), newUUID(), newUUID()
	ct, body := multipartBody(t, strings.Replace(stmtWith(idX, att(secret, "text/plain", "")), "http://adlnet.gov/expapi/verbs/completed", secretVerb, 1),
		part{content: secret})
	resp, b := sendAs(t, srv, all, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)
	idV2 := newUUID()
	mustCall(t, srv, "POST", "/xapi/statements", all, "["+statementOf(idX2, secretVerb)+","+withID(voidingOf(idX2), idV2)+"]", http.StatusOK)

	// This credential's own statements.
	idM1, idM2 := newUUID(), newUUID()
	mustCall(t, srv, "POST", "/xapi/statements", mine, statementOf(idM1, "https://example.fi/verbs/mine"), http.StatusOK)
	mustCall(t, srv, "POST", "/xapi/statements", mine, statementOf(idM2, "https://example.fi/verbs/mine"), http.StatusOK)

	t.Run("VoidOthersNoEffectLikeUnknown", func(t *testing.T) {
		// Voiding another's statement and voiding one that does not exist
		// both store the statement, and void nothing.
		codeX, _, bodyX := call(t, srv, "POST", "/xapi/statements", mine, voidingOf(idX))
		codeU, _, bodyU := call(t, srv, "POST", "/xapi/statements", mine, voidingOf(unknown))
		if codeX != http.StatusOK || codeU != http.StatusOK {
			t.Fatalf("voiding another's statement: %d %s; an unknown one: %d %s; want 200 both", codeX, bodyX, codeU, bodyU)
		}
		var voidX, voidU []string
		json.Unmarshal(bodyX, &voidX)
		json.Unmarshal(bodyU, &voidU)
		codeX, _, _ = call(t, srv, "PUT", "/xapi/statements?statementId="+newUUID(), mine, voidingOf(idX))
		if codeX != http.StatusNoContent {
			t.Errorf("PUT voiding another's statement: %d, want 204", codeX)
		}
		// Nor when the unknown statement comes, from another credential.
		mustCall(t, srv, "POST", "/xapi/statements", all, statementOf(unknown, secretVerb), http.StatusOK)
		for _, id := range []string{idX, unknown} {
			mustCall(t, srv, "GET", "/xapi/statements?statementId="+id, all, "", http.StatusOK)
			mustCall(t, srv, "GET", "/xapi/statements?voidedStatementId="+id, all, "", http.StatusNotFound)
		}
		// Its own voiding statements, stored, say they void nothing: the
		// forwarders tell no one of a voiding.
		for _, id := range append(voidX, voidU...) {
			rec, err := store.Statement(t.Context(), "espoo", id, false)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Voids != "" {
				t.Errorf("voiding statement %s of another's or no statement: Voids %q, want none", id, rec.Voids)
			}
		}
		// Voiding another's voiding statement is no different (voiding
		// one's own is a 400: a voiding statement cannot be voided).
		mustCall(t, srv, "POST", "/xapi/statements", mine, voidingOf(idV2), http.StatusOK)
	})

	t.Run("VoidOwn", func(t *testing.T) {
		mustCall(t, srv, "POST", "/xapi/statements", mine, voidingOf(idM2), http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements?voidedStatementId="+idM2, mine, "", http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements?statementId="+idM2, mine, "", http.StatusNotFound)
		// A statement and its voiding in one batch.
		idN := newUUID()
		mustCall(t, srv, "POST", "/xapi/statements", mine, "["+statementOf(idN, "https://example.fi/verbs/mine")+","+voidingOf(idN)+"]", http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements?voidedStatementId="+idN, mine, "", http.StatusOK)
	})

	t.Run("GetOthersNotFoundLikeUnknown", func(t *testing.T) {
		unknown := newUUID()
		for _, c := range []struct{ param, id string }{{"statementId", idX}, {"voidedStatementId", idX2}} {
			codeX, _, bodyX := call(t, srv, "GET", "/xapi/statements?"+c.param+"="+c.id, mine, "")
			codeU, _, bodyU := call(t, srv, "GET", "/xapi/statements?"+c.param+"="+unknown, mine, "")
			if codeX != http.StatusNotFound || codeU != http.StatusNotFound {
				t.Fatalf("%s of another's statement: %d; of an unknown one: %d; want 404 both", c.param, codeX, codeU)
			}
			if x, u := errorWithout(t, bodyX, c.id), errorWithout(t, bodyU, unknown); x != u {
				t.Errorf("%s: another's statement answers %s, an unknown one %s: want the same", c.param, x, u)
			}
		}
	})

	t.Run("QueryPagesOnlyOwn", func(t *testing.T) {
		// Another credential refers to this one's statement: it matches
		// this one's statement's terms, but is not this one's.
		mustCall(t, srv, "POST", "/xapi/statements", all, refTo(idM1, "https://example.fi/verbs/comment"), http.StatusOK)
		got, pages := walkAs(t, srv, mine, "/xapi/statements?limit=1", false)
		for _, id := range got {
			if id == idX || id == idX2 {
				t.Errorf("the query returned another credential's statement %s", id)
			}
		}
		if len(got) != pages || len(got) < 3 {
			t.Errorf("limit=1: %d statements in %d pages, want one per page and at least 3", len(got), pages)
		}
	})

	t.Run("NoMatchThroughOthersStatements", func(t *testing.T) {
		// A reference of its own to another's statement does not tell
		// this credential what that statement holds.
		idO := newUUID()
		ref := withID(refTo(idX, "https://example.fi/verbs/mine"), idO)
		mustCall(t, srv, "POST", "/xapi/statements", mine, ref, http.StatusOK)
		got, _ := walkAs(t, srv, mine, "/xapi/statements?verb="+url.QueryEscape(secretVerb), false)
		if len(got) != 0 {
			t.Errorf("?verb=%s: got %v, want nothing of this credential's", secretVerb, got)
		}
		// A reader of every statement matches it through its target.
		got, _ = walkAs(t, srv, all, "/xapi/statements?verb="+url.QueryEscape(secretVerb), false)
		if !strings.Contains(strings.Join(got, " "), idO) {
			t.Errorf("?verb=%s as all: got %v, want the reference %s too", secretVerb, got, idO)
		}
	})

	t.Run("NoOthersAttachmentContent", func(t *testing.T) {
		// Its own statement names the hash of another's content, with a
		// fileUrl and without sending the content.
		idA := newUUID()
		mustCall(t, srv, "POST", "/xapi/statements", mine, stmtWith(idA, att(secret, "text/plain", "https://example.fi/f")), http.StatusOK)
		// Content it sent itself comes back.
		own := []byte("content this credential sent")
		ct, body := multipartBody(t, stmtWith(newUUID(), att(own, "text/plain", "")), part{content: own})
		resp, b := sendAs(t, srv, mine, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusOK)
		for _, q := range []string{"statementId=" + idA + "&attachments=true", "attachments=true"} {
			resp, b := sendAs(t, srv, mine, "GET", "/xapi/statements?"+q, "", nil)
			wantStatus(t, resp, b, http.StatusOK)
			parts := readMultipart(t, resp, b)
			for _, p := range parts[1:] {
				if bytes.Equal(p.body, secret) {
					t.Errorf("?%s: the response holds another credential's attachment content", q)
				}
			}
			if q == "attachments=true" && (len(parts) != 2 || !bytes.Equal(parts[1].body, own)) {
				t.Errorf("?%s: %d parts, want the JSON and this credential's own content", q, len(parts))
			}
		}
		// A reader of every statement gets it.
		resp, b = sendAs(t, srv, all, "GET", "/xapi/statements?statementId="+idA+"&attachments=true", "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		if parts := readMultipart(t, resp, b); len(parts) != 2 || !bytes.Equal(parts[1].body, secret) {
			t.Errorf("as all: %d parts, want the JSON and the content", len(parts))
		}
	})
}
