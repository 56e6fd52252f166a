package lrs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// testLRS is an LRS handler called directly, without a network between,
// so that a test sees exactly what the LRS read of a body and what it held
// while reading it.
type testLRS struct {
	h      http.Handler
	key    string // a credential with the limits the test asked for
	secret string
	spool  string // the process's TMPDIR for the test, empty at its start
}

const limitedKey, limitedSecret = "limited-key", "limited-secret"

// mustOpenLRS opens an LRS on a fresh embedded store with a credential of
// limits, and points the temporary directory of the process at an empty
// directory of its own. wrap, when not nil, wraps the store.
func mustOpenLRS(t *testing.T, limits statements.Limits, wrap func(statements.Store) statements.Store) *testLRS {
	t.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	hash, err := lrs.HashSecret(limitedSecret)
	if err != nil {
		t.Fatal(err)
	}
	err = store.CreateCredential(ctx, statements.Credential{
		Key: limitedKey, Tenant: lrs.DefaultTenant, SecretHash: hash, Scopes: []string{"all"},
		Authority: lrs.Authority(limitedKey, "limited"), Created: time.Now(), Limits: limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)
	var s statements.Store = store
	if wrap != nil {
		s = wrap(store)
	}
	return &testLRS{h: withContract(t, lrs.New(lrs.Config{Store: s})), key: limitedKey, secret: limitedSecret, spool: spool}
}

// do sends a request with the limited credential; length < 0 sends the
// body without a Content-Length, as a chunked body is.
func (l *testLRS) do(ctx context.Context, method, path, contentType string, body io.Reader, length int64) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body).WithContext(ctx)
	req.ContentLength = length
	req.SetBasicAuth(l.key, l.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	l.h.ServeHTTP(rec, req)
	return rec
}

// openFDs counts the open file descriptors of the process.
func openFDs(tb testing.TB) int {
	tb.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skipf("cannot count open files without /proc/self/fd: %v", err)
	}
	return len(fds)
}

// tempBytes counts the bytes in files under dir, including files removed
// from it that the process still holds open.
func tempBytes(dir string) (n int64) {
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(target, dir+"/") || !strings.HasSuffix(target, " (deleted)") {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// watchedBody is a request body that counts the bytes read of it and,
// every 64 KiB read, records the open files of the process and the bytes
// in the temporary directory.
type watchedBody struct {
	r        io.Reader
	spool    string
	n        int64 // bytes read
	next     int64
	maxFDs   int
	maxTemp  int64
	failAt   int64 // > 0: fail with io.ErrUnexpectedEOF after this many bytes, as a client that goes away
	sampling bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.failAt > 0 && b.n >= b.failAt {
		return 0, io.ErrUnexpectedEOF
	}
	if b.failAt > 0 {
		p = p[:min(int64(len(p)), b.failAt-b.n)]
	}
	k, err := b.r.Read(p)
	b.n += int64(k)
	if b.n >= b.next || err != nil {
		b.sample()
		b.next = b.n + 64<<10
	}
	return k, err
}

func (b *watchedBody) sample() {
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		b.maxFDs = max(b.maxFDs, len(fds))
	}
	b.maxTemp = max(b.maxTemp, tempBytes(b.spool))
}

// fill is n bytes of c.
type fill struct {
	n int64
	c byte
}

func (f *fill) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), f.n))
	for i := range k {
		p[i] = f.c
	}
	f.n -= int64(k)
	return k, nil
}

func fillSHA256(n int64, c byte) string {
	h := sha256.New()
	io.Copy(h, &fill{n, c})
	return hex.EncodeToString(h.Sum(nil))
}

// genPart is an attachment part of a generated request: content, or size
// bytes of 'a' when content is nil.
type genPart struct {
	hash    string // X-Experience-API-Hash; "" = the content's
	content []byte
	size    int64
}

const genBoundary = "xapi-test-boundary"

const genContentType = "multipart/mixed; boundary=" + genBoundary

// genMultipart returns a multipart/mixed statements body that is made as
// it is read, and its length.
func genMultipart(stmts string, parts ...genPart) (io.Reader, int64) {
	var rs []io.Reader
	var n int64
	add := func(r io.Reader, size int64) { rs = append(rs, r); n += size }
	text := func(s string) { add(strings.NewReader(s), int64(len(s))) }
	text("--" + genBoundary + "\r\nContent-Type: application/json\r\n\r\n" + stmts)
	for _, p := range parts {
		hash := p.hash
		if hash == "" && p.content != nil {
			hash = sha256Hex(p.content)
		} else if hash == "" {
			hash = fillSHA256(p.size, 'a')
		}
		text("\r\n--" + genBoundary + "\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: " + hash + "\r\n\r\n")
		if p.content != nil {
			add(bytes.NewReader(p.content), int64(len(p.content)))
		} else {
			add(&fill{p.size, 'a'}, p.size)
		}
	}
	text("\r\n--" + genBoundary + "--\r\n")
	return io.MultiReader(rs...), n
}

