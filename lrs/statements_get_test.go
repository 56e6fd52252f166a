package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// mustOpenServerWith starts an LRS with cfg on a fresh embedded store with
// the test credential; wrap, when not nil, wraps the store the LRS uses.
func mustOpenServerWith(tb testing.TB, cfg lrs.Config, wrap func(statements.Store) statements.Store) *httptest.Server {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := lrs.Bootstrap(tb.Context(), store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	cfg.Store = store
	if wrap != nil {
		cfg.Store = wrap(store)
	}
	srv := httptest.NewServer(withContract(tb, lrs.New(cfg)))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// bigStatement returns a statement of about n bytes: a result extension
// holds the bulk.
func bigStatement(i, n int) string {
	return fmt.Sprintf(`{"actor":{"mbox":"mailto:big@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
	"object":{"id":"http://example.fi/big/%d"},"result":{"extensions":{"http://example.fi/ext/pad":%q}}}`, i, strings.Repeat("x", n))
}

// postBig stores count statements of about size bytes each, oldest first,
// and returns their ids.
func postBig(t testing.TB, srv *httptest.Server, count, size int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < count; i += 8 {
		var batch []string
		for j := i; j < min(i+8, count); j++ {
			batch = append(batch, bigStatement(j, size))
		}
		resp, b := send(t, srv, "POST", "/xapi/statements", "application/json", []byte("["+strings.Join(batch, ",")+"]"))
		wantStatus(t, resp, b, http.StatusOK)
		var got []string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

// heapPeak samples the heap's objects while fn runs and returns the
// largest growth over the heap before it, after a collection.
func heapPeak(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if h := read(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// statementResult is a StatementResult with the ids of its statements.
type statementResult struct {
	Statements []struct {
		ID     string `json:"id"`
		Stored string `json:"stored"`
	} `json:"statements"`
	More string `json:"more"`
}

// walk is walkAs with the test credential.
func walk(t testing.TB, srv *httptest.Server, path string, multipart bool) ([]string, int) {
	t.Helper()
	return walkAs(t, srv, testKey+":"+testSecret, path, multipart)
}

// walkAs follows a query's more links from path as the credential auth
// ("key:secret") and returns every id, and the number of pages; an empty
// page with more fails.
func walkAs(t testing.TB, srv *httptest.Server, auth, path string, multipart bool) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for next := path; next != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: more than 1000 pages", path)
		}
		resp, b := sendAs(t, srv, auth, "GET", next, "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		if multipart {
			b = readMultipart(t, resp, b)[0].body
		}
		var r statementResult
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		if len(r.Statements) == 0 && r.More != "" {
			t.Fatalf("GET %s: an empty page with more", next)
		}
		for _, s := range r.Statements {
			ids = append(ids, s.ID)
		}
		next = r.More
	}
	return ids, pages
}

func reversed(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}

// TestAPI_PageBytes: a GET of large statements holds about one page's
// byte budget in memory, not the page its limit asks for; the page stops
// at the budget and more gives the rest, nothing lost or repeated.
func TestAPI_PageBytes(t *testing.T) {
	t.Run("PeakHeap", func(t *testing.T) {
		srv := MustOpenServer(t)
		const count, size = 40, 1 << 20
		ids := postBig(t, srv, count, size)

		var n int64
		var resp *http.Response
		grew := heapPeak(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/xapi/statements?limit=0", nil)
			req.SetBasicAuth(testKey, testSecret)
			req.Header.Set("X-Experience-API-Version", "1.0.3")
			var err error
			if resp, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
			n, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
		t.Logf("GET ?limit=0 over %d statements of %d KiB: %d MiB of response, heap grew by %d MiB at most",
			count, size>>10, n>>20, grew>>20)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if max := uint64(64 << 20); grew > max {
			t.Errorf("heap grew by %d MiB during one GET, want under %d MiB", grew>>20, max>>20)
		}
		if n > lrs.DefaultPageBytes+2*size {
			t.Errorf("response of %d bytes, over the page budget of %d", n, lrs.DefaultPageBytes)
		}

		// The first page stops at the budget with a more link, and
		// walking it returns every statement once, newest first.
		resp, b := send(t, srv, "GET", "/xapi/statements?limit=0", "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		var first statementResult
		if err := json.Unmarshal(b, &first); err != nil {
			t.Fatal(err)
		}
		if len(first.Statements) >= count || first.More == "" {
			t.Fatalf("first page: %d statements, more %q; want fewer than %d and more", len(first.Statements), first.More, count)
		}
		if got, want := resp.Header.Get("Last-Modified"), lastModified(t, first.Statements[0].Stored); got != want {
			t.Errorf("Last-Modified %q, want %q (the newest statement)", got, want)
		}
		got, pages := walk(t, srv, "/xapi/statements?limit=0", false)
		if fmt.Sprint(got) != fmt.Sprint(reversed(ids)) {
			t.Errorf("walked %d statements in %d pages, want the %d stored, newest first", len(got), pages, count)
		}
	})

	t.Run("Walk", func(t *testing.T) {
		const count, size = 12, 100 << 10
		srv := mustOpenServerWith(t, lrs.Config{PageBytes: 250 << 10}, nil)
		ids := postBig(t, srv, count, size)
		for _, c := range []struct {
			query     string
			want      []string
			multipart bool
		}{
			{"limit=0", reversed(ids), false},
			{"ascending=true", ids, false},
			{"ascending=true&limit=5&format=ids", ids, false},
			{"limit=3&format=canonical", reversed(ids), false},
			{"ascending=true&attachments=true", ids, true},
		} {
			got, pages := walk(t, srv, "/xapi/statements?"+c.query, c.multipart)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("?%s: walked %v, want %v", c.query, got, c.want)
			}
			if pages < count/2 {
				t.Errorf("?%s: %d pages, want at least %d under a budget of two statements", c.query, pages, count/2)
			}
		}
		// The ascending page's Last-Modified is its last statement's.
		resp, b := send(t, srv, "GET", "/xapi/statements?ascending=true", "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		var r statementResult
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if got, want := resp.Header.Get("Last-Modified"), lastModified(t, r.Statements[len(r.Statements)-1].Stored); got != want {
			t.Errorf("ascending: Last-Modified %q, want %q", got, want)
		}
		// HEAD: the headers of the GET, no body.
		resp, b = send(t, srv, "HEAD", "/xapi/statements?ascending=true", "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		if len(b) != 0 || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("X-Experience-API-Consistent-Through") == "" {
			t.Errorf("HEAD: body of %d bytes, Last-Modified %q, Consistent-Through %q", len(b),
				resp.Header.Get("Last-Modified"), resp.Header.Get("X-Experience-API-Consistent-Through"))
		}
	})
}

func lastModified(t testing.TB, stored string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		t.Fatalf("stored %q: %v", stored, err)
	}
	return ts.UTC().Format(http.TimeFormat)
}

// openCounter is a store that counts the attachments open at once.
type openCounter struct {
	statements.Store
	open, most atomic.Int32
}

func (s *openCounter) Attachment(ctx context.Context, tenant, sha2 string) (io.ReadCloser, int64, error) {
	r, n, err := s.Store.Attachment(ctx, tenant, sha2)
	if err != nil {
		return r, n, err
	}
	if o := s.open.Add(1); o > s.most.Load() {
		s.most.Store(o)
	}
	return &countedReader{r, &s.open}, n, nil
}

type countedReader struct {
	io.ReadCloser
	open *atomic.Int32
}

func (r *countedReader) Close() error { r.open.Add(-1); return r.ReadCloser.Close() }

// TestAttachments_OneOpenAtATime: a page with many attachments streams
// them one after another, holding one open at a time.
func TestAttachments_OneOpenAtATime(t *testing.T) {
	var store *openCounter
	srv := mustOpenServerWith(t, lrs.Config{}, func(s statements.Store) statements.Store {
		store = &openCounter{Store: s}
		return store
	})
	var contents [][]byte
	for i := range 20 {
		content := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
		contents = append(contents, content)
		ct, body := multipartBody(t, stmtWith(newUUID(), att(content, "text/plain", "")), part{content: content})
		resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusOK)
	}
	resp, b := send(t, srv, "GET", "/xapi/statements?attachments=true&ascending=true", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	parts := readMultipart(t, resp, b)
	if got, want := len(parts), 1+len(contents); got != want {
		t.Fatalf("%d parts, want %d", got, want)
	}
	for i, c := range contents {
		if !bytes.Equal(parts[1+i].body, c) {
			t.Errorf("part %d: %d bytes, want attachment %d", 1+i, len(parts[1+i].body), i)
		}
	}
	if got := store.most.Load(); got != 1 {
		t.Errorf("%d attachments open at once, want 1", got)
	}
	if got := store.open.Load(); got != 0 {
		t.Errorf("%d attachments left open", got)
	}
}

// failingDefinitions is a store whose canonical activity definitions fail
// after the first ok look-ups.
type failingDefinitions struct {
	statements.Store
	ok atomic.Int32
}

func (s *failingDefinitions) ActivityDefinition(ctx context.Context, tenant, id string) ([]byte, error) {
	if s.ok.Add(-1) < 0 {
		return nil, statements.Internal(io.ErrUnexpectedEOF, "cannot read the definition")
	}
	return s.Store.ActivityDefinition(ctx, tenant, id)
}

// TestAPI_StatementsCutShort: a failure before the first statement is
// written is an error response; one after it breaks the response off, so
// the client never takes a page that lacks statements for a whole one.
func TestAPI_StatementsCutShort(t *testing.T) {
	var store *failingDefinitions
	srv := mustOpenServerWith(t, lrs.Config{}, func(s statements.Store) statements.Store {
		store = &failingDefinitions{Store: s}
		return store
	})
	postBig(t, srv, 3, 64<<10) // past the server's write buffer: the first statement is sent
	req := func() (*http.Response, error) {
		r, _ := http.NewRequest("GET", srv.URL+"/xapi/statements?format=canonical", nil)
		r.SetBasicAuth(testKey, testSecret)
		r.Header.Set("X-Experience-API-Version", "1.0.3")
		return http.DefaultClient.Do(r)
	}

	store.ok.Store(0)
	resp, err := req()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "requestId") {
		t.Errorf("failing at the first statement: %d %s, want a 500 error", resp.StatusCode, b)
	}

	store.ok.Store(1)
	resp, err = req()
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("failing at the second statement: status %d, a whole body; want the response broken off %d", resp.StatusCode, store.ok.Load())
	}
}

// TestAPI_PageWrites: a page that fits in the response buffer goes out
// with its Content-Length; a larger one goes out chunked, whole.
func TestAPI_PageWrites(t *testing.T) {
	srv := mustOpenServerWith(t, lrs.Config{}, nil)
	ids := postBig(t, srv, 3, 100)
	resp, b := send(t, srv, "GET", "/xapi/statements", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	if resp.ContentLength != int64(len(b)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a small page: Content-Length %d, Transfer-Encoding %v, body of %d bytes", resp.ContentLength, resp.TransferEncoding, len(b))
	}
	ids = append(ids, postBig(t, srv, 10, 8_000)...)
	resp, b = send(t, srv, "GET", "/xapi/statements", "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	var r statementResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Statements) != len(ids) || resp.ContentLength != -1 || len(b) < 80_000 {
		t.Errorf("a large page: %d statements of %d, Content-Length %d, body of %d bytes", len(r.Statements), len(ids), resp.ContentLength, len(b))
	}
}
