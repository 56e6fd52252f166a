package sqlitestore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/digione/lrs/statements"
)

var _ statements.Sizer = (*Store)(nil)

// Size returns the bytes of the database file and its write-ahead log on
// disk; see statements.Sizer. Attachment files (in the attachments
// directory beside them) are not counted: adding them up would read a
// directory that grows with the store. Statements is -1: SQLite keeps no
// count of a table's rows, and counting them reads a whole index.
func (s *Store) Size(ctx context.Context) (statements.StoreSize, error) {
	dir, err := s.dataDir(ctx)
	if err != nil {
		return statements.StoreSize{}, err
	}
	size := statements.StoreSize{Statements: -1}
	for _, name := range []string{FileName, FileName + "-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return statements.StoreSize{}, statements.Internal(err, "cannot read the size of the store")
		}
		size.Bytes += fi.Size()
	}
	return size, nil
}
