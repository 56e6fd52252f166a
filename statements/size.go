package statements

import "context"

// StoreSize is how big a store is.
type StoreSize struct {
	// Bytes is the space the store takes: on disk for a database in
	// files (its write-ahead log included), data and indexes as the
	// database server reports them.
	Bytes int64
	// Statements is how many statements the store holds, as the database
	// keeps count (an estimate the database maintains is good enough);
	// -1 when the store cannot tell without reading them all.
	Statements int64
}

// Sizer reports the size of a store, for metrics. A store that has it
// asserts var _ statements.Sizer = (*Store)(nil) and passes storetest's
// TestStore_Size group.
type Sizer interface {
	// Size returns the size of the store now. It never reads every
	// statement: its cost does not grow with the store, so that it may
	// be called every half minute.
	Size(ctx context.Context) (StoreSize, error)
}
