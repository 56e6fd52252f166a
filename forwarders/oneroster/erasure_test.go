package oneroster_test

import (
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

func erasureEntry(pos int64, ids ...string) statements.LogEntry {
	return statements.LogEntry{Tenant: "t1", Record: &statements.Record{Position: pos, Stored: time.Now()},
		Erasure: &statements.ErasureEntry{ID: "e1", Subject: "k", Erased: ids}}
}

// TestSink_Erasure: by default a learner's erasure leaves the results
// written from their statements; with RetractOnErasure it retracts them.
func TestSink_Erasure(t *testing.T) {
	t.Run("Keep", func(t *testing.T) {
		f := MustOpenFixture(t, nil)
		e := entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":70}}`, nil)
		f.send(t, e)
		f.deliver(t)
		f.send(t, erasureEntry(2, e.Record.ID))
		f.deliver(t)
		if h := f.book.History(li1); len(h) != 1 || h[0]["status"] != "active" {
			t.Errorf("history: %v, want the one active write", h)
		}
	})
	t.Run("Retract", func(t *testing.T) {
		f := MustOpenFixture(t, func(c *oneroster.TenantConfig) { c.RetractOnErasure = true })
		e := entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":70}}`, nil)
		f.send(t, e)
		f.deliver(t)
		f.send(t, erasureEntry(2, e.Record.ID, "0a1c0f4e-0000-4000-8000-000000000000"))
		f.deliver(t)
		h := f.book.History(li1)
		if len(h) != 2 || h[1]["status"] != "tobedeleted" {
			t.Fatalf("history: %v, want a tobedeleted last", h)
		}
	})
}