// attOf returns an attachment object with sha2 and length.
func attOf(sha2 string, length int64) string {
	return fmt.Sprintf(`{"usageType":"http://example.fi/usage/essay","display":{"en-US":"Essay"},"contentType":"application/octet-stream","length":%d,"sha2":%q}`, length, sha2)
}

// wantAfter checks the status and message of a response.
func wantAfter(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if rec.Code != status || !strings.Contains(rec.Body.String(), msg) {
		t.Errorf("status %d, body %s; want %d with %q", rec.Code, rec.Body.String(), status, msg)
	}
}

// wantClean checks that nothing of the requests stays in the temporary
// directory, open or not, and that the open files are back to base.
func (l *testLRS) wantClean(t *testing.T, base int) {
	t.Helper()
	if n := tempBytes(l.spool); n != 0 {
		t.Errorf("%d bytes left in the temporary directory", n)
	}
	if ents, _ := os.ReadDir(l.spool); len(ents) != 0 {
		t.Errorf("%d files left in the temporary directory", len(ents))
	}
	if n := openFDs(t); n > base+5 {
		t.Errorf("%d files open after the requests, %d before", n, base)
	}
}

// TestMultipart_ManyParts: however many attachment parts a request has,
// the LRS holds a bounded number of files open for it; parts beyond what
// the statements declare, or beyond the fixed cap, are refused.
func TestMultipart_ManyParts(t *testing.T) {
	l := mustOpenLRS(t, statements.Limits{}, nil)
	ctx := context.Background()

	t.Run("25000 distinct parts", func(t *testing.T) {
		var atts []string
		var parts []genPart
		for i := range 25000 {
			c := []byte(fmt.Sprint(i))
			atts = append(atts, attOf(sha256Hex(c), int64(len(c))))
			parts = append(parts, genPart{content: c})
		}
		r, _ := genMultipart(stmtWith(newUUID(), atts...), parts...)
		base := openFDs(t)
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("25,000 distinct parts: %d after reading %d bytes; open files at most %d (%+d)", rec.Code, body.n, body.maxFDs, body.maxFDs-base)
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, "1000 attachment parts")
		if body.maxFDs > base+50 {
			t.Errorf("open files rose from %d to %d", base, body.maxFDs)
		}
		l.wantClean(t, base)
	})
	t.Run("25000 copies of one part", func(t *testing.T) {
		content := []byte("x")
		parts := make([]genPart, 25000)
		for i := range parts {
			parts[i] = genPart{content: content}
		}
		r, _ := genMultipart(stmtWith(newUUID(), attOf(sha256Hex(content), 1)), parts...)
		base := openFDs(t)
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("25,000 copies: %d after reading %d bytes; open files at most %d (%+d)", rec.Code, body.n, body.maxFDs, body.maxFDs-base)
		wantAfter(t, rec, http.StatusBadRequest, "1 attachment")
		if body.maxFDs > base+50 {
			t.Errorf("open files rose from %d to %d", base, body.maxFDs)
		}
		l.wantClean(t, base)
	})
	t.Run("OK", func(t *testing.T) {
		// 300 parts of 8 KiB: more than a request keeps in memory.
		var atts []string
		var parts []genPart
		for i := range 300 {
			c := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 4<<10)
			atts = append(atts, attOf(sha256Hex(c), int64(len(c))))
			parts = append(parts, genPart{content: c})
		}
		id := newUUID()
		r, _ := genMultipart(stmtWith(id, atts...), parts...)
		base := openFDs(t)
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("300 parts of 8 KiB: %d; open files at most %d (%+d), temp bytes at most %d", rec.Code, body.maxFDs, body.maxFDs-base, body.maxTemp)
		wantAfter(t, rec, http.StatusOK, id)
		if body.maxFDs > base+50 {
			t.Errorf("open files rose from %d to %d", base, body.maxFDs)
		}
		l.wantClean(t, base)

		rec = l.do(ctx, "GET", "/xapi/statements?attachments=true&statementId="+id, "", nil, 0)
		res := rec.Result()
		got := readMultipart(t, res, rec.Body.Bytes())
		if len(got) != 301 {
			t.Fatalf("%d parts back, want 301", len(got))
		}
		byHash := map[string][]byte{}
		for _, p := range got[1:] {
			byHash[p.header.Get("X-Experience-API-Hash")] = p.body
		}
		for i, p := range parts {
			if !bytes.Equal(byHash[sha256Hex(p.content)], p.content) {
				t.Fatalf("attachment %d did not round-trip", i)
			}
		}
	})
}

