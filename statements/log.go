package statements

import (
	"context"
	"time"
)

// LogEntry is one stored statement in the store's log, with its tenant,
// or a step of an erasure (Erasure is set; Record then has only Position
// and Stored, the time of the step).
type LogEntry struct {
	Tenant  string
	Record  *Record
	Erasure *ErasureEntry
}

// Log is the store's ordered, durable log of stored statements, the outbox
// of the forwarders (DESIGN.md decision 2), with a cursor per sink and
// leases that let one of several LRS processes drive a sink.
//
// It is separate from Store until every store implements it; a store that
// does asserts var _ statements.Log = (*Store)(nil) and passes storetest's
// TestStore_Log group.
type Log interface {
	// ReadLog returns, in position order across tenants, up to limit
	// statements and erasure entries with Position > after (their records carry Stored and
	// Position). It never returns a position above the store's visibility
	// watermark: no statement with a position at or below the last one
	// returned commits later, so a reader that continues after the last
	// position it got never skips a statement. limit <= 0 means MaxLimit.
	ReadLog(ctx context.Context, after int64, limit int) ([]LogEntry, error)

	// LogHead returns the highest position ReadLog can return now; 0 when
	// the log is empty.
	LogHead(ctx context.Context) (int64, error)

	// Cursor returns the position through which sink has acknowledged the
	// log; 0 when it has none.
	Cursor(ctx context.Context, sink string) (int64, error)

	// SetCursor moves the cursor of sink to pos when pos is above it; a
	// cursor never moves back (a lower pos is no error and no change).
	SetCursor(ctx context.Context, sink string, pos int64) error

	// AcquireLease takes the lease name for holder until now + ttl, or
	// renews it when holder has it. It returns false, and changes nothing,
	// while another holder's lease has not expired. Atomic across the
	// processes sharing the store.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)

	// ReleaseLease ends the lease name when holder has it; otherwise it
	// does nothing.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// LeaseCounter counts the live leases of a family, such as the LRS
// processes sharing a store, each holding a lease "replica/<its id>" that
// it renews (see AcquireLease).
//
// It is apart from Log so that a store, or a wrapper of one, without it
// still is a Log; a store that has it asserts
// var _ statements.LeaseCounter = (*Store)(nil) and passes storetest's
// TestStore_CountLeases group.
type LeaseCounter interface {
	// CountLeases returns how many leases whose name starts with prefix
	// are held now: taken or renewed by AcquireLease with a ttl that has
	// not passed, and not released. It reads what the processes sharing
	// the store wrote (a lease taken by one is counted by all), is cheap
	// for the few leases of a family (it does not read the statements),
	// and may forget leases of the prefix that expired more than an hour
	// ago. An empty prefix counts every lease.
	CountLeases(ctx context.Context, prefix string) (int, error)
}

// LogSkimmer is a Log that lists its entries without reading their
// statements, and reads the entries of chosen tenants only: a reader with
// nothing to do for most tenants (a gradebook sink when few tenants have a
// gradebook) passes their entries unread.
//
// It is apart from Log so that a store, or a wrapper of one, without it
// still is a Log; a reader falls back to ReadLog.
type LogSkimmer interface {
	// SkimLog returns the entries that ReadLog(ctx, after, limit) returns,
	// in the same order and under the same watermark. A statement's entry
	// holds its Tenant and a Record with only Position and Stored set; an
	// erasure entry is whole.
	SkimLog(ctx context.Context, after int64, limit int) ([]LogEntry, error)

	// ReadLogOf returns, whole and in position order, the entries with
	// after < Position <= through whose tenant is one of tenants. through
	// must be at most a position that ReadLog or SkimLog returned, so
	// that the range holds no gap that a later commit could fill. A
	// statement deleted since (by an erasure) is missing; its erasure
	// entry comes later in the log.
	ReadLogOf(ctx context.Context, after, through int64, tenants []string) ([]LogEntry, error)
}
