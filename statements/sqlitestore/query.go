package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/digione/lrs/statements"
)

const recordColumns = `s.position, s.id, s.stored, s.voided, s.voids, s.ref_target, s.fingerprint, s.credential, s.statement, s.stamp`

const qStatement = `SELECT ` + recordColumns + ` FROM statements s WHERE s.tenant = ? AND s.id = ?`

// read returns the statement q prepared on the reader pool. The queries
// come in a few dozen shapes, so each is prepared once.
func (s *Store) read(ctx context.Context, q string) (*sql.Stmt, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if st, ok := s.rstmts[q]; ok {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, mapErr(err, "cannot query statements")
	}
	s.rstmts[q] = st
	return st, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (*statements.Record, error) {
	var r statements.Record
	var stored int64
	var voids, ref sql.NullString
	if err := sc.Scan(&r.Position, &r.ID, &stored, &r.Voided, &voids, &ref, fingerprintDest{&r.Fingerprint}, &r.Credential, &r.Statement, &r.StampTimestamp); err != nil {
		return nil, err
	}
	var err error
	if r.Statement, err = decodeStatement(r.Statement); err != nil {
		return nil, err
	}
	r.Stored = time.UnixMilli(stored).UTC()
	r.Voids, r.RefTarget = voids.String, ref.String
	return &r, nil
}

// Statement returns one statement; see statements.Store.
func (s *Store) Statement(ctx context.Context, tenant, id string, voided bool) (*statements.Record, error) {
	id = strings.ToLower(id)
	st, err := s.read(ctx, qStatement)
	if err != nil {
		return nil, err
	}
	r, err := scanRecord(st.QueryRowContext(ctx, tenant, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Voided != voided) {
		if voided {
			return nil, statements.Errorf(statements.ENotFound, "no voided statement %s", id)
		}
		return nil, statements.Errorf(statements.ENotFound, "no statement %s", id)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read statement "+id)
	}
	return r, nil
}

// QueryStatements returns a page of statements; see statements.Store.
//
// The page is read in position order from one index: the posting list of
// the filter's rarest term, or of the pair of its agent and its verb or
// activity (pairs.go), the others probed by primary key; or the (tenant,
// position) index when the filter has no terms. Since and Until
// become position bounds through the (tenant, stored) index, because
// Stored does not decrease with Position.
func (s *Store) QueryStatements(ctx context.Context, tenant string, f statements.Filter) (*statements.Page, error) {
	limit := f.PageLimit()
	lo, hi := int64(0), int64(math.MaxInt64) // exclusive bounds on position
	if f.After > 0 {
		if f.Ascending {
			lo = f.After
		} else {
			hi = f.After
		}
	}
	sinceMs, untilMs := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.Since.IsZero() {
		sinceMs = f.Since.UnixMilli()
		p, _, err := s.lastPositionAt(ctx, tenant, sinceMs)
		if err != nil {
			return nil, err
		}
		lo = max(lo, p)
	}
	if !f.Until.IsZero() {
		untilMs = f.Until.UnixMilli()
		p, ok, err := s.lastPositionAt(ctx, tenant, untilMs)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &statements.Page{}, nil
		}
		hi = min(hi, p+1)
	}
	if lo >= hi-1 {
		return &statements.Page{}, nil
	}

	terms, ok, err := s.termIDs(ctx, tenant, f.Terms())
	if err != nil {
		return nil, err
	}
	if !ok {
		return &statements.Page{}, nil
	}
	// Pair lists hold the statements from P on.
	lists := pairListsFor(terms, s.pairsFrom.Load() <= lo+1)
	// Rows are read one at a time: the page stops at the first that the
	// limit or MaxBytes leaves out.
	page := &statements.Page{}
	var size int64
	add := func(r *statements.Record) (stop bool) {
		n := int64(len(r.Statement))
		if len(page.Records) == limit || (f.MaxBytes > 0 && len(page.Records) > 0 && size+n > f.MaxBytes) {
			page.More = true
			return true
		}
		page.Records = append(page.Records, r)
		size += n
		return false
	}
	// The postings of positions up to M are in the postings tables, those
	// after it in memory (recent.go): the lists are taken before the read
	// transaction, which reads M. The tables never hold a posting after
	// M, so when a list is empty (no match in memory) or there are no
	// terms, the page is the tables' alone.
	keys := make([]listKey, len(lists))
	for i, l := range lists {
		keys[i] = l.key()
	}
	recent := s.recent.snapshot(keys)
	if len(lists) == 0 || slices.ContainsFunc(recent, func(l []int64) bool { return len(l) == 0 }) {
		q, args := querySQL(tenant, lists, lo, hi, sinceMs, untilMs, f.Ascending, limit+1)
		if _, err := s.readRows(ctx, nil, q, args, add); err != nil {
			return nil, err
		}
		return page, nil
	}
	// Every statement the transaction may run is prepared before it
	// starts: preparing takes a connection of the pool, and readers that
	// each hold one in a transaction while waiting for another would wait
	// for ever.
	tableQ, _ := querySQL(tenant, lists, lo, hi, sinceMs, untilMs, f.Ascending, limit+1)
	shapes := []string{qMergedThrough, tableQ}
	for n := 1; n <= limit+1; n *= 2 {
		q, _ := bStatementsAt.next(n)
		shapes = append(shapes, q)
	}
	for _, q := range shapes {
		if _, err := s.read(ctx, q); err != nil {
			return nil, err
		}
	}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err, "cannot query statements")
	}
	defer tx.Rollback()
	var merged int64
	st, err := s.read(ctx, qMergedThrough)
	if err != nil {
		return nil, err
	}
	if err := tx.StmtContext(ctx, st).QueryRowContext(ctx).Scan(&merged); err != nil {
		return nil, mapErr(err, "cannot query statements")
	}
	fromTable := func() (bool, error) {
		if lo >= min(hi, merged+1)-1 {
			return false, nil
		}
		q, args := querySQL(tenant, lists, lo, min(hi, merged+1), sinceMs, untilMs, f.Ascending, limit+1)
		return s.readRows(ctx, tx, q, args, add)
	}
	fromMemory := func() (bool, error) {
		// The statements are read by position a list at a time, about as
		// many as the page still takes; those voided, outside the times
		// or erased are not found.
		ps := intersect(recent, max(lo, merged), hi, f.Ascending)
		for len(ps) > 0 {
			q, k := bStatementsAt.next(min(len(ps), limit+1-len(page.Records)))
			args := []any{tenant, sinceMs, untilMs}
			for _, p := range ps[:k] {
				args = append(args, p)
			}
			at := make(map[int64]*statements.Record, k)
			_, err := s.readRows(ctx, tx, q, args, func(r *statements.Record) bool {
				at[r.Position] = r
				return false
			})
			if err != nil {
				return false, err
			}
			for _, p := range ps[:k] {
				if r, ok := at[p]; ok && add(r) {
					return true, nil
				}
			}
			ps = ps[k:]
		}
		return false, nil
	}
	first, second := fromMemory, fromTable
	if f.Ascending {
		first, second = fromTable, fromMemory
	}
	stop, err := first()
	if err == nil && !stop {
		_, err = second()
	}
	if err != nil {
		return nil, err
	}
	return page, nil
}

