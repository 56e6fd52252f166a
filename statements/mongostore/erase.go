package mongostore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// Erasures keep three collections:
//
//	erasurelog   _id = sequence of the block   one document per step of an
//	             {pos}                         erasure, at the position of
//	                                           its block: ReadLog
//	erasures     _id = tenant/id               the receipts
//	erasurekeys  _id = tenant                  each tenant's erasure key
//
// A step reserves a block of one position like a batch of statements,
// waits until every block before it is done (so every statement at a
// lower position is visible to it, and every later one is after its
// entry), deletes and rewrites up to ErasureBatch statements below its
// position, writes its entry and commits the block. A step whose block
// another writer settled first (it outlived its lease) writes its entry
// again in a new block: the entry may then be read twice, never missed.

func (s *Store) erasureLog() *mongo.Collection  { return s.db.Collection("erasurelog") }
func (s *Store) erasureDocs() *mongo.Collection { return s.db.Collection("erasures") }
func (s *Store) erasureKeys() *mongo.Collection { return s.db.Collection("erasurekeys") }

// erasureIndexes are the indexes of the erasures.
func (s *Store) erasureIndexes() []index {
	return []index{
		// ReadLog: the entries in position order.
		{coll: s.erasureLog(), name: "pos", keys: bson.D{{Key: "pos", Value: 1}}},
	}
}

type erasureKeyDoc struct {
	ID  string `bson:"_id"`
	Key []byte `bson:"key"`
}

// ErasureKey returns the tenant's erasure key, made on first use; see
// statements.Eraser. The first insert decides between racing callers.
func (s *Store) ErasureKey(ctx context.Context, tenant string) ([]byte, error) {
	var d erasureKeyDoc
	err := s.erasureKeys().FindOne(ctx, bson.D{{Key: "_id", Value: tenant}}).Decode(&d)
	if err == nil {
		return d.Key, nil
	}
	if !isNoDocuments(err) {
		return nil, mapErr(err, "cannot read the erasure key")
	}
	d = erasureKeyDoc{ID: tenant, Key: make([]byte, statements.ErasureKeySize)}
	rand.Read(d.Key)
	if _, err := s.erasureKeys().InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
		return nil, mapErr(err, "cannot make the erasure key")
	}
	err = s.erasureKeys().FindOne(ctx, bson.D{{Key: "_id", Value: tenant}}).Decode(&d)
	return d.Key, mapErr(err, "cannot read the erasure key")
}

type receiptDoc struct {
	ID      string `bson:"_id"` // tenant/id
	Tenant  string `bson:"tn"`
	Receipt []byte `bson:"r"` // JSON
}

// ErasureReceipt returns the receipt of an erasure; see statements.Eraser.
func (s *Store) ErasureReceipt(ctx context.Context, tenant, id string) (*statements.ErasureReceipt, error) {
	var d receiptDoc
	err := s.erasureDocs().FindOne(ctx, bson.D{{Key: "_id", Value: key(tenant, id)}}).Decode(&d)
	if isNoDocuments(err) {
		return nil, statements.Errorf(statements.ENotFound, "no erasure %s", id)
	}
	if err != nil {
		return nil, mapErr(err, "cannot read the erasure")
	}
	var rc statements.ErasureReceipt
	if err := json.Unmarshal(d.Receipt, &rc); err != nil {
		return nil, statements.Internal(err, "cannot read the erasure")
	}
	return &rc, nil
}

func (s *Store) saveReceipt(ctx context.Context, tenant string, rc *statements.ErasureReceipt) error {
	b, _ := json.Marshal(rc)
	d := receiptDoc{ID: key(tenant, rc.ID), Tenant: tenant, Receipt: b}
	_, err := s.erasureDocs().ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true))
	return mapErr(err, "cannot keep the erasure's receipt")
}

