package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

// The writer's statements, prepared once on the writer connection.
const (
	qInsertStmt = `INSERT INTO statements
		(position, tenant, id, stored, voided, voids, ref_target, fingerprint, credential, terms, statement, stamp, pairs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qVoid      = `UPDATE statements SET voided = 1 WHERE tenant = ? AND id = ?`
	qReferrers = `SELECT position, id, terms, pairs FROM statements WHERE tenant = ? AND ref_target = ?`
	qSetTerms  = `UPDATE statements SET terms = ?, pairs = ? WHERE position = ?`
	qSetPairs  = `UPDATE statements SET pairs = ? WHERE position = ?`
	// qCredentialTerms finds the ids of a tenant's credential terms.
	qCredentialTerms = `SELECT term_id FROM terms WHERE tenant = ? AND term >= 'c|' AND term < 'c}'`
)

// The writer's statements over lists, one per power of two of rows.
var (
	// bStatementsAmong finds the stored statements among ids.
	bStatementsAmong = newBatched(`SELECT id, position, stored, fingerprint, voided, voids IS NOT NULL, terms
		FROM statements WHERE tenant = ? AND id IN (`, `?`, `)`)
	// bVoidedAmong finds the ids a stored voiding statement targets.
	bVoidedAmong = newBatched(`SELECT voids FROM statements WHERE tenant = ? AND voids IN (`, `?`, `)`)
	// bReferredAmong finds the ids a stored statement refers to.
	bReferredAmong = newBatched(`SELECT ref_target FROM statements WHERE tenant = ? AND ref_target IN (`, `?`, `)`)
	// bTermIDs looks terms up in the dictionary.
	bTermIDs = newBatched(`SELECT term, term_id FROM terms WHERE tenant = ? AND term IN (`, `?`, `)`)
	// The statements that change several rows stop at the first row that
	// fails (OR FAIL) rather than undo the rows before (the default, OR
	// ABORT), which would make SQLite keep a copy of every page they
	// change: a statement that fails fails its request, and the request's
	// changes are undone with it (see commitGroup).

	// bInsertTerms adds terms to the dictionary.
	bInsertTerms = newBatched(`INSERT OR FAIL INTO terms (term_id, tenant, term) VALUES `, `(?, ?, ?)`, ``)
	// bInsertPostings adds postings.
	bInsertPostings = newBatched(`INSERT OR FAIL INTO postings (term_id, position) VALUES `, `(?, ?)`, ``)
	// bCountTerms adds to the terms' counts of postings.
	bCountTerms = newBatched(`INSERT OR FAIL INTO term_counts (term_id, n) VALUES `, `(?, ?)`, ` ON CONFLICT (term_id) DO UPDATE SET n = n + excluded.n`)
)

// writeTx is one write transaction with its statements bound to it.
type writeTx struct {
	ctx    context.Context
	tx     *sql.Tx
	tenant string
	stmts  map[string]*sql.Stmt

	prepared map[string]*sql.Stmt // on the writer connection

	cache      map[termKey]int64         // committed term ids
	groupTerms map[termKey]int64         // ids of the group's terms stored before the request
	learned    map[termKey]int64         // ids of the terms the request adds, added at commit
	nextTerm   int64                     // the next free term id
	counts     map[int64]int             // new postings per term id, added to term_counts at commit
	posts      []posting                 // new postings, added at commit
	view       view                      // the stored statements the request's batch names
	credTerms  map[string]map[int64]bool // ids of each tenant's stored credential terms, read when needed

	wrote bool // a statement that writes has run in the transaction
}

type termKey struct{ tenant, term string }

var writerQueries = slices.Concat([]string{qInsertStmt, qVoid, qReferrers, qSetTerms, qSetPairs, qCredentialTerms, qActivityDefinition, qPutActivity},
	bStatementsAmong.sizes, bVoidedAmong.sizes, bReferredAmong.sizes, bTermIDs.sizes, bInsertTerms.sizes,
	bInsertPostings.sizes, bInsertPairs.sizes, bCountTerms.sizes, bMergePostings.sizes, bMergePairs.sizes,
	[]string{qSetMergedThrough, qSetPairsFrom})

func (w *writeTx) stmt(q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	prepared, ok := w.prepared[q]
	if !ok {
		return nil, errors.New("statement not prepared: " + q)
	}
	st := w.tx.StmtContext(w.ctx, prepared)
	w.stmts[q] = st
	return st, nil
}

func (w *writeTx) exec(q string, args ...any) error {
	st, err := w.stmt(q)
	if err != nil {
		return err
	}
	w.wrote = true
	_, err = st.ExecContext(w.ctx, args...)
	return err
}

// query runs q and calls scan for each row.
func (w *writeTx) query(q string, args []any, scan func(*sql.Rows) error) error {
	st, err := w.stmt(q)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(q, "SELECT") {
		w.wrote = true
	}
	rows, err := st.QueryContext(w.ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// row runs a query of one row; found is false when there is none.
func (w *writeTx) row(q string, args []any, dest ...any) (found bool, err error) {
	st, err := w.stmt(q)
	if err != nil {
		return false, err
	}
	err = st.QueryRowContext(w.ctx, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

type result struct {
	pos, stored int64
	voided      bool
}

// InsertStatements stores recs in one transaction; see statements.Store.
func (s *Store) InsertStatements(ctx context.Context, tenant string, recs []*statements.Record) error {
	if len(recs) == 0 {
		return nil
	}
	// The batch's own rules, before touching the database.
	first := make(map[string]int, len(recs)) // id -> index of its first record
	alias := make([]int, len(recs))          // index of the record with the same id
	for i, r := range recs {
		if r == nil || r.ID == "" {
			return statements.Errorf(statements.EInvalid, "statement %d of the batch has no id", i)
		}
		id := strings.ToLower(r.ID)
		if j, ok := first[id]; ok {
			if recs[j].Fingerprint != r.Fingerprint {
				return statements.Errorf(statements.EInvalid,
					"statement %s appears twice in the batch with different content", id)
			}
			alias[i] = j
			continue
		}
		first[id] = i
		alias[i] = i
	}
	for i, r := range recs {
		if alias[i] != i || r.Voids == "" {
			continue
		}
		if j, ok := first[strings.ToLower(r.Voids)]; ok && recs[j].Voids != "" {
			return errVoidsVoiding(r.ID, r.Voids)
		}
	}

	// Made ready before the write lock, in the caller's goroutine: the
	// writer is the part that cannot run in parallel.
	b := newBatch(recs, alias)

	var res []result
	err := s.write(ctx, tenant, b, func(w *writeTx, stored, pos int64) (int64, error) {
		var err error
		res, pos, err = s.insert(w, b, stored, pos)
		return pos, err
	})
	if err != nil {
		return err
	}
	for i, r := range recs {
		x := res[alias[i]]
		r.Position, r.Stored, r.Voided = x.pos, time.UnixMilli(x.stored).UTC(), x.voided
	}
	return nil
}

// writeRequest is one write on its way to the database: apply runs in the
// group's transaction with the group's Stored time and the first free log
// position, and returns the next free position.
type writeRequest struct {
	ctx    context.Context
	tenant string
	batch  *batch // the statements the request stores, if any
	apply  func(w *writeTx, stored, pos int64) (int64, error)

	err  error
	done chan struct{} // closed when the request is written or failed
	lead chan struct{} // closed when the request is to lead the next group
}

// write runs apply in a transaction together with the writes queued beside
// it (statement batches, activity definitions): group commit. One writer
// at a time leads: it waits briefly for a fuller group (gather), takes the
// whole queue, runs the requests one after the other in one transaction
// (a failing request rolls back alone) and commits once, so concurrent
// writers share one sync to disk instead of paying one each. Then it hands
// the lead to the first request queued meanwhile. write returns when its
// request is committed or failed.
func (s *Store) write(ctx context.Context, tenant string, b *batch, apply func(w *writeTx, stored, pos int64) (int64, error)) error {
	req := &writeRequest{ctx: ctx, tenant: tenant, batch: b, apply: apply, done: make(chan struct{}), lead: make(chan struct{})}
	n := 1
	if b != nil {
		n = max(len(b.recs), 1)
	}
	s.qmu.Lock()
	s.queue = append(s.queue, req)
	s.queued += n
	s.inside++
	s.peak = max(s.peak, s.inside)
	if s.gathering && s.groupFull() {
		s.gathering = false
		s.full <- struct{}{} // never blocks: one wake per gathering, drained before
	}
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	defer func() {
		s.qmu.Lock()
		s.inside--
		s.qmu.Unlock()
	}()
	if !lead {
		select {
		case <-req.done:
			return req.err
		case <-req.lead:
		}
	}

	s.gather()
	s.qmu.Lock()
	group := s.queue
	s.queue, s.queued, s.lastGroup = nil, 0, len(group)
	s.peak = max(s.inside, s.peak-(s.peak+7)/8) // forget a past peak over a few groups
	s.qmu.Unlock()

	s.ws <- struct{}{} // the write lock, shared with the store's other writes
	s.commitGroup(group)
	s.unlock()
	s.wakeMerger()

	s.qmu.Lock()
	if len(s.queue) > 0 {
		close(s.queue[0].lead)
	} else {
		s.leading = false
	}
	s.qmu.Unlock()
	return req.err
}

// groupStatements is how many statements make a group full enough: a
// commit of more costs hardly less per statement.
const groupStatements = 400

// groupFull reports whether the queue needs no gathering: it holds as
// many writes as were about lately, or enough statements. Under qmu.
func (s *Store) groupFull() bool {
	return len(s.queue) >= s.peak || s.queued >= groupStatements
}

// gather waits, as the leader of the next group, until the writers about
// lately have queued their writes, groupStatements are queued, or
// groupWait has passed. A commit costs about the same for one statement
// as for several (the sync to disk, the index pages that every commit
// rewrites), so single-statement writers that share one spend less of the
// writer's time per statement. It waits only when the last group had
// more than one write: a lone writer is not kept waiting for company.
// Nothing is stored, or promised stored, while it waits.
func (s *Store) gather() {
	if s.groupWait <= 0 {
		return
	}
	s.qmu.Lock()
	if s.lastGroup < 2 || s.groupFull() {
		s.qmu.Unlock()
		return
	}
	select {
	case <-s.full: // a wake that came after the last gathering's timeout
	default:
	}
	s.gathering = true
	s.qmu.Unlock()
	t := time.NewTimer(s.groupWait)
	select {
	case <-s.full:
	case <-t.C:
	}
	t.Stop()
	s.qmu.Lock()
	s.gathering = false
	s.qmu.Unlock()
}

// commitGroup runs the requests of a group in one transaction, under the
// write lock, and marks each done.
//
// The requests first run one after the other with nothing between them: a
// request that fails does so before it writes (a conflict, a voiding
// statement voided), and then there is nothing to undo. Only if a request
// fails after writing does the group run again, each request in a
// savepoint of its own, so that it rolls back alone.
func (s *Store) commitGroup(group []*writeRequest) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	// The group's work is not any one client's: it outlives a request
	// that gives up.
	ctx := context.WithoutCancel(group[0].ctx)
	stored := s.beginWrite()
	committed, again := s.runGroup(ctx, group, stored, false)
	if again {
		for _, r := range group {
			r.err = nil
		}
		committed, _ = s.runGroup(ctx, group, stored, true)
	}
	s.endWrite(stored, committed)
}

// runGroup runs the requests of a group in one transaction and commits
// it, each request in a savepoint if savepoints is set. Without
// savepoints, again says that a request failed after writing: the
// transaction is rolled back and the group is to run again with them.
func (s *Store) runGroup(ctx context.Context, group []*writeRequest, stored int64, savepoints bool) (committed, again bool) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(group, mapErr(err, "cannot store statements"))
		return false, false
	}
	defer tx.Rollback()
	w := &writeTx{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, prepared: s.prepared, cache: s.terms,
		groupTerms: map[termKey]int64{}}
	learned := map[termKey]int64{}
	ahead, err := w.readAhead(group, learned)
	if err != nil {
		failAll(group, err)
		return false, false
	}
	counts := map[int64]int{}
	var posts []posting
	var added []newTerm
	pos, nextTerm := s.nextPos, s.nextTerm
	// A request alone in its group fails with the transaction.
	alone := len(group) == 1
	savepoints = savepoints && !alone
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = statements.Internal(err, "the request ended before the store could write")
			continue
		}
		if savepoints {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT request`); err != nil {
				r.err = mapErr(err, "cannot store statements")
				continue
			}
		}
		w.tenant, w.learned, w.counts, w.posts, w.wrote = r.tenant, map[termKey]int64{}, map[int64]int{}, w.posts[:0], false
		w.nextTerm = nextTerm
		if r.batch != nil {
			w.view = view{group: ahead[r.tenant], own: newKnown()}
		}
		next, err := r.apply(w, stored, pos)
		if err != nil {
			r.err = err
			switch {
			case alone:
				return false, false
			case savepoints:
				_, err = tx.ExecContext(ctx, `ROLLBACK TO request`)
				if err == nil {
					_, err = tx.ExecContext(ctx, `RELEASE request`)
				}
				if err != nil {
					failAll(group, mapErr(err, "cannot store statements"))
					return false, false
				}
			case w.wrote || statements.ErrorCode(err) == statements.EInternal:
				// Something to undo, or a fault of the database, after
				// which the transaction may be gone.
				return false, true
			}
			continue
		}
		if savepoints {
			if _, err := tx.ExecContext(ctx, `RELEASE request`); err != nil {
				failAll(group, mapErr(err, "cannot store statements"))
				return false, false
			}
		}
		pos, nextTerm = next, w.nextTerm
		if r.batch != nil {
			w.view.group.merge(w.view.own)
		}
		for k, id := range w.learned {
			added = append(added, newTerm{k, id})
		}
		maps.Copy(learned, w.learned)
		maps.Copy(w.groupTerms, w.learned)
		for id, n := range w.counts {
			counts[id] += n
		}
		posts = append(posts, w.posts...)
	}
	if err := w.insertTerms(added); err != nil {
		failAll(group, err)
		return false, false
	}
	// The postings of the statements after M wait in memory for the
	// merge (recent.go); those of earlier ones (statements that gained
	// terms from a target stored now) go to the postings table.
	var merged, later []posting
	for _, p := range posts {
		if p.pos <= s.recent.merged {
			merged = append(merged, p)
		} else {
			later = append(later, p)
		}
	}
	if err := w.insertPostings(merged); err != nil {
		failAll(group, err)
		return false, false
	}
	if err := w.countTerms(counts); err != nil {
		failAll(group, err)
		return false, false
	}
	if err := tx.Commit(); err != nil {
		failAll(group, mapErr(err, "cannot store statements"))
		return false, false
	}
	s.nextPos, s.nextTerm = pos, nextTerm
	s.recent.add(later)
	if len(s.terms)+len(learned) > termCacheSize {
		clear(s.terms)
	}
	maps.Copy(s.terms, learned)
	return true, false
}

