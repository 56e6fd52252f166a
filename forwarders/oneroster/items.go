package oneroster

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/digione/lrs/statements"
)

// The sink's items in the store (statements.SinkStore), per tenant:
//
//	config             TenantConfig
//	student/{account}  the OneRoster user sourcedId of an identity account
//	activity/{id}      the Target of an activity's results
//	result/{sourcedId} resultState: the statements of one result and its delivery
//	statement/{id}     the key of the result a statement counts for, to retract it when voided
const (
	keyConfig        = "config"
	prefixStudent    = "student/"
	prefixActivity   = "activity/"
	prefixResult     = "result/"
	prefixStatement  = "statement/"
	defaultSinkName  = "oneroster"
	maxCandidates    = 16
	maxResponseKept  = 4 << 10
	unconfiguredWait = time.Minute
)

// States of a result item.
const (
	// StatePending: the result must be written (or retracted); it is due
	// at the item's Due time.
	StatePending = "pending"
	// StateSent: the gradebook has the result of the newest statement.
	StateSent = "sent"
	// StateDead: the gradebook refused the result for good (400, 404,
	// 422); the item keeps the answer until an operator replays it, or a
	// newer statement replaces it.
	StateDead = "dead"
)

// candidate is one statement that counts for a result.
type candidate struct {
	Statement string    `json:"statement"`
	When      time.Time `json:"when"` // the statement's timestamp: newer wins
	Position  int64     `json:"position"`
	Result    Result    `json:"result"`
}

// resultState is the value of a result item.
type resultState struct {
	// Candidates are the statements of the result not voided, newest
	// first: the first is the one to write.
	Candidates []candidate `json:"candidates"`
	// Written is the result as the gradebook last accepted it; nil when
	// never written.
	Written *Result `json:"written,omitempty"`
	// Attempts counts failed deliveries since the last success or change.
	Attempts int `json:"attempts,omitempty"`
	// LastStatus and LastError are the last failed delivery's HTTP status
	// (0 for no answer) and answer or error.
	LastStatus int    `json:"lastStatus,omitempty"`
	LastError  string `json:"lastError,omitempty"`
}

// newer reports whether a is to win over b.
func newer(a, b candidate) bool {
	if c := a.When.Compare(b.When); c != 0 {
		return c > 0
	}
	return a.Position > b.Position
}

// add adds c unless it is there already; it reports whether it did, and
// whether c is now the first candidate.
func (st *resultState) add(c candidate) (added, first bool) {
	if slices.ContainsFunc(st.Candidates, func(o candidate) bool { return o.Statement == c.Statement }) {
		return false, false
	}
	st.Candidates = append(st.Candidates, c)
	slices.SortStableFunc(st.Candidates, func(a, b candidate) int {
		switch {
		case newer(a, b):
			return -1
		case newer(b, a):
			return 1
		}
		return 0
	})
	if len(st.Candidates) > maxCandidates {
		st.Candidates = st.Candidates[:maxCandidates]
	}
	return slices.ContainsFunc(st.Candidates, func(o candidate) bool { return o.Statement == c.Statement }),
		st.Candidates[0].Statement == c.Statement
}

// remove removes the candidate of statement id; it reports whether it was
// the first.
func (st *resultState) remove(id string) (removed, first bool) {
	i := slices.IndexFunc(st.Candidates, func(o candidate) bool { return o.Statement == id })
	if i < 0 {
		return false, false
	}
	st.Candidates = slices.Delete(st.Candidates, i, i+1)
	return true, i == 0
}

// next returns what delivering the item writes: the first candidate's
// result, the written result marked tobedeleted when every candidate was
// voided, or nil when there is nothing to write.
func (st *resultState) next() *Result {
	if len(st.Candidates) > 0 {
		r := st.Candidates[0].Result
		return &r
	}
	if st.Written != nil && st.Written.Status != StatusToBeDeleted {
		r := *st.Written
		r.Status = StatusToBeDeleted
		return &r
	}
	return nil
}

func decodeState(it *statements.SinkItem) (*resultState, error) {
	st := &resultState{}
	if it == nil || len(it.Value) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(it.Value, st); err != nil {
		return nil, statements.Internal(err, "unreadable OneRoster result item "+it.Key)
	}
	return st, nil
}

// update applies change to the item at key, read-modify-write, retried
// when another writer wrote it in between. change gets nil for an absent
// item and returns the item to write, or nil to write nothing; del true
// deletes the item instead.
func update(ctx context.Context, store statements.SinkStore, sink, tenant, key string,
	change func(it *statements.SinkItem) (next *statements.SinkItem, del bool, err error)) error {
	for attempt := 0; ; attempt++ {
		it, err := store.SinkItem(ctx, sink, tenant, key)
		if statements.ErrorCode(err) == statements.ENotFound {
			it, err = nil, nil
		}
		if err != nil {
			return err
		}
		next, del, err := change(it)
		if err != nil || (next == nil && !del) {
			return err
		}
		if del {
			if it == nil {
				return nil
			}
			err = store.DeleteSinkItem(ctx, sink, tenant, key, it.Version)
		} else {
			next.Sink, next.Tenant, next.Key = sink, tenant, key
			next.Version = 0
			if it != nil {
				next.Version = it.Version
			}
			err = store.PutSinkItem(ctx, next)
		}
		if statements.ErrorCode(err) != statements.EConflict || attempt >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(1+attempt) * time.Millisecond):
		}
	}
}

// encode returns st as an item value.
func (st *resultState) encode() []byte {
	b, _ := json.Marshal(st) // plain data: cannot fail
	return b
}

// truncate keeps at most n bytes of s.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
