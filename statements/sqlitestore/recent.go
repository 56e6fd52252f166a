package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digione/lrs/statements"
)

// mergedThroughTable holds M, the highest position whose postings are in
// the postings table (schema version 11); the postings of the statements
// after it are in memory only (recent), and each statement's terms column
// holds them durably.
const mergedThroughTable = `CREATE TABLE merged_through (
		id       INTEGER PRIMARY KEY CHECK (id = 1),
		position INTEGER NOT NULL
	)`

const (
	qMergedThrough    = `SELECT position FROM merged_through WHERE id = 1`
	qSetMergedThrough = `UPDATE merged_through SET position = ? WHERE id = 1`
	// qRecentStatements reads the terms of the statements after M, to
	// rebuild the recent postings when the store opens.
	qRecentStatements = `SELECT position, tenant, credential, terms, pairs FROM statements WHERE position > ? ORDER BY position`
)

// bStatementsAt reads the statements at positions of the recent
// postings, with the checks of a page, by primary key (NOT INDEXED: not
// by a range of the (tenant, stored) index).
var bStatementsAt = newBatched(`SELECT `+recordColumns+` FROM statements s NOT INDEXED
	WHERE s.tenant = ? AND s.voided = 0 AND s.stored > ? AND s.stored <= ? AND s.position IN (`, `?`, `)`)

// bMergePostings adds merged postings; one already there is left as is.
var bMergePostings = newBatched(`INSERT OR IGNORE INTO postings (term_id, position) VALUES `, `(?, ?)`, ``)

// mergeHook, when set, runs in each merge transaction before its commit
// (the crash tests).
var mergeHook func()

// DefaultMergeEvery is the default of WithMergeEvery.
const DefaultMergeEvery = 50_000

// mergeChunk is the most statements one merge transaction takes: a
// write waits at most one chunk's merge (a few tens of milliseconds).
const mergeChunk = 2_000

// mergeIdle is how long the store waits without a write before it merges
// the recent postings, however few.
const mergeIdle = time.Second

// WithMergeEvery sets how many statements may have their postings in
// memory before the store merges them into the postings table (they are
// also merged after a second with no write). n < 1 turns the background
// merge off: the postings then reach the table only when an erasure, a
// retention or a tenant's deletion needs them there. Default
// DefaultMergeEvery.
func WithMergeEvery(n int) Option { return func(s *Store) { s.mergeEvery = n } }

// recent holds the postings of the statements after M (merged_through):
// for each term id, and each pair (pairs.go), the ascending positions. A
// list is only ever appended to or replaced, never changed in place below
// its length, so a reader that took a list under mu reads it without the
// lock while the writer goes on.
type recent struct {
	mu    sync.Mutex
	lists map[listKey][]int64

	// Under the write lock.
	merged int64        // M
	stmts  []recentStmt // the statements after M with their term ids, ascending

	pending   atomic.Int64 // len(stmts)
	merges    atomic.Int64 // merge transactions committed by the merger
	lastWrite atomic.Int64 // unix ns of the last write that added postings
}

type recentStmt struct {
	pos   int64
	terms []listKey
}

// listKey names a posting list: a term's (other 0) or a pair's.
type listKey struct{ term, other int64 }

// snapshot returns the recent lists of the keys. The caller starts
// its read transaction after it, and uses the positions after the M that
// transaction reads: a merge drops postings from memory only after its
// commit, so the lists hold every position after any M a later
// transaction can read.
func (r *recent) snapshot(keys []listKey) [][]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]int64, len(keys))
	for i, k := range keys {
		out[i] = r.lists[k]
	}
	return out
}