// failAll fails every request of a group that has not failed already.
func failAll(group []*writeRequest, err error) {
	for _, r := range group {
		if r.err == nil {
			r.err = err
		}
	}
}

func errVoidsVoiding(id, target string) error {
	return statements.Errorf(statements.EInvalid,
		"statement %s voids statement %s, which is a voiding statement: a voiding statement cannot be voided",
		strings.ToLower(id), strings.ToLower(target))
}

// sameContent reports whether the statement stored with id, taken again
// by statements.Fingerprint, has the fingerprint fp: the stored
// fingerprint may come from an earlier version of the comparison rules.
func (w *writeTx) sameContent(id, fp string) (bool, error) {
	var col []byte
	err := w.tx.QueryRowContext(w.ctx, `SELECT statement FROM statements WHERE tenant = ? AND id = ?`, w.tenant, id).Scan(&col)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(err, "cannot store statements")
	}
	raw, err := decodeStatement(col)
	if err != nil {
		return false, statements.Internal(err, "cannot read a stored statement")
	}
	got, err := statements.Fingerprint(raw)
	return err == nil && got == fp, nil
}

// insert writes one request's batch in w's transaction, giving the new
// records positions from pos on, and returns the outcome of each first
// record of an id and the next free position.
//
// What the records need to know of the stored statements (which ids are
// stored, voided, referred to) was read ahead for the whole group
// (readAhead); what the requests before this one and this request's own
// records change of it is followed in memory (w.view).
func (s *Store) insert(w *writeTx, b *batch, stored, pos int64) ([]result, int64, error) {
	tenant, recs, v := w.tenant, b.recs, w.view
	res := make([]result, len(recs))

	// Known ids: idempotent or conflicting; voiding rules for stored targets.
	isNew := make([]bool, len(recs))
	fresh, repeated := 0, 0
	for i, r := range recs {
		if b.alias[i] != i {
			continue
		}
		id := b.ids[i]
		if e, found := v.statement(id); found {
			repeated++
			if e.fp != r.Fingerprint {
				same, err := w.sameContent(id, r.Fingerprint)
				if err != nil {
					return nil, 0, err
				}
				if !same {
					return nil, 0, statements.Errorf(statements.EConflict,
						"statement %s already exists with different content", id)
				}
			}
			res[i] = e.result
			continue
		}
		if voids := b.voids[i]; voids != "" {
			if t, found := v.statement(voids); found && t.voiding {
				return nil, 0, errVoidsVoiding(id, r.Voids)
			}
		}
		isNew[i] = true
		fresh++
	}
	if fresh == 0 {
		return res, pos, nil
	}

	counts := b.counts
	if repeated > 0 {
		counts = map[string]int{}
		for i, r := range recs {
			if isNew[i] {
				for _, t := range r.Terms {
					counts[t]++
				}
			}
		}
	}
	termID := w.assignTerms(counts)

	for i, r := range recs {
		if !isNew[i] {
			continue
		}
		id, voids, ref := b.ids[i], b.voids[i], b.refs[i]
		// The terms column holds the terms a referrer inherits: all but
		// the credential's, which has a posting only.
		own := make([]int64, 0, len(r.Terms))
		var cred []int64
		var ab, ob [4]int64
		agents, others := ab[:0], ob[:0]
		for _, t := range r.Terms {
			if statements.IsCredentialTerm(t) {
				cred = append(cred, termID[t])
				continue
			}
			own = append(own, termID[t])
			switch statements.PairSide(t) {
			case statements.PairAgent:
				agents = append(agents, termID[t])
			case statements.PairObject:
				others = append(others, termID[t])
			}
		}
		terms := sortedIDs(own)
		slices.Sort(agents)
		slices.Sort(others)
		pairs := crossPairs(agents, others)
		if ref != "" {
			if t, found := v.statement(ref); found {
				target, err := decodeTermIDs(t.terms)
				if err != nil {
					return nil, 0, statements.Internal(err, "cannot store statements")
				}
				if target, err = w.withoutCredentials(target); err != nil {
					return nil, 0, err
				}
				var added termIDs
				if terms, added = terms.union(target); len(added) > 0 {
					if pairs, err = w.pairsFor(terms); err != nil {
						return nil, 0, err
					}
				}
			}
		}
		voided := voids == "" && v.isVoided(id)
		col := terms.encode()
		err := w.exec(qInsertStmt, pos, tenant, id, stored, voided, nullable(voids), nullable(ref),
			fingerprintValue(r.Fingerprint), r.Credential, col, b.blobs[i], r.StampTimestamp, encodePairs(pairs))
		if err != nil {
			return nil, 0, mapErr(err, "cannot store statement "+id)
		}
		res[i] = result{pos: pos, stored: stored, voided: voided}
		v.own.stmts[id] = stmt{result: res[i], fp: r.Fingerprint, voiding: voids != "", terms: col}
		w.posts = appendPairPostings(appendPostings(appendPostings(w.posts, pos, terms), pos, cred), pos, pairs)
		if voids != "" {
			if err := w.exec(qVoid, tenant, voids); err != nil {
				return nil, 0, mapErr(err, "cannot store statements")
			}
			v.void(voids)
		}
		if v.isReferred(id) {
			if err := w.propagate(id, terms); err != nil {
				return nil, 0, err
			}
		}
		if ref != "" {
			v.own.referred[ref] = true
		}
		pos++
	}
	return res, pos, nil
}

