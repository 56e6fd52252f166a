package sqlitestore

import (
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
	qExisting    = `SELECT position, stored, fingerprint, voided FROM statements WHERE tenant = ? AND id = ?`
	qTargetVoids = `SELECT voids FROM statements WHERE tenant = ? AND id = ?`
	qTargetTerms = `SELECT terms FROM statements WHERE tenant = ? AND id = ?`
	qIsVoided    = `SELECT 1 FROM statements WHERE tenant = ? AND voids = ? LIMIT 1`
	qTermID      = `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`
	qInsertTerm  = `INSERT INTO terms (tenant, term, n) VALUES (?, ?, ?)`
	qCountTerm   = `UPDATE terms SET n = n + ? WHERE term_id = ?`
	qInsertStmt  = `INSERT INTO statements
		(position, tenant, id, stored, voided, voids, ref_target, fingerprint, credential, terms, statement, stamp)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertPosting = `INSERT INTO postings (term_id, position) VALUES (?, ?)`
	qVoid          = `UPDATE statements SET voided = 1 WHERE tenant = ? AND id = ?`
	qReferrers     = `SELECT position, id, terms FROM statements WHERE tenant = ? AND ref_target = ?`
	qSetTerms      = `UPDATE statements SET terms = ? WHERE position = ?`
)

// writeTx is one write transaction with its statements bound to it.
type writeTx struct {
	ctx    context.Context
	tx     *sql.Tx
	tenant string
	stmts  map[string]*sql.Stmt

	prepared map[string]*sql.Stmt // on the writer connection

	cache   map[termKey]int64 // committed term ids
	learned map[termKey]int64 // term ids to cache once committed
	counts  map[int64]int     // new postings per term id, added to terms.n at commit
}

type termKey struct{ tenant, term string }

var writerQueries = []string{qExisting, qTargetVoids, qTargetTerms, qIsVoided, qTermID, qInsertTerm, qCountTerm,
	qInsertStmt, qInsertPosting, qVoid, qReferrers, qSetTerms}

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
	_, err = st.ExecContext(w.ctx, args...)
	return err
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

	// Compressed before the write lock, in the caller's goroutine: the
	// writer is the part that cannot run in parallel.
	blobs := make([][]byte, len(recs))
	for i, r := range recs {
		if alias[i] == i {
			blobs[i] = encodeStatement(r.Statement)
		}
	}

	var res []result
	err := s.write(ctx, tenant, func(w *writeTx, stored, pos int64) (int64, error) {
		var err error
		res, pos, err = s.insert(w, recs, blobs, alias, stored, pos)
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
	apply  func(w *writeTx, stored, pos int64) (int64, error)

	err  error
	done chan struct{} // closed when the request is written or failed
	lead chan struct{} // closed when the request is to lead the next group
}

// write runs apply in a transaction together with the writes queued beside
// it (statement batches, activity definitions): group commit. One writer at a time leads: it takes the whole queue, runs each
// request in a savepoint of one transaction (a failing request rolls back
// alone) and commits once, so concurrent writers share one sync to disk
// instead of paying one each. Then it hands the lead to the first request
// queued meanwhile. write returns when its request is committed or failed.
func (s *Store) write(ctx context.Context, tenant string, apply func(w *writeTx, stored, pos int64) (int64, error)) error {
	req := &writeRequest{ctx: ctx, tenant: tenant, apply: apply, done: make(chan struct{}), lead: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.qmu.Unlock()
	if !lead {
		select {
		case <-req.done:
			return req.err
		case <-req.lead:
		}
	}

	s.qmu.Lock()
	group := s.queue
	s.queue = nil
	s.qmu.Unlock()

	s.ws <- struct{}{} // the write lock, shared with the store's other writes
	s.commitGroup(group)
	s.unlock()

	s.qmu.Lock()
	if len(s.queue) > 0 {
		close(s.queue[0].lead)
	} else {
		s.leading = false
	}
	s.qmu.Unlock()
	return req.err
}

// commitGroup runs the requests of a group in one transaction, under the
// write lock, and marks each done.
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
	committed := false
	defer func() { s.endWrite(stored, committed) }()

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(group, mapErr(err, "cannot store statements"))
		return
	}
	defer tx.Rollback()
	w := &writeTx{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, prepared: s.prepared, cache: s.terms}
	learned := map[termKey]int64{}
	counts := map[int64]int{}
	pos := s.nextPos
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = statements.Internal(err, "the request ended before the store could write")
			continue
		}
		// A request alone in its group fails with the transaction; with
		// others it rolls back to its savepoint.
		alone := len(group) == 1
		if !alone {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT request`); err != nil {
				r.err = mapErr(err, "cannot store statements")
				continue
			}
		}
		w.tenant, w.learned, w.counts = r.tenant, map[termKey]int64{}, map[int64]int{}
		next, err := r.apply(w, stored, pos)
		if err != nil {
			r.err = err
			if alone {
				return
			}
			_, err = tx.ExecContext(ctx, `ROLLBACK TO request`)
			if err == nil {
				_, err = tx.ExecContext(ctx, `RELEASE request`)
			}
			if err != nil {
				failAll(group, mapErr(err, "cannot store statements"))
				return
			}
			continue
		}
		if !alone {
			if _, err := tx.ExecContext(ctx, `RELEASE request`); err != nil {
				failAll(group, mapErr(err, "cannot store statements"))
				return
			}
		}
		pos = next
		maps.Copy(learned, w.learned)
		for id, n := range w.counts {
			counts[id] += n
		}
	}
	if err := w.countTerms(counts); err != nil {
		failAll(group, err)
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(group, mapErr(err, "cannot store statements"))
		return
	}
	committed = true
	s.nextPos = pos
	if len(s.terms)+len(learned) > termCacheSize {
		clear(s.terms)
	}
	maps.Copy(s.terms, learned)
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

