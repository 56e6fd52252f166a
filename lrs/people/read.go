package people

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/digione/lrs/statements"
)

// Agents finds the statements of a roster user: the agents (their keys,
// statements.Actor.Key) under which learning apps report them. By the
// identity rule of the gradebook write-back that is the account of the
// tenant's identity home page named by the user's sourcedId, and the
// accounts the tenant's student table maps to the user.
type Agents interface {
	Agents(ctx context.Context, tenant, sourcedID string) ([]string, error)
}

// Query selects a learner's statements.
type Query struct {
	Verb     string
	Activity string
	Since    time.Time // stored after it; zero: no bound
	Until    time.Time // stored at or before it; zero: no bound
	Limit    int       // 0: statements.MaxLimit
	// Before continues a listing: only statements stored before this
	// position (the last one of the previous page). 0: from the newest.
	Before int64
}

// Reader reads the statements of learners, newest first.
type Reader struct {
	Store  statements.Store
	Agents Agents
}

// Page is a page of a learner's statements; Next continues it (Query's
// Before) when More.
type Page struct {
	Records []*statements.Record
	More    bool
	Next    int64
}

// Statements returns a page of the statements of the roster user
// sourcedID of tenant that q selects, voided ones left out. The caller
// has asked the rule.
func (r *Reader) Statements(ctx context.Context, tenant, sourcedID string, q Query) (*Page, error) {
	keys, err := r.Agents.Agents(ctx, tenant, sourcedID)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 || limit > statements.MaxLimit {
		limit = statements.MaxLimit
	}
	// Each key's page is newest first and complete down to its last
	// record; below the highest such record among the pages that have
	// more (the cut), some key's statements are not read yet.
	var all []*statements.Record
	cut := int64(0)
	for _, k := range keys {
		p, err := r.Store.QueryStatements(ctx, tenant, statements.Filter{
			Agent: k, Verb: q.Verb, Activity: q.Activity,
			Since: q.Since, Until: q.Until,
			Limit: limit, After: q.Before,
		})
		if err != nil {
			return nil, err
		}
		if n := len(p.Records); n > 0 && p.More {
			cut = max(cut, p.Records[n-1].Position)
		}
		for _, rec := range p.Records {
			// The agent filter also matches the statements whose object
			// is the learner; the rule reads only those they made.
			if slices.Contains(keys, ActorKey(rec.Statement)) {
				all = append(all, rec)
			}
		}
	}
	slices.SortFunc(all, func(a, b *statements.Record) int { return cmp.Compare(b.Position, a.Position) })
	all = slices.CompactFunc(all, func(a, b *statements.Record) bool { return a.Position == b.Position })
	if cut > 0 {
		for len(all) > 0 && all[len(all)-1].Position < cut {
			all = all[:len(all)-1]
		}
	}
	p := &Page{Records: all}
	switch {
	case len(all) > limit:
		p.Records, p.More = all[:limit], true
		p.Next = all[limit-1].Position
	case cut > 0:
		p.More, p.Next = true, cut
	}
	return p, nil
}

// ActorKey returns the key (statements.Actor.Key) of a statement's actor;
// "" when it has none or is no JSON.
func ActorKey(statement []byte) string {
	var s struct {
		Actor statements.Actor `json:"actor"`
	}
	if json.Unmarshal(statement, &s) != nil {
		return ""
	}
	return s.Actor.Key()
}
