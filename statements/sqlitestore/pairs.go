package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/digione/lrs/statements"
)

// Pair postings (schema version 12). The filter of an agent with a verb
// or an activity, the teacher's "this learner in this activity", is the
// intersection of two posting lists, and the agent's list, walked to find
// the positions the other list has too, grows with the store: a learner
// with 6,000 statements of which 20 are in the activity. So each
// statement also has a posting per pair of one of its agents' terms (a|)
// and its verb's or its activity's term (v|, o|): that filter reads one
// list, as long as its result.
//
// A statement's pairs are the cross product of the agent terms and the
// verb and activity terms of its terms column, its own and those it
// inherits from the statement it refers to, so a pair list holds exactly
// the positions that both single lists hold. The pairs column holds them
// (pair ids, uvarint deltas), as the terms column does the single terms:
// the merge, a restart, an erasure and a retention read them there.
const pairPostingsTable = `CREATE TABLE pair_postings (
		agent    INTEGER NOT NULL,
		other    INTEGER NOT NULL,
		position INTEGER NOT NULL,
		PRIMARY KEY (agent, other, position)
	) WITHOUT ROWID`

// pairsFromTable holds P: the statements from P on have their pair
// postings. A store brought up to version 12 sets P after its last
// statement, and the background backfill moves it down to 1, a chunk of
// older statements at a time; queries use pairs only for ranges from P
// on.
const pairsFromTable = `CREATE TABLE pairs_from (
		id       INTEGER PRIMARY KEY CHECK (id = 1),
		position INTEGER NOT NULL
	)`

const (
	qPairsFrom    = `SELECT position FROM pairs_from WHERE id = 1`
	qSetPairsFrom = `UPDATE pairs_from SET position = ? WHERE id = 1`
)

var (
	// bInsertPairs adds pair postings.
	bInsertPairs = newBatched(`INSERT OR FAIL INTO pair_postings (agent, other, position) VALUES `, `(?, ?, ?)`, ``)
	// bMergePairs adds merged or backfilled pair postings; one already
	// there is left as is.
	bMergePairs = newBatched(`INSERT OR IGNORE INTO pair_postings (agent, other, position) VALUES `, `(?, ?, ?)`, ``)
)

// pairChunk is the most statements one backfill transaction takes.
const pairChunk = 2_000

// pair is the key of a pair list: an agent's term id and a verb's or an
// activity's.
type pair struct{ agent, other int64 }

// pairsOf returns the pairs of the term ids of a terms column, given the
// pair side of each (statements.PairSide), in ascending order.
func pairsOf(ids termIDs, side func(int64) int) []pair {
	var agents, others []int64
	for _, id := range ids {
		switch side(id) {
		case statements.PairAgent:
			agents = append(agents, id)
		case statements.PairObject:
			others = append(others, id)
		}
	}
	return crossPairs(agents, others)
}

// crossPairs returns every pair of an agent and an other, ascending if
// both lists are.
func crossPairs(agents, others []int64) []pair {
	if len(agents) == 0 || len(others) == 0 {
		return nil
	}
	out := make([]pair, 0, len(agents)*len(others))
	for _, a := range agents {
		for _, o := range others {
			out = append(out, pair{a, o})
		}
	}
	return out
}

// encodePairs encodes ascending pairs as the pairs column: per pair the
// uvarint delta of the agent and the other's id, or its delta when the
// agent is the same as the pair's before.
func encodePairs(ps []pair) []byte {
	b := make([]byte, 0, len(ps)*4)
	var prev pair
	for _, p := range ps {
		if p.agent == prev.agent {
			b = binary.AppendUvarint(b, 0)
			b = binary.AppendUvarint(b, uint64(p.other-prev.other))
		} else {
			b = binary.AppendUvarint(b, uint64(p.agent-prev.agent))
			b = binary.AppendUvarint(b, uint64(p.other))
		}
		prev = p
	}
	return b
}

func decodePairs(b []byte) ([]pair, error) {
	var out []pair
	var prev pair
	for len(b) > 0 {
		da, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("malformed pairs column")
		}
		b = b[n:]
		o, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("malformed pairs column")
		}
		b = b[n:]
		p := pair{prev.agent + int64(da), int64(o)}
		if da == 0 {
			p.other = prev.other + int64(o)
		}
		out = append(out, p)
		prev = p
	}
	return out, nil
}

// appendPairPostings adds the pair postings of a statement.
func appendPairPostings(p []posting, pos int64, pairs []pair) []posting {
	for _, x := range pairs {
		p = append(p, posting{x.agent, x.other, pos})
	}
	return p
}

// splitPostings splits postings into single and pair postings.
func splitPostings(p []posting) (singles, pairs []posting) {
	for _, x := range p {
		if x.other == 0 {
			singles = append(singles, x)
		} else {
			pairs = append(pairs, x)
		}
	}
	return singles, pairs
}

