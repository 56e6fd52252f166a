package statements

import (
	"context"
	"time"
)

// SinkItem is a value a forwarder keeps in the store between statements:
// its per-tenant configuration, mapping tables, and the state of what it
// delivers (a OneRoster result waiting, sent or refused, say). An item is
// named by Sink, Tenant and Key; its Value is the forwarder's own encoding.
type SinkItem struct {
	Sink   string // the forwarder, e.g. "oneroster"
	Tenant string
	Key    string // unique within Sink and Tenant; non-empty
	Value  []byte
	// State is the forwarder's word for where the item is ("pending",
	// "dead", ...); "" for items without one. Items are listed by State.
	State string
	// Due is when the item is next due for work, millisecond precision;
	// zero means never. Items are listed by Due.
	Due time.Time

	// Set by the store.
	Version int64     // 1 after the first write, one more after each
	Updated time.Time // when it was last written, millisecond precision
}

// SinkQuery selects sink items. Sink is required; every other field left
// zero selects any.
type SinkQuery struct {
	Sink      string
	Tenant    string
	KeyPrefix string    // only keys starting with it
	State     string    // only items in this state
	DueBy     time.Time // only items whose non-zero Due is at or before it
	// After continues a listing: only items whose (Tenant, Key) sorts after
	// (AfterTenant, AfterKey).
	AfterTenant, AfterKey string
	Limit                 int // at most this many; <= 0 or above MaxLimit means MaxLimit
}

// SinkStore keeps the forwarders' items. Every write is a compare-and-swap
// on Version, atomic across the processes sharing the store, so that two
// writers never lose each other's change.
//
// Every Store is one; storetest's TestStore_SinkItems group checks it.
type SinkStore interface {
	// SinkItem returns the item named by sink, tenant and key; ENotFound
	// if none. An item deleted and created again starts again at Version
	// 1.
	SinkItem(ctx context.Context, sink, tenant, key string) (*SinkItem, error)

	// PutSinkItem writes it when the stored item's version is it.Version
	// (0: there must be none); otherwise it returns EConflict and changes
	// nothing. On success it sets it.Version and it.Updated to the stored
	// ones. EInvalid when Sink or Key is empty. Due is kept to the
	// millisecond; a Due at the Unix epoch is "never".
	PutSinkItem(ctx context.Context, it *SinkItem) error

	// DeleteSinkItem deletes the item when its version is version (0: any
	// version); EConflict when it has another version. Deleting an item
	// that does not exist is no error, whatever version.
	DeleteSinkItem(ctx context.Context, sink, tenant, key string, version int64) error

	// SinkItems returns the items q selects, ordered by Tenant, then Key;
	// EInvalid when q.Sink is empty. It is no snapshot: an item written
	// meanwhile may be missing, or listed as it was.
	SinkItems(ctx context.Context, q SinkQuery) ([]SinkItem, error)
}