// insert writes one request's records in w's transaction, giving the new
// ones positions from pos on, and returns the outcome of each first record
// of an id and the next free position. blobs holds the statement column of
// each first record of an id.
func (s *Store) insert(w *writeTx, recs []*statements.Record, blobs [][]byte, alias []int, stored, pos int64) ([]result, int64, error) {
	tenant := w.tenant
	res := make([]result, len(recs))

	// Known ids: idempotent or conflicting; voiding rules for stored targets.
	isNew := make([]bool, len(recs))
	counts := map[string]int{}
	for i, r := range recs {
		if alias[i] != i {
			continue
		}
		id := strings.ToLower(r.ID)
		var pos, st int64
		var fp string
		var voided bool
		found, err := w.row(qExisting, []any{tenant, id}, &pos, &st, fingerprintDest{&fp}, &voided)
		if err != nil {
			return nil, 0, mapErr(err, "cannot store statements")
		}
		if found {
			if fp != r.Fingerprint {
				return nil, 0, statements.Errorf(statements.EConflict,
					"statement %s already exists with different content", id)
			}
			res[i] = result{pos: pos, stored: st, voided: voided}
			continue
		}
		if r.Voids != "" {
			var voids sql.NullString
			found, err := w.row(qTargetVoids, []any{tenant, strings.ToLower(r.Voids)}, &voids)
			if err != nil {
				return nil, 0, mapErr(err, "cannot store statements")
			}
			if found && voids.Valid {
				return nil, 0, errVoidsVoiding(id, r.Voids)
			}
		}
		isNew[i] = true
		for _, t := range r.Terms {
			counts[t]++
		}
	}

	// The term dictionary.
	termID, err := w.upsertTerms(counts)
	if err != nil {
		return nil, 0, err
	}

	for i, r := range recs {
		if !isNew[i] {
			continue
		}
		id := strings.ToLower(r.ID)
		voids, ref := strings.ToLower(r.Voids), strings.ToLower(r.RefTarget)
		own := make([]int64, 0, len(r.Terms))
		for _, t := range r.Terms {
			own = append(own, termID[t])
		}
		terms := sortedIDs(own)
		if ref != "" {
			var b []byte
			found, err := w.row(qTargetTerms, []any{tenant, ref}, &b)
			if err != nil {
				return nil, 0, mapErr(err, "cannot store statements")
			}
			if found {
				target, err := decodeTermIDs(b)
				if err != nil {
					return nil, 0, statements.Internal(err, "cannot store statements")
				}
				terms, _ = terms.union(target)
			}
		}
		voided := false
		if voids == "" {
			var one int
			voided, err = w.row(qIsVoided, []any{tenant, id}, &one)
			if err != nil {
				return nil, 0, mapErr(err, "cannot store statements")
			}
		}
		err := w.exec(qInsertStmt, pos, tenant, id, stored, voided, nullable(voids), nullable(ref),
			fingerprintValue(r.Fingerprint), r.Credential, terms.encode(), blobs[i], r.StampTimestamp)
		if err != nil {
			return nil, 0, mapErr(err, "cannot store statement "+id)
		}
		if err := w.postings(pos, terms); err != nil {
			return nil, 0, err
		}
		if voids != "" {
			if err := w.exec(qVoid, tenant, voids); err != nil {
				return nil, 0, mapErr(err, "cannot store statements")
			}
		}
		if err := w.propagate(id, terms); err != nil {
			return nil, 0, err
		}
		res[i] = result{pos: pos, stored: stored, voided: voided}
		pos++
	}
	return res, pos, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// upsertTerms adds the terms to the dictionary, notes their new postings
// in w.counts, and returns their ids.
func (w *writeTx) upsertTerms(counts map[string]int) (map[string]int64, error) {
	terms := make([]string, 0, len(counts))
	for t := range counts {
		terms = append(terms, t)
	}
	slices.Sort(terms)
	ids := make(map[string]int64, len(terms))
	for _, t := range terms {
		k := termKey{w.tenant, t}
		id, ok := w.cache[k]
		if !ok {
			found, err := w.row(qTermID, []any{w.tenant, t}, &id)
			if err != nil {
				return nil, mapErr(err, "cannot store statements")
			}
			if !found {
				st, err := w.stmt(qInsertTerm)
				if err != nil {
					return nil, mapErr(err, "cannot store statements")
				}
				res, err := st.ExecContext(w.ctx, w.tenant, t, 0)
				if err != nil {
					return nil, mapErr(err, "cannot store statements")
				}
				if id, err = res.LastInsertId(); err != nil {
					return nil, mapErr(err, "cannot store statements")
				}
			}
			w.learned[k] = id
		}
		w.counts[id] += counts[t]
		ids[t] = id
	}
	return ids, nil
}

// countTerms adds the group's new postings to the terms' counts: one
// update per term per group commit, not per statement.
func (w *writeTx) countTerms(counts map[int64]int) error {
	ids := slices.Sorted(maps.Keys(counts))
	for _, id := range ids {
		if err := w.exec(qCountTerm, counts[id], id); err != nil {
			return mapErr(err, "cannot store statements")
		}
	}
	return nil
}

func (w *writeTx) postings(pos int64, terms termIDs) error {
	for _, t := range terms {
		if err := w.exec(qInsertPosting, t, pos); err != nil {
			return mapErr(err, "cannot store statements")
		}
	}
	return nil
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
			pos   int64
			id    string
			terms []byte
		}
		var refs []referrer
		err := func() error {
			st, err := w.stmt(qReferrers)
			if err != nil {
				return err
			}
			rows, err := st.QueryContext(w.ctx, w.tenant, g.id)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r referrer
				if err := rows.Scan(&r.pos, &r.id, &r.terms); err != nil {
					return err
				}
				refs = append(refs, r)
			}
			return rows.Err()
		}()
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
			if err := w.exec(qSetTerms, all.encode(), r.pos); err != nil {
				return mapErr(err, "cannot store statements")
			}
			if err := w.postings(r.pos, added); err != nil {
				return err
			}
			queue = append(queue, gain{r.id, added})
		}
	}
	return nil
}
