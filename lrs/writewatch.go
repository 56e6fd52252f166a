package lrs

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/digione/lrs/statements"
)

// writeWatch is the store as the server uses it: it remembers whether the
// latest write failed because the store cannot write (EUnavailable: a
// full or failing disk, a database out of reach), so that /readyz says so
// until a write succeeds again.
type writeWatch struct {
	statements.Store
	now func() time.Time
	// stored, if set, is called after statements are stored.
	stored func()

	mu     sync.Mutex
	reason string    // of the latest failed write; "" after a success
	since  time.Time // when writes began to fail
}

// note records the outcome of a write and returns err.
func (w *writeWatch) note(err error) error {
	code := statements.ErrorCode(err)
	if err != nil && code != statements.EUnavailable {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.reason = ""
		return nil
	}
	if w.reason == "" {
		w.since = w.now()
	}
	de, _ := asDomainError(err)
	w.reason = de.Message
	return err
}

// failing returns why the store cannot write and since when; "" when its
// latest write succeeded.
func (w *writeWatch) failing() (string, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason, w.since
}

func (w *writeWatch) InsertStatements(ctx context.Context, tenant string, recs []*statements.Record) error {
	err := w.note(w.Store.InsertStatements(ctx, tenant, recs))
	if err == nil && w.stored != nil {
		w.stored()
	}
	return err
}

func (w *writeWatch) PutDocument(ctx context.Context, tenant string, doc *statements.Document, cond statements.Condition) error {
	return w.note(w.Store.PutDocument(ctx, tenant, doc, cond))
}

func (w *writeWatch) PutAttachment(ctx context.Context, tenant, sha2 string, content io.Reader) error {
	return w.note(w.Store.PutAttachment(ctx, tenant, sha2, content))
}

func (w *writeWatch) MergeActivityDefinition(ctx context.Context, tenant, id string, definition []byte, authoritative bool) error {
	return w.note(w.Store.MergeActivityDefinition(ctx, tenant, id, definition, authoritative))
}