// TestMultipart_ValidatedBeforeSpooling: the statements part is read and
// validated before any attachment byte is read; a request refused for its
// statements, or for an attachment part they do not declare, reads hardly
// more than its statements and writes nothing to the temporary directory.
func TestMultipart_ValidatedBeforeSpooling(t *testing.T) {
	l := mustOpenLRS(t, statements.Limits{Batch: 2}, nil)
	ctx := context.Background()
	const huge = 100 << 20
	someHash := fillSHA256(huge, 'a')
	invalid := strings.Replace(stmtWith(newUUID(), attOf(someHash, huge)), `"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},`, "", 1)
	base := openFDs(t)
	for _, tc := range []struct {
		name, method, path string
		stmts              string
		hash               string
		wantStatus         int
		wantMsg            string
	}{
		{name: "invalid statement", method: "POST", path: "/xapi/statements", stmts: invalid,
			wantStatus: 400, wantMsg: "/verb"},
		{name: "invalid statement of a PUT", method: "PUT", path: "/xapi/statements?statementId=" + newUUID(), stmts: invalid,
			wantStatus: 400, wantMsg: "/verb"},
		{name: "part of no attachment", method: "POST", path: "/xapi/statements", stmts: stmtWith(newUUID()),
			wantStatus: 400, wantMsg: someHash},
		{name: "batch over the limit", method: "POST", path: "/xapi/statements",
			stmts:      "[" + stmtWith(newUUID(), attOf(someHash, huge)) + "," + stmtWith(newUUID()) + "," + stmtWith(newUUID()) + "]",
			wantStatus: 413, wantMsg: "limit of 2 statements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, size := genMultipart(tc.stmts, genPart{hash: someHash, size: huge})
			body := &watchedBody{r: r, spool: l.spool}
			rec := l.do(ctx, tc.method, tc.path, genContentType, body, -1)
			t.Logf("%s: %d after reading %d of %d bytes; temp bytes at most %d", tc.name, rec.Code, body.n, size, body.maxTemp)
			wantAfter(t, rec, tc.wantStatus, tc.wantMsg)
			if limit := int64(len(tc.stmts)) + 64<<10; body.n > limit {
				t.Errorf("read %d bytes of the body, want at most %d", body.n, limit)
			}
			if body.maxTemp > 0 {
				t.Errorf("wrote %d bytes to the temporary directory, want none", body.maxTemp)
			}
		})
	}
	l.wantClean(t, base)
}

// TestMultipart_BodyLimit: a multipart/mixed body, attachments and all,
// has the body limit of a JSON body (the credential's bodyBytes, or the
// server's 16 MiB); a Content-Length over it is refused before reading.
func TestMultipart_BodyLimit(t *testing.T) {
	ctx := context.Background()
	const limit = 16 << 20
	const size = 20 << 20 // an attachment larger than the limit
	stmts := stmtWith(newUUID(), attOf(fillSHA256(size, 'a'), size))

	t.Run("chunked", func(t *testing.T) {
		l := mustOpenLRS(t, statements.Limits{}, nil)
		base := openFDs(t)
		r, n := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("%d-byte multipart body without Content-Length: %d after reading %d bytes; temp bytes at most %d", n, rec.Code, body.n, body.maxTemp)
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, fmt.Sprint(limit))
		if body.n > limit+64<<10 {
			t.Errorf("read %d bytes, want at most the limit and a little", body.n)
		}
		l.wantClean(t, base)
	})
	t.Run("Content-Length", func(t *testing.T) {
		l := mustOpenLRS(t, statements.Limits{}, nil)
		r, n := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, n)
		t.Logf("%d-byte multipart body with Content-Length: %d after reading %d bytes", n, rec.Code, body.n)
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, fmt.Sprint(limit))
		if body.n != 0 {
			t.Errorf("read %d bytes, want none", body.n)
		}
	})
	t.Run("credential's limit", func(t *testing.T) {
		l := mustOpenLRS(t, statements.Limits{BodyBytes: 1 << 20}, nil)
		r, n := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("%d-byte multipart body, credential limit 1 MiB: %d after reading %d bytes", n, rec.Code, body.n)
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, fmt.Sprint(1<<20))
		if body.n > 1<<20+64<<10 {
			t.Errorf("read %d bytes, want at most the limit and a little", body.n)
		}
	})
}

