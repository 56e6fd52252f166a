package sqlitestore

import (
	"database/sql"
	"math/bits"
	"strings"
)

// maxRows is the most rows (or list items) one batched statement takes.
const maxRows = 256

// batched is an SQL statement over a list of rows: head, then row
// repeated once per row and joined by ", ", then tail. It is prepared
// for every power of two of rows up to maxRows, so a list of any length
// runs as a few statements, each costing about what one row did alone.
type batched struct {
	sizes []string // the statement of 1<<i rows
}

func newBatched(head, row, tail string) *batched {
	b := &batched{}
	for n := 1; n <= maxRows; n *= 2 {
		var s strings.Builder
		s.WriteString(head)
		for i := range n {
			if i > 0 {
				s.WriteString(", ")
			}
			s.WriteString(row)
		}
		s.WriteString(tail)
		b.sizes = append(b.sizes, s.String())
	}
	return b
}

// next returns the statement for the next chunk of n rows to go, and the
// number of rows it takes: the largest power of two up to n and maxRows.
func (b *batched) next(n int) (string, int) {
	i := min(bits.Len(uint(n))-1, len(b.sizes)-1)
	return b.sizes[i], 1 << i
}

// execBatched runs b over n rows; args appends the arguments of row i
// to dst.
func (w *writeTx) execBatched(b *batched, head []any, n int, args func(dst []any, i int) []any) error {
	var a []any
	for i := 0; i < n; {
		q, k := b.next(n - i)
		a = append(a[:0], head...)
		for j := i; j < i+k; j++ {
			a = args(a, j)
		}
		if err := w.exec(q, a...); err != nil {
			return err
		}
		i += k
	}
	return nil
}

// queryBatched runs b over n rows and calls scan for each row of the
// results.
func (w *writeTx) queryBatched(b *batched, head []any, n int, args func(dst []any, i int) []any, scan func(*sql.Rows) error) error {
	var a []any
	for i := 0; i < n; {
		q, k := b.next(n - i)
		a = append(a[:0], head...)
		for j := i; j < i+k; j++ {
			a = args(a, j)
		}
		if err := w.query(q, a, scan); err != nil {
			return err
		}
		i += k
	}
	return nil
}