// readRows runs q, in tx if not nil, and adds its records until add says
// stop.
func (s *Store) readRows(ctx context.Context, tx *sql.Tx, q string, args []any, add func(*statements.Record) bool) (bool, error) {
	st, err := s.read(ctx, q)
	if err != nil {
		return false, err
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return false, mapErr(err, "cannot query statements")
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return false, mapErr(err, "cannot query statements")
		}
		if add(r) {
			return true, nil
		}
	}
	return false, mapErr(rows.Err(), "cannot query statements")
}

// intersect returns the positions in (lo, hi) that every list holds, in
// the order of the page. The lists are ascending.
func intersect(lists [][]int64, lo, hi int64, asc bool) []int64 {
	if lo >= hi-1 || len(lists) == 0 {
		return nil
	}
	cut := func(l []int64) []int64 {
		i, _ := slices.BinarySearch(l, lo+1)
		j, _ := slices.BinarySearch(l, hi)
		return l[i:max(i, j)]
	}
	shortest := 0
	for i, l := range lists {
		lists[i] = cut(l)
		if len(lists[i]) < len(lists[shortest]) {
			shortest = i
		}
	}
	var out []int64
	for _, p := range lists[shortest] {
		all := true
		for i, l := range lists {
			if i != shortest {
				if _, found := slices.BinarySearch(l, p); !found {
					all = false
					break
				}
			}
		}
		if all {
			out = append(out, p)
		}
	}
	if !asc {
		slices.Reverse(out)
	}
	return out
}

// lastPositionAt returns the highest position of the tenant's statements
// stored at or before ms.
func (s *Store) lastPositionAt(ctx context.Context, tenant string, ms int64) (int64, bool, error) {
	var p int64
	st, err := s.read(ctx, qLastPositionAt)
	if err != nil {
		return 0, false, err
	}
	err = st.QueryRowContext(ctx, tenant, ms).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, mapErr(err, "cannot query statements")
	}
	return p, true, nil
}

const qLastPositionAt = `SELECT position FROM statements
	WHERE tenant = ? AND stored <= ? ORDER BY stored DESC, position DESC LIMIT 1`

