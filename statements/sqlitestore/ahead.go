package sqlitestore

import (
	"database/sql"
	"maps"
	"strings"

	"github.com/digione/lrs/statements"
)

// batch is one request's records, made ready for the writer in the
// caller's goroutine: the writer is the part that cannot run in parallel.
// Slices are indexed like recs; only the first record of an id has ids,
// voids, refs and blobs.
type batch struct {
	recs  []*statements.Record
	alias []int    // index of the first record with the same id
	ids   []string // lower case
	voids []string // the voided id, lower case, or ""
	refs  []string // the referred-to id, lower case, or ""
	blobs [][]byte // the statement column
	// counts holds the postings each term gets if every first record of
	// an id is new: the common case, counted before the write lock.
	counts map[string]int
}

func newBatch(recs []*statements.Record, alias []int) *batch {
	n := len(recs)
	b := &batch{recs: recs, alias: alias, ids: make([]string, n), voids: make([]string, n),
		refs: make([]string, n), blobs: make([][]byte, n), counts: map[string]int{}}
	for i, r := range recs {
		if alias[i] != i {
			continue
		}
		b.ids[i] = strings.ToLower(r.ID)
		b.voids[i] = strings.ToLower(r.Voids)
		b.refs[i] = strings.ToLower(r.RefTarget)
		b.blobs[i] = encodeStatement(r.Statement)
		for _, t := range r.Terms {
			b.counts[t]++
		}
	}
	return b
}

// stmt is what the writer needs to know of a stored statement.
type stmt struct {
	result
	fp      string
	voiding bool   // it voids a statement
	terms   []byte // the terms column
}

// known is what the writer knows of the stored statements of one tenant
// that a group's batches name: read ahead for the whole group, then
// changed by what its requests write.
type known struct {
	stmts    map[string]stmt // by id; an id named but missing is not stored
	voided   map[string]bool // ids that a stored voiding statement voids
	referred map[string]bool // ids that a stored statement refers to
}

func newKnown() *known {
	return &known{stmts: map[string]stmt{}, voided: map[string]bool{}, referred: map[string]bool{}}
}

// merge adds o, the changes of a request that succeeded, to k.
func (k *known) merge(o *known) {
	maps.Copy(k.stmts, o.stmts)
	maps.Copy(k.voided, o.voided)
	maps.Copy(k.referred, o.referred)
}

// view is what one request sees of the stored statements: what the group
// knows, under what the request itself has written so far (own), which
// the group learns only if the request succeeds.
type view struct{ group, own *known }

func (v view) statement(id string) (stmt, bool) {
	if st, ok := v.own.stmts[id]; ok {
		return st, true
	}
	st, ok := v.group.stmts[id]
	return st, ok
}

func (v view) isVoided(id string) bool   { return v.own.voided[id] || v.group.voided[id] }
func (v view) isReferred(id string) bool { return v.own.referred[id] || v.group.referred[id] }

// void notes that a voiding statement of target is stored.
func (v view) void(target string) {
	v.own.voided[target] = true
	if st, ok := v.statement(target); ok {
		st.voided = true
		v.own.stmts[target] = st
	}
}

// setTerms notes the new terms column of a stored statement.
func (v view) setTerms(id string, terms []byte) {
	if st, ok := v.statement(id); ok {
		st.terms = terms
		v.own.stmts[id] = st
	}
}

// readAhead reads what the group's batches need to know of the stored
// statements and of the term dictionary: one query of each kind for the
// whole group (per tenant) rather than for each request. It returns the
// statements known of each tenant, and notes the ids of the terms the
// batches use in w.groupTerms (and those not cached in learned).
func (w *writeTx) readAhead(group []*writeRequest, learned map[termKey]int64) (map[string]*known, error) {
	var tenants []string
	byTenant := map[string][]*batch{}
	for _, r := range group {
		if r.batch == nil {
			continue
		}
		if _, ok := byTenant[r.tenant]; !ok {
			tenants = append(tenants, r.tenant)
		}
		byTenant[r.tenant] = append(byTenant[r.tenant], r.batch)
	}
	ahead := make(map[string]*known, len(tenants))
	for _, tenant := range tenants {
		w.tenant = tenant
		k := newKnown()
		ahead[tenant] = k

		// The statements named: first the batches' ids, then the targets.
		var all []string
		named := map[string]bool{}
		name := func(list []string) {
			for _, id := range list {
				if id != "" && !named[id] {
					named[id] = true
					all = append(all, id)
				}
			}
		}
		for _, b := range byTenant[tenant] {
			name(b.ids)
		}
		nids := len(all)
		for _, b := range byTenant[tenant] {
			name(b.voids)
			name(b.refs)
		}
		err := w.queryBatched(bStatementsAmong, []any{tenant}, len(all), func(a []any, i int) []any { return append(a, all[i]) },
			func(rows *sql.Rows) error {
				var id string
				var st stmt
				if err := rows.Scan(&id, &st.pos, &st.stored, fingerprintDest{&st.fp}, &st.voided, &st.voiding, &st.terms); err != nil {
					return err
				}
				k.stmts[id] = st
				return nil
			})
		if err != nil {
			return nil, mapErr(err, "cannot store statements")
		}

		// Whether a statement stored voids or refers to the ids not stored.
		var absent []string
		for _, id := range all[:nids] {
			if _, ok := k.stmts[id]; !ok {
				absent = append(absent, id)
			}
		}
		if k.voided, err = w.among(bVoidedAmong, absent); err != nil {
			return nil, mapErr(err, "cannot store statements")
		}
		if k.referred, err = w.among(bReferredAmong, absent); err != nil {
			return nil, mapErr(err, "cannot store statements")
		}

		// The terms' ids: cached, or in the dictionary.
		var missing []string
		asked := map[string]bool{}
		for _, b := range byTenant[tenant] {
			for t := range b.counts {
				key := termKey{tenant, t}
				if _, ok := w.groupTerms[key]; ok || asked[t] {
					continue
				}
				if id, ok := w.cache[key]; ok {
					w.groupTerms[key] = id
					continue
				}
				asked[t] = true
				missing = append(missing, t)
			}
		}
		err = w.queryBatched(bTermIDs, []any{tenant}, len(missing), func(a []any, i int) []any { return append(a, missing[i]) },
			func(rows *sql.Rows) error {
				var t string
				var id int64
				if err := rows.Scan(&t, &id); err != nil {
					return err
				}
				w.groupTerms[termKey{tenant, t}] = id
				learned[termKey{tenant, t}] = id
				return nil
			})
		if err != nil {
			return nil, mapErr(err, "cannot store statements")
		}
	}
	return ahead, nil
}