// pairSides reads the pair side of the term ids from the dictionary, in
// q's transaction or connection.
func pairSides(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, ids []int64, into map[int64]int) error {
	for len(ids) > 0 {
		k := min(len(ids), 500)
		rows, err := q.QueryContext(ctx, `SELECT term_id, term FROM terms WHERE term_id IN (`+placeholders(k)+`)`, anys(ids[:k])...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var t string
			if err := rows.Scan(&id, &t); err != nil {
				rows.Close()
				return err
			}
			into[id] = statements.PairSide(t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		ids = ids[k:]
	}
	return nil
}

// sidesOf returns the pair side of each id: from the terms the request
// or its group added (not yet in the dictionary), else the dictionary's.
// For statements that inherit terms: their own terms' sides are known
// from the strings.
func (w *writeTx) sidesOf(ids termIDs) (map[int64]int, error) {
	out := make(map[int64]int, len(ids))
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, m := range []map[termKey]int64{w.learned, w.groupTerms} {
		for k, id := range m {
			if k.tenant == w.tenant && want[id] {
				out[id] = statements.PairSide(k.term)
				delete(want, id)
			}
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	rest := make([]int64, 0, len(want))
	for id := range want {
		rest = append(rest, id)
	}
	slices.Sort(rest)
	if err := pairSides(w.ctx, w.tx, rest, out); err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	return out, nil
}

// pairsFor returns the pairs of a terms column with the sides of ids
// read as sidesOf does.
func (w *writeTx) pairsFor(ids termIDs) ([]pair, error) {
	sides, err := w.sidesOf(ids)
	if err != nil {
		return nil, err
	}
	return pairsOf(ids, func(id int64) int { return sides[id] }), nil
}

// missingPairs returns the pairs of want not in have; both ascending.
func missingPairs(want, have []pair) []pair {
	var out []pair
	for _, p := range want {
		if _, found := slices.BinarySearchFunc(have, p, comparePairs); !found {
			out = append(out, p)
		}
	}
	return out
}

func comparePairs(a, b pair) int {
	return cmp.Or(cmp.Compare(a.agent, b.agent), cmp.Compare(a.other, b.other))
}

// backfillPairs gives pair postings to up to n of the statements before
// P (the newest of them first) and moves P down past them, in one
// transaction. Under the write lock.
func (s *Store) backfillPairs(ctx context.Context, n int) error {
	from := s.pairsFrom.Load()
	if from <= 1 {
		return nil
	}
	// The statements before P had no pairs in memory: their postings all
	// go to the table, after every recent single posting before them.
	if s.recent.merged < from-1 {
		if err := s.mergeAll(ctx); err != nil {
			return err
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	defer tx.Rollback()
	type row struct {
		pos   int64
		terms termIDs
	}
	var rows []row
	ids := map[int64]bool{}
	rs, err := tx.QueryContext(ctx, `SELECT position, terms FROM statements WHERE position < ? ORDER BY position DESC LIMIT ?`, from, n)
	if err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	for rs.Next() {
		var r row
		var col []byte
		if err := rs.Scan(&r.pos, &col); err != nil {
			rs.Close()
			return mapErr(err, "cannot backfill pair postings")
		}
		if r.terms, err = decodeTermIDs(col); err != nil {
			rs.Close()
			return statements.Internal(err, "cannot backfill pair postings")
		}
		for _, id := range r.terms {
			ids[id] = true
		}
		rows = append(rows, r)
	}
	err = rs.Err()
	rs.Close()
	if err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	sides := map[int64]int{}
	sorted := make([]int64, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	if err := pairSides(ctx, tx, sorted, sides); err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	w := &writeTx{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, prepared: s.prepared}
	var posts []posting
	for _, r := range rows {
		ps := pairsOf(r.terms, func(id int64) int { return sides[id] })
		if err := w.exec(qSetPairs, encodePairs(ps), r.pos); err != nil {
			return mapErr(err, "cannot backfill pair postings")
		}
		posts = appendPairPostings(posts, r.pos, ps)
	}
	sortPostings(posts)
	err = w.execBatched(bMergePairs, nil, len(posts), func(a []any, i int) []any {
		return append(a, posts[i].term, posts[i].other, posts[i].pos)
	})
	if err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	next := int64(1)
	if len(rows) == n {
		next = rows[len(rows)-1].pos
	}
	if err := w.exec(qSetPairsFrom, next); err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err, "cannot backfill pair postings")
	}
	s.pairsFrom.Store(next)
	return nil
}

// pairListsFor plans a query's lists: the single terms of the filter, or,
// when the range lies after P, an agent's term with a verb's or an
// activity's as one pair list each. Each list's n is its length, or for a
// pair the shorter of its terms' (at most that).
func pairListsFor(terms []term, usePairs bool) []list {
	var agent *term
	var others []term
	var out []list
	for i := range terms {
		t := &terms[i]
		switch {
		case usePairs && t.side == statements.PairAgent && agent == nil:
			agent = t
		case usePairs && t.side == statements.PairObject:
			others = append(others, *t)
		default:
			out = append(out, list{term: t.id, n: t.n})
		}
	}
	switch {
	case agent != nil && len(others) > 0:
		for _, o := range others {
			out = append(out, list{term: agent.id, other: o.id, n: min(agent.n, o.n)})
		}
	case agent != nil:
		out = append(out, list{term: agent.id, n: agent.n})
	default:
		for _, o := range others {
			out = append(out, list{term: o.id, n: o.n})
		}
	}
	slices.SortStableFunc(out, func(a, b list) int {
		// A pair before a single of the same length: it may be shorter.
		return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(b.other, a.other))
	})
	return out
}

// list is one posting list of a query: a term's (other 0) or a pair's.
type list struct {
	term, other int64
	n           int64
}

func (l list) key() listKey { return listKey{l.term, l.other} }

// sql returns the table of a list and the condition on its key, for the
// alias a.
func (l list) sql(a string) (table, cond string) {
	if l.other == 0 {
		return "postings", a + ".term_id = ?"
	}
	return "pair_postings", a + ".agent = ? AND " + a + ".other = ?"
}

func (l list) args() []any {
	if l.other == 0 {
		return []any{l.term}
	}
	return []any{l.term, l.other}
}