type term struct {
	id   int64
	n    int64
	side int // statements.PairSide
}

// termIDs looks the terms up, rarest first; ok is false if one is unknown
// (nothing matches).
func (s *Store) termIDs(ctx context.Context, tenant string, terms []string) ([]term, bool, error) {
	out := make([]term, 0, len(terms))
	for _, t := range terms {
		k := termKey{tenant, t}
		x, gen, ok := s.qterms.get(k)
		if !ok {
			st, err := s.read(ctx, qTerm)
			if err != nil {
				return nil, false, err
			}
			x.side = statements.PairSide(t)
			err = st.QueryRowContext(ctx, tenant, t).Scan(&x.id, &x.n)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, mapErr(err, "cannot query statements")
			}
			s.qterms.put(k, x, gen)
		}
		out = append(out, x)
	}
	slices.SortStableFunc(out, func(a, b term) int {
		switch {
		case a.n < b.n:
			return -1
		case a.n > b.n:
			return 1
		}
		return 0
	})
	return out, true, nil
}

// querySQL builds the query of a page: driven by the first list, or by
// the (tenant, position) index without lists.
func querySQL(tenant string, lists []list, lo, hi, sinceMs, untilMs int64, asc bool, n int) (string, []any) {
	var b strings.Builder
	var args []any
	dir := "DESC"
	if asc {
		dir = "ASC"
	}
	b.WriteString(`SELECT ` + recordColumns)
	if len(lists) == 0 {
		b.WriteString(` FROM statements s INDEXED BY statements_tenant_position
	WHERE s.tenant = ? AND s.position > ? AND s.position < ?`)
		args = append(args, tenant, lo, hi)
	} else {
		// CROSS JOIN fixes the loop order: the driving list, then a
		// primary key probe of each other list, then the statement.
		table, cond := lists[0].sql("p")
		b.WriteString(` FROM ` + table + ` p`)
		conds := make([]string, len(lists)-1)
		for i, l := range lists[1:] {
			alias := fmt.Sprintf("q%d", i)
			table, c := l.sql(alias)
			b.WriteString(` CROSS JOIN ` + table + ` ` + alias)
			conds[i] = c + ` AND ` + alias + `.position = p.position`
		}
		b.WriteString(` CROSS JOIN statements s
	WHERE ` + cond + ` AND p.position > ? AND p.position < ?`)
		args = append(append(args, lists[0].args()...), lo, hi)
		for i, l := range lists[1:] {
			b.WriteString(`
	AND ` + conds[i])
			args = append(args, l.args()...)
		}
		b.WriteString(`
	AND s.position = p.position AND s.tenant = ?`)
		args = append(args, tenant)
	}
	b.WriteString(`
	AND s.voided = 0`)
	if sinceMs != math.MinInt64 {
		b.WriteString(` AND s.stored > ?`)
		args = append(args, sinceMs)
	}
	if untilMs != math.MaxInt64 {
		b.WriteString(` AND s.stored <= ?`)
		args = append(args, untilMs)
	}
	if len(lists) == 0 {
		b.WriteString(`
	ORDER BY s.position ` + dir)
	} else {
		b.WriteString(`
	ORDER BY p.position ` + dir)
	}
	b.WriteString(` LIMIT ?`)
	args = append(args, n)
	return b.String(), args
}

const qTerm = `SELECT t.term_id, coalesce(c.n, 0) FROM terms t LEFT JOIN term_counts c ON c.term_id = t.term_id WHERE t.tenant = ? AND t.term = ?`

// queryTerms caches the terms queries looked up, with their counts, for
// a few seconds: a page costs a lookup per term, and the counts only
// choose the list a query walks. An id stays right while it is cached:
// ids are never given twice in a process, and an erasure or a tenant's
// deletion, which take terms out of the dictionary, clear the cache.
type queryTerms struct {
	mu      sync.Mutex
	m       map[termKey]term
	expires time.Time
	gen     int64 // cleared this many times
}

const (
	queryTermsSize = 1 << 14
	queryTermsTTL  = 5 * time.Second
)

// get returns the cached term, or the generation a lookup from the
// dictionary is to be put with.
func (c *queryTerms) get(k termKey) (term, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().After(c.expires) {
		c.m = nil
		return term{}, c.gen, false
	}
	t, ok := c.m[k]
	return t, c.gen, ok
}

// put caches a term looked up in generation gen: not if the cache was
// cleared since, when the lookup may have read a term on its way out.
func (c *queryTerms) put(k termKey, t term, gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= queryTermsSize {
		c.m = make(map[termKey]term)
		c.expires = time.Now().Add(queryTermsTTL)
	}
	c.m[k] = t
}

// clear empties the cache, for writes that take terms out of the
// dictionary.
func (c *queryTerms) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}