// EraseAgent erases an agent; see statements.Eraser and the comment
// above.
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
		st, err := s.eraseStep(ctx, tenant, &e)
		if err != nil {
			return nil, err
		}
		rc.StatementsDeleted += len(st.Erased)
		rc.StatementsPseudonymised += len(st.Pseudonymised)
		maps.Copy(atts, st.atts)
		if st.done || st.last {
			break
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

type step struct {
	statements.ErasureEntry
	atts map[string]bool
	done bool // nothing was left to erase
	// last: the step found fewer statements than a batch, so it erased
	// all there were before its entry. The erasure ends with it, also
	// while the agent's statements keep arriving (after the entry).
	last bool
}

// entryDoc is an erasure's entry in the log.
type entryDoc struct {
	ID            string   `bson:"_id"` // seqID of its block
	Pos           int64    `bson:"pos"`
	Tenant        string   `bson:"tn"`
	Stored        int64    `bson:"st"`
	Erasure       string   `bson:"e"`
	Subject       string   `bson:"sub"`
	Erased        []string `bson:"del"`
	Pseudonymised []string `bson:"ps"`
}

// waitBefore waits until every block before b is done.
func (s *Store) waitBefore(ctx context.Context, b *block) error {
	for attempt := 0; ; attempt++ {
		l, err := s.currentLog(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(l.open, func(o block) bool { return o.Seq < b.Seq }) {
			return nil
		}
		if err := backoff(ctx, attempt+2); err != nil {
			return err
		}
	}
}

func (s *Store) eraseStep(ctx context.Context, tenant string, e *statements.Erasure) (*step, error) {
	// Nothing names the agent: no block, no entry. A statement that
	// becomes visible later has a position after the last entry, whose
	// step saw every statement before it.
	agentTerms, _ := e.AgentTerms()
	err := s.stmts.FindOne(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "terms", Value: bson.D{{Key: "$in", Value: agentTerms}}}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if isNoDocuments(err) {
		return &step{done: true}, nil
	}
	if err != nil {
		return nil, mapErr(err, "cannot erase")
	}
	b, err := s.reserve(ctx, tenant, 1)
	if err != nil {
		return nil, err
	}
	// From here on the step finishes what it starts.
	ctx = context.WithoutCancel(ctx)
	st, err := s.eraseIn(ctx, tenant, e, b)
	if st == nil || st.done || len(st.Erased)+len(st.Pseudonymised) == 0 {
		if derr := s.done(ctx, b); err == nil {
			err = derr
		}
		return st, err
	}
	// What the step did, or began to do before it failed, goes to the
	// log: a statement named there and not deleted after all is erased
	// by the next run, and named again.
	stepErr := err
	if err := s.writeEntry(ctx, tenant, b, &st.ErasureEntry); err != nil {
		return nil, errors.Join(stepErr, err)
	}
	for {
		committed, err := s.decide(ctx, b, true)
		if err != nil {
			return nil, errors.Join(stepErr, err)
		}
		if committed {
			if err := s.done(ctx, b); err != nil || stepErr != nil {
				return nil, errors.Join(stepErr, err)
			}
			return st, nil
		}
		// Settled by another writer: the entry goes again, later.
		s.erasureLog().DeleteOne(ctx, bson.D{{Key: "_id", Value: b.ID}})
		if b, err = s.reserve(ctx, tenant, 1); err != nil {
			return nil, err
		}
		if err := s.writeEntry(ctx, tenant, b, &st.ErasureEntry); err != nil {
			return nil, errors.Join(stepErr, err)
		}
	}
}

func (s *Store) writeEntry(ctx context.Context, tenant string, b *block, x *statements.ErasureEntry) error {
	d := entryDoc{ID: b.ID, Pos: b.Lo, Tenant: tenant, Stored: b.St, Erasure: x.ID, Subject: x.Subject,
		Erased: orEmpty(x.Erased), Pseudonymised: orEmpty(x.Pseudonymised)}
	_, err := s.erasureLog().InsertOne(ctx, d)
	return mapErr(err, "cannot write the erasure to the log")
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// eraseIn does the work of a step in block b.
func (s *Store) eraseIn(ctx context.Context, tenant string, e *statements.Erasure, b *block) (*step, error) {
	st := &step{ErasureEntry: statements.ErasureEntry{ID: e.ID, Subject: e.Subject}, atts: map[string]bool{}}
	if err := s.waitBefore(ctx, b); err != nil {
		return nil, err
	}
	agentTerms, _ := e.AgentTerms()
	cur, err := s.stmts.Find(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "terms", Value: bson.D{{Key: "$in", Value: agentTerms}}},
		{Key: "pos", Value: bson.D{{Key: "$lt", Value: b.Lo}}}},
		options.Find().SetSort(bson.D{{Key: "pos", Value: 1}}).SetLimit(statements.ErasureBatch))
	if err != nil {
		return nil, mapErr(err, "cannot erase")
	}
	var docs []stmtDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot erase")
	}
	if len(docs) == 0 {
		st.done = true
		return st, nil
	}
	st.last = len(docs) < statements.ErasureBatch
	deleted := make([]bool, len(docs))
	byKey := map[string]int{}
	for i := range docs {
		byKey[docs[i].ID] = i
		if deleted[i], err = e.Deletes(docs[i].Statement); err != nil {
			return nil, err
		}
	}
	for i := range docs {
		d := &docs[i]
		if deleted[i] || d.Voids == "" {
			continue
		}
		if j, ok := byKey[d.Voids]; ok {
			deleted[i] = deleted[j]
			continue
		}
		var t stmtDoc
		err := s.stmts.FindOne(ctx, bson.D{{Key: "_id", Value: d.Voids}}).Decode(&t)
		if err != nil && !isNoDocuments(err) {
			return nil, mapErr(err, "cannot erase")
		}
		if err != nil {
			// It names the agent only through the statement it voids,
			// which an earlier step deleted.
			_, names, err := e.Rewrite(d.Statement)
			if err != nil {
				return nil, err
			}
			deleted[i] = !names
			continue
		}
		if deleted[i], err = e.Deletes(t.Statement); err != nil {
			return nil, err
		}
	}
	var gone []string
	for i := range docs {
		d := &docs[i]
		if deleted[i] {
			gone = append(gone, d.ID)
			st.Erased = append(st.Erased, d.SID)
			for _, h := range statements.AttachmentHashes(d.Statement) {
				st.atts[h] = true
			}
			continue
		}
		// The pseudonym's terms are added, then the agent's pulled: two
		// updates of the array that leave alone the terms a concurrent
		// batch adds (see "Voiding and references" in doc.go).
		var add, pull []string
		for _, t := range d.Terms {
			if p, ok := e.Term(t); ok {
				add, pull = append(add, p), append(pull, t)
			}
		}
		update := bson.D{}
		if len(add) > 0 {
			update = append(update, bson.E{Key: "$addToSet", Value: bson.D{{Key: "terms", Value: bson.D{{Key: "$each", Value: add}}}}})
		}
		raw, changed, err := e.Rewrite(d.Statement)
		if err != nil {
			return st, err
		}
		if changed {
			fp, err := statements.Fingerprint(raw)
			if err != nil {
				return st, statements.Internal(err, "cannot erase")
			}
			update = append(update, bson.E{Key: "$set", Value: bson.D{{Key: "stmt", Value: raw}, {Key: "fp", Value: fp}}})
		}
		if len(update) > 0 {
			if _, err := s.stmts.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, update); err != nil {
				return st, mapErr(err, "cannot erase")
			}
		}
		if len(pull) > 0 {
			_, err := s.stmts.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{{Key: "$pullAll", Value: bson.D{{Key: "terms", Value: pull}}}})
			if err != nil {
				return st, mapErr(err, "cannot erase")
			}
		}
		st.Pseudonymised = append(st.Pseudonymised, d.SID)
	}
	if len(gone) > 0 {
		var links []string
		for _, k := range gone {
			links = append(links, linkRef+":"+k, linkVoids+":"+k)
		}
		if _, err := s.links.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: links}}}}); err != nil {
			return st, mapErr(err, "cannot erase")
		}
		if _, err := s.stmts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: gone}}}}); err != nil {
			return st, mapErr(err, "cannot erase")
		}
	}
	return st, nil
}

