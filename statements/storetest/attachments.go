package storetest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"runtime"
	"testing"

	"github.com/digione/lrs/statements"
)

var attachmentTests = []test{
	{"RoundTrip", testAttachmentRoundTrip},
	{"SHA2Lengths", testAttachmentSHA2Lengths},
	{"Idempotent", testAttachmentIdempotent},
	{"ErrNotFound", testAttachmentNotFound},
	{"TenantIsolation", testAttachmentTenantIsolation},
	{"Empty", testAttachmentEmpty},
	{"LargeStreamed", testAttachmentLargeStreamed},
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func mustPutAttachment(t testing.TB, s statements.Store, tenant string, content []byte) string {
	t.Helper()
	sum := sha256Hex(content)
	if err := s.PutAttachment(t.Context(), tenant, sum, bytes.NewReader(content)); err != nil {
		t.Fatalf("PutAttachment: %v", err)
	}
	return sum
}

// readAttachment returns the content stored under sha2.
func readAttachment(t testing.TB, s statements.Store, tenant, sha2 string) []byte {
	t.Helper()
	rc, n, err := s.Attachment(t.Context(), tenant, sha2)
	if err != nil {
		t.Fatalf("Attachment(%s): %v", sha2, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading attachment: %v", err)
	}
	if got, want := n, int64(len(b)); got != want {
		t.Errorf("Attachment length: got %d, want %d (the bytes read)", got, want)
	}
	return b
}

func testAttachmentRoundTrip(t *testing.T, s statements.Store) {
	content := []byte("here is a simple attachment\x00\xff\r\n binary too")
	sum := mustPutAttachment(t, s, tenantA, content)
	if got := readAttachment(t, s, tenantA, sum); !bytes.Equal(got, content) {
		t.Errorf("content: got %q, want %q", got, content)
	}
	other := []byte("another attachment")
	sum2 := mustPutAttachment(t, s, tenantA, other)
	if got := readAttachment(t, s, tenantA, sum2); !bytes.Equal(got, other) {
		t.Errorf("second content: got %q, want %q", got, other)
	}
	if got := readAttachment(t, s, tenantA, sum); !bytes.Equal(got, content) {
		t.Errorf("first content after second put: got %q, want %q", got, content)
	}
}

func testAttachmentSHA2Lengths(t *testing.T, s statements.Store) {
	content := []byte("hashed four ways")
	s224 := sha256.Sum224(content)
	s384 := sha512.Sum384(content)
	s512 := sha512.Sum512(content)
	for _, sum := range []string{hex.EncodeToString(s224[:]), sha256Hex(content),
		hex.EncodeToString(s384[:]), hex.EncodeToString(s512[:])} {
		if err := s.PutAttachment(t.Context(), tenantA, sum, bytes.NewReader(content)); err != nil {
			t.Fatalf("PutAttachment(%d hex digits): %v", len(sum), err)
		}
		if got := readAttachment(t, s, tenantA, sum); !bytes.Equal(got, content) {
			t.Errorf("content under %d hex digits: got %q", len(sum), got)
		}
	}
}

func testAttachmentIdempotent(t *testing.T, s statements.Store) {
	content := []byte("stored once")
	sum := mustPutAttachment(t, s, tenantA, content)
	r := bytes.NewReader(content)
	if err := s.PutAttachment(t.Context(), tenantA, sum, r); err != nil {
		t.Fatalf("second PutAttachment: %v", err)
	}
	if r.Len() != 0 {
		t.Errorf("second PutAttachment left %d bytes unread, want it read to the end", r.Len())
	}
	if got := readAttachment(t, s, tenantA, sum); !bytes.Equal(got, content) {
		t.Errorf("content: got %q, want %q", got, content)
	}
}

func testAttachmentNotFound(t *testing.T, s statements.Store) {
	_, _, err := s.Attachment(t.Context(), tenantA, sha256Hex([]byte("never stored")))
	wantCode(t, err, statements.ENotFound)
}

func testAttachmentTenantIsolation(t *testing.T, s statements.Store) {
	content := []byte("tenant A's certificate")
	sum := mustPutAttachment(t, s, tenantA, content)
	_, _, err := s.Attachment(t.Context(), tenantB, sum)
	wantCode(t, err, statements.ENotFound)
	mustPutAttachment(t, s, tenantB, content)
	if got := readAttachment(t, s, tenantB, sum); !bytes.Equal(got, content) {
		t.Errorf("tenant B content: got %q", got)
	}
}

func testAttachmentEmpty(t *testing.T, s statements.Store) {
	sum := mustPutAttachment(t, s, tenantA, nil)
	if got := readAttachment(t, s, tenantA, sum); len(got) != 0 {
		t.Errorf("content: got %d bytes, want none", len(got))
	}
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ n, off int64 }

const pattern = "0123456789abcdefghijklmnopqrstuvwxyz-the-attachment-content\n"

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(b) && p.off < p.n {
		b[k] = pattern[p.off%int64(len(pattern))]
		k++
		p.off++
	}
	return k, nil
}

func testAttachmentLargeStreamed(t *testing.T, s statements.Store) {
	const size = 48 << 20
	h := sha256.New()
	if _, err := io.Copy(h, &patternReader{n: size}); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := s.PutAttachment(t.Context(), tenantA, sum, &patternReader{n: size}); err != nil {
		t.Fatalf("PutAttachment: %v", err)
	}
	rc, n, err := s.Attachment(t.Context(), tenantA, sum)
	if err != nil {
		t.Fatalf("Attachment: %v", err)
	}
	defer rc.Close()
	if n != size {
		t.Errorf("length: got %d, want %d", n, size)
	}
	h.Reset()
	got, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	runtime.ReadMemStats(&after)
	if got != size || hex.EncodeToString(h.Sum(nil)) != sum {
		t.Errorf("read %d bytes with another hash, want %d bytes of %s", got, size, sum)
	}
	// Streaming allocates buffers, not the content.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("put and get of %d MiB allocated %d MiB: the content is held in memory", size>>20, alloc>>20)
	}
}
