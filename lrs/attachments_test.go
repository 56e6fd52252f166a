package lrs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
)

// part is one attachment part of a multipart/mixed request.
type part struct {
	content []byte
	header  map[string]string // nil: Content-Type, Content-Transfer-Encoding and the hash of content
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// multipartBody returns the Content-Type and body of a statements request
// with the statements (JSON) first and then the parts.
func multipartBody(t testing.TB, stmts string, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(stmts))
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.header == nil {
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Transfer-Encoding", "binary")
			h.Set("X-Experience-API-Hash", sha256Hex(p.content))
		}
		for k, v := range p.header {
			h.Set(k, v)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.content)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// send sends a request with the test credential in version 1.0.3.
func send(t testing.TB, srv *httptest.Server, method, path, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return sendAs(t, srv, testKey+":"+testSecret, method, path, contentType, body)
}

func wantStatus(t testing.TB, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, body)
	}
}

// receivedPart is a part of a multipart response.
type receivedPart struct {
	header textproto.MIMEHeader
	body   []byte
}

// readMultipart parses a multipart/mixed response.
func readMultipart(t testing.TB, resp *http.Response, body []byte) []receivedPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q, want multipart/mixed", resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var out []receivedPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading multipart response: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, receivedPart{p.Header, b})
	}
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// stmtWith returns a statement with its own id and the attachments (JSON).
func stmtWith(id string, attachments ...string) string {
	s := `{"id":"` + id + `","actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},
	"object":{"id":"http://example.fi/essay"}`
	if len(attachments) > 0 {
		s += `,"attachments":[` + strings.Join(attachments, ",") + `]`
	}
	return s + "}"
}

// att returns an attachment object for content; fileURL may be "".
func att(content []byte, contentType, fileURL string) string {
	s := fmt.Sprintf(`{"usageType":"http://example.fi/usage/essay","display":{"en-US":"Essay"},"contentType":%q,"length":%d,"sha2":%q`,
		contentType, len(content), sha256Hex(content))
	if fileURL != "" {
		s += fmt.Sprintf(`,"fileUrl":%q`, fileURL)
	}
	return s + "}"
}

func TestAttachments_RoundTrip(t *testing.T) {
	srv := MustOpenServer(t)
	// Content that looks like multipart framing must survive too.
	content := []byte("line one\r\n--not-a-boundary\r\n\x00\xff\xfe binary\r\n")
	id := newUUID()
	ct, body := multipartBody(t, stmtWith(id, att(content, "text/plain", "")), part{content: content})
	resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)

	for _, q := range []string{"statementId=" + id + "&attachments=true",
		"agent=" + url.QueryEscape(`{"mbox":"mailto:learner@example.fi"}`) + "&attachments=true"} {
		resp, b = send(t, srv, "GET", "/xapi/statements?"+q, "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		parts := readMultipart(t, resp, b)
		if len(parts) != 2 {
			t.Fatalf("GET ?%s: %d parts, want 2", q, len(parts))
		}
		if got := parts[0].header.Get("Content-Type"); got != "application/json" {
			t.Errorf("first part Content-Type %q, want application/json", got)
		}
		if !bytes.Contains(parts[0].body, []byte(id)) {
			t.Errorf("first part does not hold the statement: %s", parts[0].body)
		}
		if !bytes.Equal(parts[1].body, content) {
			t.Errorf("attachment part: got %q, want %q", parts[1].body, content)
		}
		if got := parts[1].header.Get("X-Experience-API-Hash"); got != sha256Hex(content) {
			t.Errorf("attachment part hash %q, want %q", got, sha256Hex(content))
		}
		if got := parts[1].header.Get("Content-Transfer-Encoding"); got != "binary" {
			t.Errorf("attachment part Content-Transfer-Encoding %q, want binary", got)
		}
		if got := parts[1].header.Get("Content-Type"); got != "text/plain" {
			t.Errorf("attachment part Content-Type %q, want text/plain", got)
		}
	}

	// Without attachments=true: JSON, no content.
	resp, b = send(t, srv, "GET", "/xapi/statements?statementId="+id+"&attachments=false", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("attachments=false: Content-Type %q, want application/json", got)
	}
}