// withoutCredentials returns terms without the tenant's credential terms,
// which the terms column of a statement stored by an earlier version of
// this package may hold.
func (w *writeTx) withoutCredentials(terms termIDs) (termIDs, error) {
	creds, ok := w.credTerms[w.tenant]
	if !ok {
		creds = map[int64]bool{}
		err := w.query(qCredentialTerms, []any{w.tenant}, func(rows *sql.Rows) error {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			creds[id] = true
			return nil
		})
		if err != nil {
			return nil, mapErr(err, "cannot store statements")
		}
		if w.credTerms == nil {
			w.credTerms = map[string]map[int64]bool{}
		}
		w.credTerms[w.tenant] = creds
	}
	if len(creds) == 0 {
		return terms, nil
	}
	out := make(termIDs, 0, len(terms))
	for _, id := range terms {
		if !creds[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// among returns the ids that b, a query of one column over a list of
// ids, finds.
func (w *writeTx) among(b *batched, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	err := w.queryBatched(b, []any{w.tenant}, len(ids), func(a []any, i int) []any { return append(a, ids[i]) },
		func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			found[id] = true
			return nil
		})
	return found, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// assignTerms returns the ids of the terms, giving the new ones the next
// free ids, and notes their new postings in w.counts. The group's terms
// stored before the request were read ahead (readAhead); the new ones go
// into the dictionary at commit (insertTerms), with those of the other
// requests.
func (w *writeTx) assignTerms(counts map[string]int) map[string]int64 {
	ids := make(map[string]int64, len(counts))
	var missing []string
	for t := range counts {
		if id, ok := w.groupTerms[termKey{w.tenant, t}]; ok {
			ids[t] = id
		} else {
			missing = append(missing, t)
		}
	}
	slices.Sort(missing)
	for _, t := range missing {
		ids[t] = w.nextTerm
		w.learned[termKey{w.tenant, t}] = w.nextTerm
		w.nextTerm++
	}
	for t, n := range counts {
		w.counts[ids[t]] += n
	}
	return ids
}

// newTerm is a term added to the dictionary.
type newTerm struct {
	termKey
	id int64
}

// insertTerms adds a group's new terms to the dictionary, in id order.
func (w *writeTx) insertTerms(terms []newTerm) error {
	slices.SortFunc(terms, func(a, b newTerm) int { return cmp.Compare(a.id, b.id) })
	err := w.execBatched(bInsertTerms, nil, len(terms), func(a []any, i int) []any {
		return append(a, terms[i].id, terms[i].tenant, terms[i].term)
	})
	return mapErr(err, "cannot store statements")
}

// countTerms adds the group's new postings to the terms' counts: one
// update per term per group commit, not per statement.
func (w *writeTx) countTerms(counts map[int64]int) error {
	ids := slices.Sorted(maps.Keys(counts))
	err := w.execBatched(bCountTerms, nil, len(ids), func(a []any, i int) []any {
		return append(a, ids[i], counts[ids[i]])
	})
	return mapErr(err, "cannot store statements")
}

// posting is one row of the postings table (other 0) or of the
// pair_postings table (term is the agent's, pairs.go).
type posting struct{ term, other, pos int64 }

func (p posting) key() listKey { return listKey{p.term, p.other} }

func appendPostings(p []posting, pos int64, terms termIDs) []posting {
	for _, t := range terms {
		p = append(p, posting{term: t, pos: pos})
	}
	return p
}

// sortPostings sorts postings in index order.
func sortPostings(p []posting) {
	slices.SortFunc(p, func(a, b posting) int {
		return cmp.Or(cmp.Compare(a.term, b.term), cmp.Compare(a.other, b.other), cmp.Compare(a.pos, b.pos))
	})
}

// insertPostings adds a group's postings in index order.
func (w *writeTx) insertPostings(p []posting) error {
	sortPostings(p)
	singles, pairs := splitPostings(p)
	err := w.execBatched(bInsertPostings, nil, len(singles), func(a []any, i int) []any {
		return append(a, singles[i].term, singles[i].pos)
	})
	if err == nil {
		err = w.execBatched(bInsertPairs, nil, len(pairs), func(a []any, i int) []any {
			return append(a, pairs[i].term, pairs[i].other, pairs[i].pos)
		})
	}
	return mapErr(err, "cannot store statements")
}

// propagate gives the statements that refer to id (and, transitively,
// those that refer to them) the terms add, which id has just gained.
func (w *writeTx) propagate(id string, add termIDs) error {
	type gain struct {
		id  string
		add termIDs
	}
	queue := []gain{{id, add}}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		type referrer struct {
			pos          int64
			id           string
			terms, pairs []byte
		}
		var refs []referrer
		err := w.query(qReferrers, []any{w.tenant, g.id}, func(rows *sql.Rows) error {
			var r referrer
			if err := rows.Scan(&r.pos, &r.id, &r.terms, &r.pairs); err != nil {
				return err
			}
			refs = append(refs, r)
			return nil
		})
		if err != nil {
			return mapErr(err, "cannot store statements")
		}
		for _, r := range refs {
			cur, err := decodeTermIDs(r.terms)
			if err != nil {
				return statements.Internal(err, "cannot store statements")
			}
			all, added := cur.union(g.add)
			if len(added) == 0 {
				continue
			}
			had, err := decodePairs(r.pairs)
			if err != nil {
				return statements.Internal(err, "cannot store statements")
			}
			pairs, err := w.pairsFor(all)
			if err != nil {
				return err
			}
			col := all.encode()
			if err := w.exec(qSetTerms, col, encodePairs(pairs), r.pos); err != nil {
				return mapErr(err, "cannot store statements")
			}
			w.view.setTerms(r.id, col)
			w.posts = appendPairPostings(appendPostings(w.posts, r.pos, added), r.pos, missingPairs(pairs, had))
			queue = append(queue, gain{r.id, added})
		}
	}
	return nil
}