// add puts committed postings of positions after M into memory. Under
// the write lock.
func (r *recent) add(posts []posting) {
	if len(posts) == 0 {
		return
	}
	// In position order; a group's postings come so, but for those a
	// statement gains from a target stored later.
	byPos := posts
	ascending := func(a, b posting) int { return cmp.Compare(a.pos, b.pos) }
	if !slices.IsSortedFunc(posts, ascending) {
		byPos = slices.Clone(posts)
		slices.SortStableFunc(byPos, ascending)
	}
	for _, p := range byPos {
		n := len(r.stmts)
		if n == 0 || r.stmts[n-1].pos < p.pos {
			r.stmts = append(r.stmts, recentStmt{pos: p.pos})
			n++
		}
		i := n - 1
		if r.stmts[i].pos != p.pos {
			// A statement that gained terms from a target stored later.
			i, _ = slices.BinarySearchFunc(r.stmts, p.pos, func(s recentStmt, pos int64) int { return cmp.Compare(s.pos, pos) })
			if i == n || r.stmts[i].pos != p.pos {
				r.stmts = slices.Insert(r.stmts, i, recentStmt{pos: p.pos})
			}
		}
		if !slices.Contains(r.stmts[i].terms, p.key()) {
			r.stmts[i].terms = append(r.stmts[i].terms, p.key())
		}
	}
	r.mu.Lock()
	for _, p := range posts {
		l := r.lists[p.key()]
		n := len(l)
		switch {
		case n == 0 || l[n-1] < p.pos:
			l = append(l, p.pos)
		default:
			i, found := slices.BinarySearch(l, p.pos)
			if found {
				continue
			}
			// A copy: readers may hold l.
			l = slices.Concat(l[:i:i], []int64{p.pos}, l[i:])
		}
		r.lists[p.key()] = l
	}
	r.mu.Unlock()
	r.pending.Store(int64(len(r.stmts)))
	r.lastWrite.Store(time.Now().UnixNano())
}

// drop forgets the postings of positions up to through of the lists.
func (r *recent) drop(terms []listKey, through int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range terms {
		l := r.lists[t]
		k, _ := slices.BinarySearch(l, through+1)
		switch {
		case k == len(l):
			delete(r.lists, t)
		case k > 0:
			r.lists[t] = l[k:]
		}
	}
}

// loadRecent reads M and rebuilds the recent postings from the terms
// columns of the statements after it and their credentials' terms.
func (s *Store) loadRecent(ctx context.Context) error {
	r := &s.recent
	r.lists = map[listKey][]int64{}
	r.stmts = nil
	if err := s.w.QueryRowContext(ctx, qMergedThrough).Scan(&r.merged); err != nil {
		return statements.Internal(err, "cannot read the postings' merge point")
	}
	type cred struct{ tenant, key string }
	type row struct {
		pos   int64
		cred  cred
		terms termIDs
		pairs []pair
	}
	var all []row
	rows, err := s.w.QueryContext(ctx, qRecentStatements, r.merged)
	if err != nil {
		return statements.Internal(err, "cannot read the recent statements")
	}
	for rows.Next() {
		var x row
		var col, pairs []byte
		if err := rows.Scan(&x.pos, &x.cred.tenant, &x.cred.key, &col, &pairs); err != nil {
			rows.Close()
			return statements.Internal(err, "cannot read the recent statements")
		}
		if x.terms, err = decodeTermIDs(col); err != nil {
			rows.Close()
			return statements.Internal(err, "cannot read the recent statements")
		}
		if x.pairs, err = decodePairs(pairs); err != nil {
			rows.Close()
			return statements.Internal(err, "cannot read the recent statements")
		}
		all = append(all, x)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return statements.Internal(err, "cannot read the recent statements")
	}
	creds := map[cred]int64{}
	var posts []posting
	for _, x := range all {
		posts = appendPairPostings(appendPostings(posts, x.pos, x.terms), x.pos, x.pairs)
		id, ok := creds[x.cred]
		if !ok {
			err := s.w.QueryRowContext(ctx, `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`,
				x.cred.tenant, statements.CredentialTerm(x.cred.key)).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return statements.Internal(err, "cannot read the recent statements")
			}
			creds[x.cred] = id
		}
		if id != 0 {
			posts = append(posts, posting{term: id, pos: x.pos})
		}
	}
	sortPostings(posts)
	r.add(posts)
	return nil
}