func TestAttachments_PutAndSharedContent(t *testing.T) {
	srv := MustOpenServer(t)
	content := []byte("one certificate for two statements")
	id := newUUID()
	ct, body := multipartBody(t, stmtWith(id, att(content, "application/pdf", "")), part{content: content})
	resp, b := send(t, srv, "PUT", "/xapi/statements?statementId="+id, ct, body)
	wantStatus(t, resp, b, http.StatusNoContent)

	// A batch whose statements share one part; the same part sent twice is kept once.
	a, c := newUUID(), newUUID()
	ct, body = multipartBody(t, "["+stmtWith(a, att(content, "application/pdf", ""))+","+stmtWith(c, att(content, "application/pdf", ""))+"]",
		part{content: content}, part{content: content})
	resp, b = send(t, srv, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)

	resp, b = send(t, srv, "GET", "/xapi/statements?attachments=true&limit=10", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	parts := readMultipart(t, resp, b)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want the result and one attachment", len(parts))
	}
	var res struct {
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal(parts[0].body, &res); err != nil || len(res.Statements) != 3 {
		t.Fatalf("first part: %s (%v), want a StatementResult of 3", parts[0].body, err)
	}
	if !bytes.Equal(parts[1].body, content) {
		t.Errorf("attachment: got %q", parts[1].body)
	}
}

func TestAttachments_FileURLOnly(t *testing.T) {
	srv := MustOpenServer(t)
	content := []byte("hosted elsewhere")
	id := newUUID()
	stmt := stmtWith(id, att(content, "text/plain", "https://files.example.fi/a.txt"))
	ct, body := multipartBody(t, stmt)
	resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)
	id2 := newUUID()
	resp, b = send(t, srv, "POST", "/xapi/statements", "application/json", []byte(stmtWith(id2, att(content, "text/plain", "https://files.example.fi/a.txt"))))
	wantStatus(t, resp, b, http.StatusOK)
	resp, b = send(t, srv, "GET", "/xapi/statements?attachments=true&statementId="+id, "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	if parts := readMultipart(t, resp, b); len(parts) != 1 {
		t.Errorf("%d parts, want only the statement: the LRS has no content", len(parts))
	}
	// A multipart request without attachments.
	ct, body = multipartBody(t, stmtWith(newUUID()))
	resp, b = send(t, srv, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)
}

