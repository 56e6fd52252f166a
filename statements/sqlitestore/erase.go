package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

// erasureSchema holds the erasures (schema version 7):
//
//	erasure_log   position INTEGER PRIMARY KEY (a position of the log, from
//	              the same sequence as the statements'), tenant, stored,
//	              erasure (its id), subject, erased and pseudonymised (JSON
//	              arrays of statement ids): one row per step of an erasure
//	erasures      (tenant, id) PRIMARY KEY, receipt (JSON)
//	erasure_keys  tenant PRIMARY KEY, key: each tenant's erasure key
//	retention     tenant PRIMARY KEY, days: how long a tenant keeps its
//	              statements (retention.go)
//	log_end       the highest position given before EraseBefore deleted
//	              statements, which may have been the last: positions are
//	              never given twice
var erasureSchema = []string{
	`CREATE TABLE erasure_log (
		position      INTEGER PRIMARY KEY,
		tenant        TEXT    NOT NULL,
		stored        INTEGER NOT NULL,
		erasure       TEXT    NOT NULL,
		subject       TEXT    NOT NULL,
		erased        TEXT    NOT NULL,
		pseudonymised TEXT    NOT NULL
	)`,
	`CREATE TABLE erasures (
		tenant  TEXT NOT NULL,
		id      TEXT NOT NULL,
		receipt TEXT NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
	`CREATE TABLE erasure_keys (
		tenant TEXT PRIMARY KEY,
		key    BLOB NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE retention (
		tenant TEXT    PRIMARY KEY,
		days   INTEGER NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE log_end (
		id       INTEGER PRIMARY KEY CHECK (id = 1),
		position INTEGER NOT NULL
	)`,
}

// ErasureKey returns the tenant's erasure key, made on first use; see
// statements.Eraser.
func (s *Store) ErasureKey(ctx context.Context, tenant string) ([]byte, error) {
	var key []byte
	err := s.r.QueryRowContext(ctx, `SELECT key FROM erasure_keys WHERE tenant = ?`, tenant).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, mapErr(err, "cannot read the erasure key")
	}
	key = make([]byte, statements.ErasureKeySize)
	rand.Read(key)
	if err := s.exec(ctx, `INSERT INTO erasure_keys (tenant, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, tenant, key); err != nil {
		return nil, mapErr(err, "cannot make the erasure key")
	}
	err = s.w.QueryRowContext(ctx, `SELECT key FROM erasure_keys WHERE tenant = ?`, tenant).Scan(&key)
	return key, mapErr(err, "cannot read the erasure key")
}

// ErasureReceipt returns the receipt of an erasure; see statements.Eraser.
func (s *Store) ErasureReceipt(ctx context.Context, tenant, id string) (*statements.ErasureReceipt, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT receipt FROM erasures WHERE tenant = ? AND id = ?`, tenant, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, statements.Errorf(statements.ENotFound, "no erasure %s", id)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read the erasure")
	}
	var rc statements.ErasureReceipt
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, statements.Internal(err, "cannot read the erasure")
	}
	return &rc, nil
}

func (s *Store) saveReceipt(ctx context.Context, tenant string, rc *statements.ErasureReceipt) error {
	b, _ := json.Marshal(rc)
	return mapErr(s.exec(ctx, `INSERT INTO erasures (tenant, id, receipt) VALUES (?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET receipt = excluded.receipt`, tenant, rc.ID, string(b)),
		"cannot keep the erasure's receipt")
}

// EraseAgent erases an agent; see statements.Eraser.
//
// Each step runs under the write lock in one transaction: it takes the
// first ErasureBatch positions of the posting lists of the agent's terms,
// deletes or rewrites those statements, and appends its entry to the log
// at the next position. Statements committed before a step are in its
// posting lists; those committed after it are after its entry. The step
// that finds fewer positions than a batch has taken all there were: the
// agent's terms leave the dictionary in its transaction, and the erasure
// ends with it.
func (s *Store) EraseAgent(ctx context.Context, tenant string, e statements.Erasure) (*statements.ErasureReceipt, error) {
	if err := e.Check(); err != nil {
		return nil, err
	}
	prev, err := s.ErasureReceipt(ctx, tenant, e.ID)
	if statements.ErrorCode(err) == statements.ENotFound {
		prev, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	rc := e.NextRun(prev)
	if err := s.saveReceipt(ctx, tenant, rc); err != nil {
		return nil, err
	}
	atts := map[string]bool{}
	for {
		start := time.Now()
		st, err := s.eraseStep(ctx, tenant, &e)
		if err != nil {
			return nil, err
		}
		rc.StatementsDeleted += len(st.Erased)
		rc.StatementsPseudonymised += len(st.Pseudonymised)
		maps.Copy(atts, st.atts)
		if st.done {
			break
		}
		// The writers queued meanwhile go first: the write lock is no
		// queue, and the next step would take it again at once.
		if err := pause(ctx, min(time.Since(start), 50*time.Millisecond)); err != nil {
			return nil, err
		}
	}
	n, err := s.DeleteAgentDocuments(ctx, tenant, e.Agent)
	if err != nil {
		return nil, err
	}
	rc.Documents += n
	if n, err = s.deleteUnusedAttachments(ctx, tenant, atts); err != nil {
		return nil, err
	}
	rc.Attachments += n
	rc.Status, rc.Completed = statements.ErasureCompleted, s.now().UTC()
	if err := s.saveReceipt(ctx, tenant, rc); err != nil {
		return nil, err
	}
	return rc, nil
}

// step is what one step of an erasure did.
type step struct {
	statements.ErasureEntry
	atts map[string]bool // the attachments of the deleted statements
	done bool            // nothing is left to erase
}

// erasedRow is a statement a step reads.
type erasedRow struct {
	pos        int64
	id, voids  string
	credential string
	terms      []byte
	pairs      []byte
	raw        []byte
	deleted    bool
}

func (s *Store) eraseStep(ctx context.Context, tenant string, e *statements.Erasure) (*step, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	// The step reads and changes the postings table: it holds them all.
	if err := s.mergeAll(ctx); err != nil {
		return nil, err
	}
	stored := s.beginWrite()
	committed := false
	defer func() { s.endWrite(stored, committed) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err, "cannot erase")
	}
	defer tx.Rollback()
	st := &step{ErasureEntry: statements.ErasureEntry{ID: e.ID, Subject: e.Subject}, atts: map[string]bool{}}
	x := &eraseTx{ctx: ctx, tx: tx, tenant: tenant, counts: map[int64]int{}, nextTerm: s.nextTerm, learned: map[termKey]int64{}}

	agentTerms, pseudoTerms := e.AgentTerms()
	kids := map[int64]string{} // the agent's term ids -> the term replacing each
	for i, t := range agentTerms {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`, tenant, t).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, mapErr(err, "cannot erase")
		}
		kids[id] = pseudoTerms[i]
	}
	if len(kids) == 0 {
		st.done = true
		return st, nil
	}
	ids := slices.Sorted(maps.Keys(kids))
	var positions []int64
	err = x.rows(`SELECT DISTINCT position FROM postings WHERE term_id IN (`+placeholders(len(ids))+`) ORDER BY position LIMIT ?`,
		append(anys(ids), statements.ErasureBatch), func(r *sql.Rows) error {
			var p int64
			err := r.Scan(&p)
			positions = append(positions, p)
			return err
		})
	if err != nil {
		return nil, err
	}
	if len(positions) == 0 {
		// Nothing names the agent any more: its terms leave the dictionary.
		for _, id := range ids {
			if err := x.exec(`DELETE FROM terms WHERE term_id = ?`, id); err != nil {
				return nil, err
			}
			if err := x.exec(`DELETE FROM term_counts WHERE term_id = ?`, id); err != nil {
				return nil, err
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, mapErr(err, "cannot erase")
		}
		committed = true
		for _, t := range agentTerms {
			delete(s.terms, termKey{tenant, t})
		}
		s.qterms.clear()
		st.done = true
		return st, nil
	}

	rows := map[int64]*erasedRow{}
	byID := map[string]*erasedRow{}
	err = x.rows(`SELECT position, id, coalesce(voids, ''), credential, terms, pairs, statement FROM statements
		WHERE tenant = ? AND position IN (`+placeholders(len(positions))+`)`, append([]any{tenant}, anys(positions)...),
		func(r *sql.Rows) error {
			var w erasedRow
			if err := r.Scan(&w.pos, &w.id, &w.voids, &w.credential, &w.terms, &w.pairs, &w.raw); err != nil {
				return err
			}
			raw, err := decodeStatement(w.raw)
			if err != nil {
				return err
			}
			w.raw = raw
			rows[w.pos], byID[w.id] = &w, &w
			return nil
		})
	if err != nil {
		return nil, err
	}
	// What the step deletes: the agent's statements, then the voiding
	// statements of deleted ones.
	for _, w := range rows {
		if w.deleted, err = e.Deletes(w.raw); err != nil {
			return nil, err
		}
	}
	for _, w := range rows {
		if w.deleted || w.voids == "" {
			continue
		}
		if t, ok := byID[w.voids]; ok {
			w.deleted = t.deleted
			continue
		}
		var raw []byte
		err := tx.QueryRowContext(ctx, `SELECT statement FROM statements WHERE tenant = ? AND id = ?`, tenant, w.voids).Scan(&raw)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// It names the agent only through the statement it voids,
			// which an earlier step deleted.
			_, names, err := e.Rewrite(w.raw)
			if err != nil {
				return nil, err
			}
			w.deleted = !names
		case err != nil:
			return nil, mapErr(err, "cannot erase")
		default:
			if raw, err = decodeStatement(raw); err != nil {
				return nil, statements.Internal(err, "cannot erase")
			}
			if w.deleted, err = e.Deletes(raw); err != nil {
				return nil, err
			}
		}
	}

	for _, pos := range positions {
		w, ok := rows[pos]
		if !ok {
			// A posting without its statement: it goes.
			for _, id := range ids {
				if err := x.unpost(id, pos); err != nil {
					return nil, err
				}
			}
			continue
		}
		terms, err := decodeTermIDs(w.terms)
		if err != nil {
			return nil, statements.Internal(err, "cannot erase")
		}
		pairs, err := decodePairs(w.pairs)
		if err != nil {
			return nil, statements.Internal(err, "cannot erase")
		}
		if w.deleted {
			if err := x.unpostPairs(pairs, pos); err != nil {
				return nil, err
			}
			var cred int64
			err := tx.QueryRowContext(ctx, `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`,
				tenant, statements.CredentialTerm(w.credential)).Scan(&cred)
			if err == nil {
				terms = append(terms, cred)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return nil, mapErr(err, "cannot erase")
			}
			for _, id := range terms {
				if err := x.unpost(id, pos); err != nil {
					return nil, err
				}
			}
			if err := x.exec(`DELETE FROM statements WHERE position = ?`, pos); err != nil {
				return nil, err
			}
			st.Erased = append(st.Erased, w.id)
			for _, h := range statements.AttachmentHashes(w.raw) {
				st.atts[h] = true
			}
			continue
		}
		// Kept: the agent's terms become the pseudonym's, in the pairs too.
		var kept []int64
		replaced := map[int64]int64{}
		for _, id := range terms {
			p, ok := kids[id]
			if !ok {
				kept = append(kept, id)
				continue
			}
			pid, err := x.termID(s, p)
			if err != nil {
				return nil, err
			}
			replaced[id] = pid
			kept = append(kept, pid)
			if err := x.unpost(id, pos); err != nil {
				return nil, err
			}
			if err := x.post(pid, pos); err != nil {
				return nil, err
			}
		}
		keptPairs, err := x.renamePairs(pairs, replaced, pos)
		if err != nil {
			return nil, err
		}
		raw, changed, err := e.Rewrite(w.raw)
		if err != nil {
			return nil, err
		}
		col, pcol := sortedIDs(kept).encode(), encodePairs(keptPairs)
		if changed {
			fp, err := statements.Fingerprint(raw)
			if err != nil {
				return nil, statements.Internal(err, "cannot erase")
			}
			err = x.exec(`UPDATE statements SET terms = ?, pairs = ?, statement = ?, fingerprint = ? WHERE position = ?`,
				col, pcol, encodeStatement(raw), fingerprintValue(fp), pos)
			if err != nil {
				return nil, err
			}
		} else if err := x.exec(`UPDATE statements SET terms = ?, pairs = ? WHERE position = ?`, col, pcol, pos); err != nil {
			return nil, err
		}
		st.Pseudonymised = append(st.Pseudonymised, w.id)
	}
	// A step that found fewer postings than a batch took all there were:
	// nothing names the agent any more, and its terms leave the
	// dictionary. The erasure ends here, also while the agent's statements
	// keep arriving (their positions come after this step's entry).
	last := len(positions) < statements.ErasureBatch
	if last {
		for _, id := range ids {
			delete(x.counts, id)
			if err := x.exec(`DELETE FROM terms WHERE term_id = ?`, id); err != nil {
				return nil, err
			}
			if err := x.exec(`DELETE FROM term_counts WHERE term_id = ?`, id); err != nil {
				return nil, err
			}
		}
	}
	for id, n := range x.counts {
		if n == 0 {
			continue
		}
		err := x.exec(`INSERT INTO term_counts (term_id, n) VALUES (?, ?) ON CONFLICT (term_id) DO UPDATE SET n = n + excluded.n`, id, n)
		if err != nil {
			return nil, err
		}
	}
	erased, _ := json.Marshal(orEmpty(st.Erased))
	pseud, _ := json.Marshal(orEmpty(st.Pseudonymised))
	pos := s.nextPos
	err = x.exec(`INSERT INTO erasure_log (position, tenant, stored, erasure, subject, erased, pseudonymised)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, pos, tenant, stored, e.ID, e.Subject, string(erased), string(pseud))
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(err, "cannot erase")
	}
	committed = true
	s.nextPos, s.nextTerm = pos+1, x.nextTerm
	maps.Copy(s.terms, x.learned)
	if last {
		for _, t := range agentTerms {
			delete(s.terms, termKey{tenant, t})
		}
		s.qterms.clear()
		st.done = true
	}
	return st, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// eraseTx is the transaction of an erasure step.
type eraseTx struct {
	ctx      context.Context
	tx       *sql.Tx
	tenant   string
	counts   map[int64]int // changes of the terms' counts of postings
	nextTerm int64
	learned  map[termKey]int64 // terms the step added to the dictionary
}

func (x *eraseTx) exec(q string, args ...any) error {
	_, err := x.tx.ExecContext(x.ctx, q, args...)
	return mapErr(err, "cannot erase")
}

func (x *eraseTx) rows(q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := x.tx.QueryContext(x.ctx, q, args...)
	if err != nil {
		return mapErr(err, "cannot erase")
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return mapErr(err, "cannot erase")
		}
	}
	return mapErr(rows.Err(), "cannot erase")
}

// unpost deletes the posting (term, pos) if there is one.
func (x *eraseTx) unpost(term, pos int64) error {
	res, err := x.tx.ExecContext(x.ctx, `DELETE FROM postings WHERE term_id = ? AND position = ?`, term, pos)
	if err != nil {
		return mapErr(err, "cannot erase")
	}
	n, _ := res.RowsAffected()
	x.counts[term] -= int(n)
	return nil
}

// post adds the posting (term, pos) unless it is there.
func (x *eraseTx) post(term, pos int64) error {
	res, err := x.tx.ExecContext(x.ctx, `INSERT OR IGNORE INTO postings (term_id, position) VALUES (?, ?)`, term, pos)
	if err != nil {
		return mapErr(err, "cannot erase")
	}
	n, _ := res.RowsAffected()
	x.counts[term] += int(n)
	return nil
}

// unpostPairs deletes the pair postings of the statement at pos.
func (x *eraseTx) unpostPairs(pairs []pair, pos int64) error {
	for _, p := range pairs {
		if err := x.exec(`DELETE FROM pair_postings WHERE agent = ? AND other = ? AND position = ?`, p.agent, p.other, pos); err != nil {
			return err
		}
	}
	return nil
}

// renamePairs gives the pairs of the statement at pos whose agent's term
// is replaced the replacing term, and returns its pairs.
func (x *eraseTx) renamePairs(pairs []pair, replaced map[int64]int64, pos int64) ([]pair, error) {
	out := make([]pair, 0, len(pairs))
	for _, p := range pairs {
		to, ok := replaced[p.agent]
		if !ok {
			out = append(out, p)
			continue
		}
		if err := x.unpostPairs([]pair{p}, pos); err != nil {
			return nil, err
		}
		q := pair{to, p.other}
		if err := x.exec(`INSERT OR IGNORE INTO pair_postings (agent, other, position) VALUES (?, ?, ?)`, q.agent, q.other, pos); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	slices.SortFunc(out, comparePairs)
	return slices.CompactFunc(out, func(a, b pair) bool { return a == b }), nil
}

// termID returns the id of term, adding it to the dictionary if needed.
func (x *eraseTx) termID(s *Store, term string) (int64, error) {
	k := termKey{x.tenant, term}
	if id, ok := x.learned[k]; ok {
		return id, nil
	}
	var id int64
	err := x.tx.QueryRowContext(x.ctx, `SELECT term_id FROM terms WHERE tenant = ? AND term = ?`, x.tenant, term).Scan(&id)
	if err == nil {
		x.learned[k] = id
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, mapErr(err, "cannot erase")
	}
	id = x.nextTerm
	if err := x.exec(`INSERT INTO terms (term_id, tenant, term) VALUES (?, ?, ?)`, id, x.tenant, term); err != nil {
		return 0, err
	}
	x.nextTerm++
	x.learned[k] = id
	return id, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func anys[T any](v []T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// deleteUnusedAttachments deletes the files of the attachments among
// hashes that no statement of tenant has, and returns how many it
// deleted. It reads the tenant's statements on the readers, then, under
// the write lock, those stored meanwhile, and deletes there.
func (s *Store) deleteUnusedAttachments(ctx context.Context, tenant string, hashes map[string]bool) (int, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	unused := maps.Clone(hashes)
	check := func(q func(ctx context.Context, query string, args ...any) (*sql.Rows, error), after int64) (int64, error) {
		rows, err := q(ctx, `SELECT position, statement FROM statements WHERE tenant = ? AND position > ? ORDER BY position`, tenant, after)
		if err != nil {
			return 0, mapErr(err, "cannot read the statements")
		}
		defer rows.Close()
		last := after
		for rows.Next() && len(unused) > 0 {
			var col []byte
			if err := rows.Scan(&last, &col); err != nil {
				return 0, mapErr(err, "cannot read the statements")
			}
			raw, err := decodeStatement(col)
			if err != nil {
				return 0, statements.Internal(err, "cannot read the statements")
			}
			for h := range unused {
				if statements.UsesAttachment(raw, h) {
					delete(unused, h)
				}
			}
		}
		return last, mapErr(rows.Err(), "cannot read the statements")
	}
	last, err := check(s.r.QueryContext, 0)
	if err != nil || len(unused) == 0 {
		return 0, err
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.unlock()
	if _, err := check(s.w.QueryContext, last); err != nil {
		return 0, err
	}
	n := 0
	for h := range unused {
		path, err := s.attachmentPath(ctx, tenant, h)
		if err != nil {
			continue // not a hash the store keeps
		}
		err = os.Remove(path)
		if err == nil {
			n++
		} else if !errors.Is(err, os.ErrNotExist) {
			return n, statements.Internal(err, "cannot delete an attachment")
		}
	}
	return n, nil
}

// readErasures returns the erasure entries of the log with positions in
// (after, through], in order.
func readErasures(ctx context.Context, tx *sql.Tx, after, through int64, limit int) ([]statements.LogEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT position, tenant, stored, erasure, subject, erased, pseudonymised
		FROM erasure_log WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`, after, through, limit)
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	defer rows.Close()
	var out []statements.LogEntry
	for rows.Next() {
		var pos, stored int64
		var tenant, erased, pseud string
		var e statements.ErasureEntry
		if err := rows.Scan(&pos, &tenant, &stored, &e.ID, &e.Subject, &erased, &pseud); err != nil {
			return nil, mapErr(err, "cannot read the statement log")
		}
		if err := json.Unmarshal([]byte(erased), &e.Erased); err != nil {
			return nil, statements.Internal(err, "cannot read the statement log")
		}
		if err := json.Unmarshal([]byte(pseud), &e.Pseudonymised); err != nil {
			return nil, statements.Internal(err, "cannot read the statement log")
		}
		out = append(out, statements.LogEntry{Tenant: tenant, Erasure: &e,
			Record: &statements.Record{Position: pos, Stored: time.UnixMilli(stored).UTC()}})
	}
	return out, mapErr(rows.Err(), "cannot read the statement log")
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return statements.Internal(ctx.Err(), "the erasure was stopped")
	}
}
