package sqlitestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/digione/lrs/statements"
)

// Attachment content lives in files next to the database, not in it:
// dir/attachments/<hex SHA-256 of the tenant>/<sha2>. A file appears under
// its final name only once its content is complete and synced (written to
// a temporary file in the same directory, fsynced, renamed, the directory
// fsynced), so a file that exists is whole, across crashes and restarts.
// Large content thus never passes through SQLite's page cache or WAL, and
// the write lock of the statement log is never held while it is written.

// attachmentsSchema holds the tables of the attachments: none, the content
// is in files (see above).
var attachmentsSchema = []string{}

const attachmentsDir = "attachments"

// dataDir returns the directory of the database file.
func (s *Store) dataDir(ctx context.Context) (string, error) {
	st, err := s.read(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`)
	if err != nil {
		return "", err
	}
	var file string
	if err := st.QueryRowContext(ctx).Scan(&file); err != nil {
		return "", statements.Internal(err, "cannot locate the store directory")
	}
	if file == "" {
		return "", statements.Internal(errors.New("the database has no file"), "cannot locate the store directory")
	}
	return filepath.Dir(file), nil
}

// attachmentPath returns the file of the content of sha2 for tenant.
func (s *Store) attachmentPath(ctx context.Context, tenant, sha2 string) (string, error) {
	if statements.NewSHA2(sha2) == nil {
		return "", statements.Errorf(statements.EInvalid, "sha2: %q is not a lower-case hex SHA-2 hash", sha2)
	}
	dir, err := s.dataDir(ctx)
	if err != nil {
		return "", err
	}
	t := sha256.Sum256([]byte(tenant))
	return filepath.Join(dir, attachmentsDir, hex.EncodeToString(t[:]), sha2), nil
}

// PutAttachment stores content in its file unless the file exists. It
// checks the content against sha2 while writing, and fails with EInvalid
// (storing nothing) when they differ.
func (s *Store) PutAttachment(ctx context.Context, tenant, sha2 string, content io.Reader) error {
	path, err := s.attachmentPath(ctx, tenant, sha2)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		if _, err := io.Copy(io.Discard, content); err != nil {
			return statements.Internal(err, "cannot read the attachment")
		}
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return statements.Internal(err, "cannot store the attachment")
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+sha2+"-*")
	if err != nil {
		return statements.Internal(err, "cannot store the attachment")
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	h := statements.NewSHA2(sha2)
	_, err = io.Copy(io.MultiWriter(tmp, h), &ctxReader{ctx, content})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return statements.Internal(err, "the request ended before the attachment was stored")
		}
		return statements.Internal(err, "cannot store the attachment")
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha2 {
		return statements.Errorf(statements.EInvalid, "attachment content has SHA-2 %s, not %s", got, sha2)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return statements.Internal(err, "cannot store the attachment")
	}
	if err := syncDir(dir); err != nil {
		return statements.Internal(err, "cannot store the attachment")
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Attachment opens the file of sha2.
func (s *Store) Attachment(ctx context.Context, tenant, sha2 string) (io.ReadCloser, int64, error) {
	path, err := s.attachmentPath(ctx, tenant, sha2)
	if statements.ErrorCode(err) == statements.EInvalid {
		return nil, 0, statements.Errorf(statements.ENotFound, "no attachment with SHA-2 %s", sha2)
	}
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, statements.Errorf(statements.ENotFound, "no attachment with SHA-2 %s", sha2)
	}
	if err != nil {
		return nil, 0, statements.Internal(err, "cannot read the attachment")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, statements.Internal(err, "cannot read the attachment")
	}
	return f, fi.Size(), nil
}