func TestAttachments_Rejected(t *testing.T) {
	srv := MustOpenServer(t)
	content := []byte("the essay")
	other := []byte("another essay")
	tests := []struct {
		name    string
		ct      string // "" = multipart from stmt and parts
		stmt    string
		parts   []part
		raw     []byte
		wantMsg string
	}{
		{name: "missing part", stmt: stmtWith(newUUID(), att(content, "text/plain", "")), wantMsg: "/attachments/0"},
		{name: "missing part in batch", stmt: "[" + stmtWith(newUUID()) + "," + stmtWith(newUUID(), att(content, "text/plain", "")) + "]",
			wantMsg: "/1/attachments/0"},
		{name: "extra part", stmt: stmtWith(newUUID()), parts: []part{{content: content}}, wantMsg: sha256Hex(content)},
		{name: "part of another content", stmt: stmtWith(newUUID(), att(content, "text/plain", "")), parts: []part{{content: other}},
			wantMsg: sha256Hex(other)},
		{name: "hash header does not match content", stmt: stmtWith(newUUID(), att(content, "text/plain", "")),
			parts:   []part{{content: []byte("the Essay"), header: map[string]string{"X-Experience-API-Hash": sha256Hex(content), "Content-Transfer-Encoding": "binary"}}},
			wantMsg: "SHA-2"},
		{name: "no hash header", stmt: stmtWith(newUUID(), att(content, "text/plain", "")),
			parts: []part{{content: content, header: map[string]string{"Content-Transfer-Encoding": "binary"}}}, wantMsg: "X-Experience-API-Hash"},
		{name: "base64 transfer encoding", stmt: stmtWith(newUUID(), att(content, "text/plain", "")),
			parts:   []part{{content: content, header: map[string]string{"X-Experience-API-Hash": sha256Hex(content), "Content-Transfer-Encoding": "base64"}}},
			wantMsg: "Content-Transfer-Encoding"},
		{name: "json without fileUrl", ct: "application/json", raw: []byte(stmtWith(newUUID(), att(content, "text/plain", ""))), wantMsg: "fileUrl"},
		{name: "no boundary", ct: "multipart/mixed", raw: []byte("x"), wantMsg: "boundary"},
		{name: "first part not json", ct: "multipart/mixed; boundary=b", raw: []byte("--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"),
			wantMsg: "application/json"},
		{name: "broken multipart", ct: "multipart/mixed; boundary=b", raw: []byte("--b\r\nContent-Type: application/json\r\n\r\n{}"),
			wantMsg: "multipart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := tc.ct, tc.raw
			if ct == "" {
				ct, body = multipartBody(t, tc.stmt, tc.parts...)
			}
			resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
			wantStatus(t, resp, b, http.StatusBadRequest)
			if !strings.Contains(string(b), tc.wantMsg) {
				t.Errorf("body %s does not contain %q", b, tc.wantMsg)
			}
		})
	}
	// Nothing of the rejected requests was stored.
	resp, b := send(t, srv, "GET", "/xapi/statements", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	if !strings.Contains(string(b), `"statements":[]`) {
		t.Errorf("rejected statements were stored: %s", b)
	}
}

func TestAttachments_Large(t *testing.T) {
	if testing.Short() {
		t.Skip("large attachment")
	}
	// Larger than the server's body limit (16 MiB): a credential whose
	// bodyBytes allows it sends it.
	l := mustOpenLRS(t, statements.Limits{BodyBytes: 32 << 20}, nil)
	ctx := context.Background()
	content := bytes.Repeat([]byte("0123456789abcdef"), (20<<20)/16)
	id := newUUID()
	ct, body := multipartBody(t, stmtWith(id, att(content, "application/octet-stream", "")), part{content: content})
	ct = strings.Replace(ct, "multipart/form-data", "multipart/mixed", 1)
	rec := l.do(ctx, "PUT", "/xapi/statements?statementId="+id, ct, bytes.NewReader(body), int64(len(body)))
	wantStatus(t, rec.Result(), rec.Body.Bytes(), http.StatusNoContent)
	rec = l.do(ctx, "GET", "/xapi/statements?attachments=true&statementId="+id, "", nil, 0)
	wantStatus(t, rec.Result(), rec.Body.Bytes(), http.StatusOK)
	parts := readMultipart(t, rec.Result(), rec.Body.Bytes())
	if len(parts) != 2 || !bytes.Equal(parts[1].body, content) {
		t.Fatalf("large attachment did not round-trip (%d parts)", len(parts))
	}
}

// TestAttachments_LengthAsDeclared: an attachment whose part is not of its
// declared length is accepted, as the ADL conformance suite requires
// ("attachment is raw data": hex text under the length of the bytes); the
// hash ties the content to the statement, and the body limit bounds it.
func TestAttachments_LengthAsDeclared(t *testing.T) {
	srv := MustOpenServer(t)
	content := []byte("ffd8ffe000104a464946")
	ct, body := multipartBody(t, stmtWith(newUUID(), attOf(sha256Hex(content), int64(len(content)/2))), part{content: content})
	if resp, b := send(t, srv, "POST", "/xapi/statements", ct, body); resp.StatusCode != http.StatusOK {
		t.Errorf("attachment of twice its declared length: %d %s, want 200", resp.StatusCode, b)
	}
}