// TestStatements_BodyLimitUnread: a body whose Content-Length is over the
// body limit is refused before any of it is read.
func TestStatements_BodyLimitUnread(t *testing.T) {
	const limit = 16 << 20
	l := mustOpenLRS(t, statements.Limits{}, nil)
	body := &watchedBody{r: &fill{limit + 1, ' '}, spool: l.spool}
	rec := l.do(context.Background(), "POST", "/xapi/statements", "application/json", body, limit+1)
	t.Logf("%d-byte JSON body with Content-Length: %d after reading %d bytes", limit+1, rec.Code, body.n)
	wantAfter(t, rec, http.StatusRequestEntityTooLarge, fmt.Sprint(limit))
	if body.n != 0 {
		t.Errorf("read %d bytes, want none", body.n)
	}
}

// TestStatements_BatchLimitBounded: a POST of more statements than the
// credential's batch limit is refused while its statements are read, not
// after all of them are parsed.
func TestStatements_BatchLimitBounded(t *testing.T) {
	l := mustOpenLRS(t, statements.Limits{Batch: 1000}, nil)
	ctx := context.Background()
	// Strings and nested arrays that look like array syntax do not count.
	tricky := `{"actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"a, [b], \"c\\\" {d}, ]"}},` +
		`"object":{"id":"http://example.fi/essay"},"context":{"contextActivities":{"parent":[{"id":"http://example.fi/a"},{"id":"http://example.fi/b"}]}}}`
	batch := func(n int) []byte {
		return []byte("[\n" + strings.TrimSuffix(strings.Repeat(tricky+" ,\n", n), " ,\n") + "\n]")
	}
	t.Run("JSON", func(t *testing.T) {
		all := batch(2000)
		body := &watchedBody{r: bytes.NewReader(all), spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", "application/json", body, -1)
		t.Logf("2000 statements, limit 1000: %d after reading %d of %d bytes", rec.Code, body.n, len(all))
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, "limit of 1000 statements")
		if max := int64(len(all))/2 + 64<<10; body.n > max {
			t.Errorf("read %d bytes, want at most %d", body.n, max)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		all := batch(2000)
		r, n := genMultipart(string(all))
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("2000 statements in a multipart body, limit 1000: %d after reading %d of %d bytes", rec.Code, body.n, n)
		wantAfter(t, rec, http.StatusRequestEntityTooLarge, "limit of 1000 statements")
		if max := n/2 + 64<<10; body.n > max {
			t.Errorf("read %d bytes, want at most %d", body.n, max)
		}
	})
	t.Run("OK", func(t *testing.T) {
		rec := l.do(ctx, "POST", "/xapi/statements", "application/json", bytes.NewReader(batch(1000)), -1)
		if rec.Code != http.StatusOK {
			t.Errorf("1000 statements, limit 1000: %d %s", rec.Code, rec.Body.String())
		}
	})
}

// panickyStore panics while it stores an attachment.
type panickyStore struct{ statements.Store }

func (panickyStore) PutAttachment(context.Context, string, string, io.Reader) error {
	panic("disk on fire")
}

// TestMultipart_TempFilesRemoved: whatever ends a request, a client that
// goes away or a panic, nothing of it stays in the temporary directory.
func TestMultipart_TempFilesRemoved(t *testing.T) {
	const size = 4 << 20
	stmts := stmtWith(newUUID(), attOf(fillSHA256(size, 'a'), size))
	l := mustOpenLRS(t, statements.Limits{}, func(s statements.Store) statements.Store { return panickyStore{s} })
	base := openFDs(t)

	t.Run("client gone", func(t *testing.T) {
		r, _ := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: r, spool: l.spool, failAt: 2 << 20}
		rec := l.do(context.Background(), "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("client gone after 2 MiB: %d; temp bytes at most %d", rec.Code, body.maxTemp)
		wantAfter(t, rec, http.StatusBadRequest, "multipart")
		l.wantClean(t, base)
	})
	t.Run("request cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r, _ := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: &cancelAfter{r: r, n: 2 << 20, cancel: cancel}, spool: l.spool}
		rec := l.do(ctx, "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("request cancelled after 2 MiB: %d", rec.Code)
		if rec.Code < 400 {
			t.Errorf("status %d, want an error", rec.Code)
		}
		l.wantClean(t, base)
	})
	t.Run("panic", func(t *testing.T) {
		r, _ := genMultipart(stmts, genPart{size: size})
		body := &watchedBody{r: r, spool: l.spool}
		rec := l.do(context.Background(), "POST", "/xapi/statements", genContentType, body, -1)
		t.Logf("panic while storing: %d; temp bytes at most %d", rec.Code, body.maxTemp)
		wantAfter(t, rec, http.StatusInternalServerError, "")
		l.wantClean(t, base)
	})
}

// cancelAfter cancels a request's context once n bytes of its body are
// read, and then fails as a body of a cancelled request does.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
		return 0, errors.New("request cancelled")
	}
	p = p[:min(int64(len(p)), c.n)]
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}