// deleteUnusedAttachments deletes the attachments among hashes that no
// statement of tenant has, and returns how many it deleted. It reads the
// tenant's statements: an erasure is rare, and no index knows which
// statements hold an attachment.
func (s *Store) deleteUnusedAttachments(ctx context.Context, tenant string, hashes map[string]bool) (int, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	unused := maps.Clone(hashes)
	cur, err := s.stmts.Find(ctx, bson.D{{Key: "tn", Value: tenant}},
		options.Find().SetProjection(bson.D{{Key: "stmt", Value: 1}}))
	if err != nil {
		return 0, mapErr(err, "cannot read the statements")
	}
	defer cur.Close(ctx)
	for len(unused) > 0 && cur.Next(ctx) {
		var d struct {
			Statement []byte `bson:"stmt"`
		}
		if err := cur.Decode(&d); err != nil {
			return 0, mapErr(err, "cannot read the statements")
		}
		for h := range unused {
			if statements.UsesAttachment(d.Statement, h) {
				delete(unused, h)
			}
		}
	}
	if err := cur.Err(); err != nil {
		return 0, mapErr(err, "cannot read the statements")
	}
	n := 0
	for h := range unused {
		id := tenant + "/" + h
		var f fileDoc
		err := s.files.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&f)
		if isNoDocuments(err) {
			continue
		}
		if err != nil {
			return n, mapErr(err, "cannot delete an attachment")
		}
		if _, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return n, mapErr(err, "cannot delete an attachment")
		}
		if _, err := s.chunks.DeleteMany(ctx, bson.D{{Key: "u", Value: f.Upload}}); err != nil {
			return n, mapErr(err, "cannot delete an attachment")
		}
		n++
	}
	return n, nil
}

// readErasures returns the erasure entries with positions in (after,
// through], at most limit.
func (s *Store) readErasures(ctx context.Context, after, through int64, limit int) ([]statements.LogEntry, error) {
	cur, err := s.erasureLog().Find(ctx, bson.D{{Key: "pos", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: through}}}},
		options.Find().SetSort(bson.D{{Key: "pos", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	var docs []entryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	out := make([]statements.LogEntry, len(docs))
	for i, d := range docs {
		out[i] = statements.LogEntry{Tenant: d.Tenant,
			Record:  &statements.Record{Position: d.Pos, Stored: time.UnixMilli(d.Stored).UTC()},
			Erasure: &statements.ErasureEntry{ID: d.Erasure, Subject: d.Subject, Erased: d.Erased, Pseudonymised: d.Pseudonymised}}
	}
	return out, nil
}

// mergeLog merges the erasure entries es into the statements' entries
// out, both in position order, and keeps the first limit.
func mergeLog(out, es []statements.LogEntry, limit int) []statements.LogEntry {
	if len(es) == 0 {
		return out
	}
	out = append(out, es...)
	slices.SortFunc(out, func(a, b statements.LogEntry) int { return cmp.Compare(a.Record.Position, b.Record.Position) })
	return out[:min(len(out), limit)]
}
