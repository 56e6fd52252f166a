package sqlitestore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestStore_AttachmentReopen checks that attachments and activity
// definitions survive a restart, and that a put leaves no temporary file.
func TestStore_AttachmentReopen(t *testing.T) {
	dir := t.TempDir()
	content := []byte("kept across restarts")
	h := sha256.Sum256(content)
	sum := hex.EncodeToString(h[:])
	s, err := sqlitestore.New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAttachment(t.Context(), "t", sum, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := s.MergeActivityDefinition(t.Context(), "t", "https://example.org/a", []byte(`{"name":{"en":"A"}}`), true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenStore(t, dir)
	rc, n, err := s.Attachment(t.Context(), "t", sum)
	if err != nil {
		t.Fatalf("Attachment after reopen: %v", err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, content) || n != int64(len(content)) {
		t.Errorf("Attachment after reopen: %q (%d), want %q", got, n, content)
	}
	def, err := s.ActivityDefinition(t.Context(), "t", "https://example.org/a")
	if err != nil || !strings.Contains(string(def), `"A"`) {
		t.Errorf("ActivityDefinition after reopen: %s, %v", def, err)
	}
	filepath.WalkDir(filepath.Join(dir, "attachments"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestStore_PutAttachmentWrongHash checks that content that does not
// match its sha2 is refused and not stored.
func TestStore_PutAttachmentWrongHash(t *testing.T) {
	s := MustOpenStore(t, t.TempDir())
	h := sha256.Sum256([]byte("the real content"))
	sum := hex.EncodeToString(h[:])
	err := s.PutAttachment(t.Context(), "t", sum, strings.NewReader("other content"))
	if got := statements.ErrorCode(err); got != statements.EInvalid {
		t.Fatalf("PutAttachment with wrong content: %v, want %s", err, statements.EInvalid)
	}
	if _, _, err := s.Attachment(t.Context(), "t", sum); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("Attachment after refused put: %v, want not found", err)
	}
	if err := s.PutAttachment(t.Context(), "t", "../../etc/passwd", strings.NewReader("x")); statements.ErrorCode(err) != statements.EInvalid {
		t.Errorf("PutAttachment with a path as sha2: %v, want %s", err, statements.EInvalid)
	}
}