// mergeRecent moves the postings of the first n statements after M (all
// of them if n < 1) into the postings table and M forward, in one
// transaction, and then drops them from memory. Under the write lock.
func (s *Store) mergeRecent(ctx context.Context, n int) error {
	r := &s.recent
	if n < 1 || n > len(r.stmts) {
		n = len(r.stmts)
	}
	if n == 0 {
		return nil
	}
	through := r.stmts[n-1].pos
	if n == len(r.stmts) {
		// Everything given so far.
		through = max(through, s.nextPos-1)
	}
	var posts []posting
	for _, st := range r.stmts[:n] {
		for _, k := range st.terms {
			posts = append(posts, posting{k.term, k.other, st.pos})
		}
	}
	sortPostings(posts)
	singles, pairs := splitPostings(posts)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot merge the postings")
	}
	defer tx.Rollback()
	w := &writeTx{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, prepared: s.prepared}
	err = w.execBatched(bMergePostings, nil, len(singles), func(a []any, i int) []any {
		return append(a, singles[i].term, singles[i].pos)
	})
	if err == nil {
		err = w.execBatched(bMergePairs, nil, len(pairs), func(a []any, i int) []any {
			return append(a, pairs[i].term, pairs[i].other, pairs[i].pos)
		})
	}
	if err != nil {
		return mapErr(err, "cannot merge the postings")
	}
	if err := w.exec(qSetMergedThrough, through); err != nil {
		return mapErr(err, "cannot merge the postings")
	}
	if mergeHook != nil {
		mergeHook()
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err, "cannot merge the postings")
	}
	r.merged = through
	r.stmts = r.stmts[n:]
	if len(r.stmts) == 0 {
		r.stmts = nil
	}
	r.pending.Store(int64(len(r.stmts)))
	keys := make([]listKey, 0, len(posts))
	for i, p := range posts {
		if i == 0 || posts[i-1].key() != p.key() {
			keys = append(keys, p.key())
		}
	}
	r.drop(keys, through)
	return nil
}

// mergeAll merges every recent posting into the postings table, for the
// writes that read or change postings there (erasures, retention). Under
// the write lock.
func (s *Store) mergeAll(ctx context.Context) error {
	return s.mergeRecent(ctx, 0)
}

// merger merges the recent postings in the background, a chunk at a time
// under the write lock, when more than mergeEvery statements have them
// or no write came for mergeIdle (unless mergeEvery < 1), and backfills
// the pairs of the statements before P (pairs.go) a chunk at a time. It
// returns when ctx ends.
func (s *Store) merger(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(mergeIdle / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.mergeWake:
		case <-tick.C:
		}
		// A merge when one is due, else a chunk of the backfill, until
		// neither is left: the merge keeps the postings in memory
		// bounded while a long backfill runs.
		for {
			var step func(context.Context) error
			switch {
			case s.mergeDue():
				step = func(ctx context.Context) error {
					err := s.mergeRecent(ctx, mergeChunk)
					if err == nil {
						s.recent.merges.Add(1)
					}
					return err
				}
			case s.pairsFrom.Load() > 1:
				step = func(ctx context.Context) error { return s.backfillPairs(ctx, pairChunk) }
			}
			if step == nil {
				break
			}
			if s.lock(ctx) != nil {
				return
			}
			err := step(ctx)
			s.unlock()
			if err != nil {
				break // again at the next tick
			}
		}
	}
}

// mergeDue says whether more than mergeEvery statements have their
// postings in memory, or some have and no write came for mergeIdle.
func (s *Store) mergeDue() bool {
	if s.mergeEvery < 1 {
		return false
	}
	n := s.recent.pending.Load()
	idle := time.Since(time.Unix(0, s.recent.lastWrite.Load())) >= mergeIdle
	return n > 0 && (n > int64(s.mergeEvery) || idle)
}

// wakeMerger tells the merger that the recent postings may be over the
// threshold.
func (s *Store) wakeMerger() {
	if s.mergeEvery < 1 || s.recent.pending.Load() <= int64(s.mergeEvery) {
		return
	}
	select {
	case s.mergeWake <- struct{}{}:
	default:
	}
}
