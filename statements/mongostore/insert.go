package mongostore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// stmtDoc is a statement document, pending (in the pending collection,
// claiming its _id while its batch is in flight) or stored (in the
// statements collection, once its batch committed). Every free-form part of
// the statement is in Stmt, as bytes: no xAPI key ever becomes a BSON key.
type stmtDoc struct {
	ID          string   `bson:"_id"` // key(tenant, id)
	Tenant      string   `bson:"tn"`
	SID         string   `bson:"sid"`
	Pos         int64    `bson:"pos"`
	Stored      int64    `bson:"st"` // unix ms
	Block       int64    `bson:"r"`  // the block of the batch that wrote it
	Voided      bool     `bson:"v"`
	Voids       string   `bson:"vd,omitempty"`  // key of the statement it voids
	Ref         string   `bson:"ref,omitempty"` // key of the statement its object refers to
	Fingerprint string   `bson:"fp"`
	Credential  string   `bson:"cred"`
	Stamp       bool     `bson:"stamp"`
	Terms       []string `bson:"terms,omitempty"` // own and inherited
	Statement   []byte   `bson:"stmt"`
}

func (d *stmtDoc) record() *statements.Record {
	r := &statements.Record{
		ID:             d.SID,
		Statement:      d.Statement,
		StampTimestamp: d.Stamp,
		Fingerprint:    d.Fingerprint,
		Credential:     d.Credential,
		Stored:         time.UnixMilli(d.Stored).UTC(),
		Position:       d.Pos,
		Voided:         d.Voided,
	}
	if d.Voids != "" {
		r.Voids = unkey(d.Tenant, d.Voids)
	}
	if d.Ref != "" {
		r.RefTarget = unkey(d.Tenant, d.Ref)
	}
	return r
}

type result struct {
	pos, stored int64
	voided      bool
}

// item is a statement a batch wrote, on its way to being visible.
type item struct {
	doc *stmtDoc
	idx int // its record in the batch
}

// errContended says that another batch in flight holds an id of this one.
type errContended struct{ key string }

func (e *errContended) Error() string {
	return "statement " + e.key + " is being written by another batch"
}

// InsertStatements stores recs atomically; see statements.Store.
//
// The batch reserves a block of positions and its Stored time in the log,
// claims its ids by writing its statements to the pending collection in _id
// order, checks the ids already stored, commits by recording its outcome,
// copies its statements to the statements collection, settles voiding and
// references, and only then is done: the watermark may pass its positions.
// An id already stored is compared by fingerprint; an id another batch in
// flight holds makes this batch withdraw and wait for that one.
func (s *Store) InsertStatements(ctx context.Context, tenant string, recs []*statements.Record) error {
	if len(recs) == 0 {
		return nil
	}
	first := make(map[string]int, len(recs))
	alias := make([]int, len(recs))
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
		if j, ok := first[strings.ToLower(r.Voids)]; ok {
			if recs[j].Voids != "" {
				return errVoidsVoiding(r.ID, r.Voids)
			}
			continue
		}
		t, err := s.peek(ctx, key(tenant, strings.ToLower(r.Voids)))
		if err != nil {
			return err
		}
		if t != nil && t.Voids != "" {
			return errVoidsVoiding(r.ID, r.Voids)
		}
	}

	for attempt := 0; ; attempt++ {
		res, err := s.tryInsert(ctx, tenant, recs, alias)
		var c *errContended
		if errors.As(err, &c) {
			if err := s.waitFor(ctx, c.key); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		for i, r := range recs {
			x := res[alias[i]]
			r.Position, r.Stored, r.Voided = x.pos, time.UnixMilli(x.stored).UTC(), x.voided
		}
		return nil
	}
}

func errVoidsVoiding(id, target string) error {
	return statements.Errorf(statements.EInvalid,
		"statement %s voids statement %s, which is a voiding statement: a voiding statement cannot be voided",
		strings.ToLower(id), strings.ToLower(target))
}

// tryInsert makes one attempt at storing the batch; *errContended when a
// batch in flight holds one of its ids (it then stored nothing).
func (s *Store) tryInsert(ctx context.Context, tenant string, recs []*statements.Record, alias []int) ([]result, error) {
	var uniq []int
	for i := range recs {
		if alias[i] == i {
			uniq = append(uniq, i)
		}
	}
	b, err := s.reserve(ctx, tenant, len(uniq))
	if err != nil {
		return nil, err
	}
	res := make([]result, len(recs))
	items := make([]*item, len(uniq))
	for k, i := range uniq {
		rec := recs[i]
		d := &stmtDoc{
			ID:          key(tenant, strings.ToLower(rec.ID)),
			Tenant:      tenant,
			SID:         strings.ToLower(rec.ID),
			Pos:         b.Lo + int64(k),
			Stored:      b.St,
			Block:       b.Seq,
			Fingerprint: rec.Fingerprint,
			Credential:  rec.Credential,
			Stamp:       rec.StampTimestamp,
			Terms:       statements.MergeTerms(rec.Terms),
			Statement:   rec.Statement,
		}
		if rec.Voids != "" {
			d.Voids = key(tenant, strings.ToLower(rec.Voids))
		}
		if rec.RefTarget != "" {
			d.Ref = key(tenant, strings.ToLower(rec.RefTarget))
		}
		items[k] = &item{doc: d, idx: i}
	}
	// Claimed in _id order, so that of two batches sharing ids the one
	// that takes the lowest shared id first gets them all: no deadlock.
	slices.SortFunc(items, func(a, b *item) int { return strings.Compare(a.doc.ID, b.doc.ID) })

	fail := func(err error) ([]result, error) {
		if werr := s.withdraw(ctx, b); werr != nil {
			return nil, errors.Join(err, werr)
		}
		return nil, err
	}
	var claimed []*item
	for rest := items; len(rest) > 0; {
		docs := make([]any, len(rest))
		for k, it := range rest {
			docs[k] = it.doc
		}
		_, err := s.pending.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		if err == nil {
			claimed = append(claimed, rest...)
			break
		}
		j, ok := firstDuplicate(err)
		if !ok {
			return fail(mapErr(err, "cannot store statements"))
		}
		claimed = append(claimed, rest[:j]...)
		it := rest[j]
		h, committed, err := s.holder(ctx, it.doc.ID)
		if err != nil {
			return fail(err)
		}
		switch {
		case committed && (h.Fingerprint == it.doc.Fingerprint || sameContent(h.Statement, it.doc.Fingerprint)):
			res[it.idx] = result{pos: h.Pos, stored: h.Stored, voided: h.Voided}
			rest = rest[j+1:]
		case committed:
			return fail(statements.Errorf(statements.EConflict,
				"statement %s already exists with different content", it.doc.SID))
		case h == nil:
			rest = rest[j:] // it was dead and is gone: claim it again
		default:
			return fail(&errContended{key: it.doc.ID})
		}
	}
	// The claimed ids stored already: a batch that stored one of them
	// had claimed it and stored it before it let the claim go.
	stored, err := s.storedDocs(ctx, claimed)
	if err != nil {
		return fail(err)
	}
	var written []*item
	for _, it := range claimed {
		d, ok := stored[it.doc.ID]
		switch {
		case !ok:
			written = append(written, it)
		case d.Fingerprint == it.doc.Fingerprint:
			res[it.idx] = result{pos: d.Pos, stored: d.Stored, voided: d.Voided}
		default:
			same, err := s.storedSameContent(ctx, it.doc.ID, it.doc.Fingerprint)
			if err != nil {
				return fail(err)
			}
			if same {
				res[it.idx] = result{pos: d.Pos, stored: d.Stored, voided: d.Voided}
				continue
			}
			return fail(statements.Errorf(statements.EConflict,
				"statement %s already exists with different content", it.doc.SID))
		}
	}
	if len(written) == 0 {
		// Every statement was stored already.
		return res, s.withdraw(ctx, b)
	}
	ok, err := s.decide(ctx, b, true)
	if err != nil {
		return fail(err)
	}
	if !ok {
		// Another writer aborted this batch: it stalled past its lease.
		return fail(statements.Internal(errors.New("batch aborted after its lease expired"),
			"the store took too long to write the statements"))
	}
	// Committed: from here on the batch is finished, by this writer or,
	// if it dies, by the next one that reads the log.
	ctx = context.WithoutCancel(ctx)
	if err := s.complete(ctx, b, written); err != nil {
		return nil, err
	}
	for _, it := range written {
		res[it.idx] = result{pos: it.doc.Pos, stored: it.doc.Stored, voided: it.doc.Voided}
	}
	return res, nil
}

// complete finishes the committed block b whose new statements are items:
// stores them, settles voiding and references, lets the claims go and
// marks the block done.
func (s *Store) complete(ctx context.Context, b *block, items []*item) error {
	if len(items) > 0 {
		docs := make([]any, len(items))
		for i, it := range items {
			docs[i] = it.doc
		}
		_, err := s.stmts.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) { // finished twice
			return mapErr(err, "cannot store statements")
		}
		if err := s.finish(ctx, b.Tn, items); err != nil {
			return err
		}
	}
	if err := s.deletePending(ctx, b); err != nil {
		return err
	}
	return s.done(ctx, b)
}

// storedDocs returns the stored statements among items by _id: one lookup
// each for a few, else one query. (FerretDB scans a collection for any
// filter but a lone _id.)
// sameContent reports whether the stored statement stmt, taken again by
// statements.Fingerprint, has the fingerprint fp: a stored fingerprint may
// come from an earlier version of the comparison rules.
func sameContent(stmt []byte, fp string) bool {
	got, err := statements.Fingerprint(stmt)
	return err == nil && got == fp
}

// storedSameContent is sameContent for the committed statement of key k.
func (s *Store) storedSameContent(ctx context.Context, k, fp string) (bool, error) {
	var d stmtDoc
	err := s.stmts.FindOne(ctx, bson.D{{Key: "_id", Value: k}}, options.FindOne().SetProjection(bson.D{{Key: "stmt", Value: 1}})).Decode(&d)
	if isNoDocuments(err) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(err, "cannot store statements")
	}
	return sameContent(d.Statement, fp), nil
}

func (s *Store) storedDocs(ctx context.Context, items []*item) (map[string]*stmtDoc, error) {
	out := map[string]*stmtDoc{}
	proj := options.FindOne().SetProjection(bson.D{{Key: "fp", Value: 1}, {Key: "pos", Value: 1}, {Key: "st", Value: 1}, {Key: "v", Value: 1}, {Key: "r", Value: 1}})
	if len(items) <= 8 {
		for _, it := range items {
			var d stmtDoc
			err := s.stmts.FindOne(ctx, bson.D{{Key: "_id", Value: it.doc.ID}}, proj).Decode(&d)
			if isNoDocuments(err) {
				continue
			}
			if err != nil {
				return nil, mapErr(err, "cannot store statements")
			}
			out[d.ID] = &d
		}
		return out, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.doc.ID
	}
	cur, err := s.stmts.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "fp", Value: 1}, {Key: "pos", Value: 1}, {Key: "st", Value: 1}, {Key: "v", Value: 1}, {Key: "r", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	var ds []stmtDoc
	if err := cur.All(ctx, &ds); err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	for i := range ds {
		out[ds[i].ID] = &ds[i]
	}
	return out, nil
}

// firstDuplicate returns the index of the first write that failed on a
// duplicate key in an ordered InsertMany.
func firstDuplicate(err error) (int, bool) {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) == 0 || bwe.WriteConcernError != nil {
		return 0, false
	}
	we := bwe.WriteErrors[0]
	for _, e := range bwe.WriteErrors[1:] {
		if e.Index < we.Index {
			we = e
		}
	}
	if !mongo.IsDuplicateKeyError(we) {
		return 0, false
	}
	return we.Index, true
}

// holder reads the pending statement that claims the _id k. committed is
// true when its batch committed (it is being stored); a nil statement
// means that the claim was dead (of a batch that aborted or withdrew) and
// is deleted, or is gone; otherwise a batch in flight holds it.
func (s *Store) holder(ctx context.Context, k string) (*stmtDoc, bool, error) {
	var d stmtDoc
	err := s.pending.FindOne(ctx, bson.D{{Key: "_id", Value: k}}).Decode(&d)
	if isNoDocuments(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapErr(err, "cannot store statements")
	}
	committed, decided, err := s.outcomeOf(ctx, d.Block)
	if err != nil {
		return nil, false, err
	}
	if !decided {
		var b block
		err := s.open.FindOne(ctx, bson.D{{Key: "_id", Value: seqID(d.Block)}}).Decode(&b)
		switch {
		case err != nil && !isNoDocuments(err):
			return nil, false, mapErr(err, "cannot store statements")
		case err == nil && b.Exp >= s.nowMs():
			return &d, false, nil // in flight
		case err == nil:
			if committed, err = s.decide(ctx, &b, false); err != nil {
				return nil, false, err
			}
		}
		// Not open and undecided: withdrawn.
	}
	if committed {
		return &d, true, nil
	}
	_, err = s.pending.DeleteOne(ctx, bson.D{{Key: "_id", Value: k}, {Key: "r", Value: d.Block}})
	if err != nil {
		return nil, false, mapErr(err, "cannot store statements")
	}
	return nil, false, nil
}

// waitFor waits until no batch in flight holds the _id k.
func (s *Store) waitFor(ctx context.Context, k string) error {
	for attempt := 0; ; attempt++ {
		d, committed, err := s.holder(ctx, k)
		if err != nil {
			return err
		}
		if d == nil || committed {
			return nil
		}
		t := time.NewTimer(time.Duration(min(attempt+1, 50)) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return statements.Internal(ctx.Err(), "the request ended while another request stored the same statements")
		}
	}
}

// Link kinds.
const (
	linkRef   = "r" // from's object refers to to
	linkVoids = "v" // from voids to
)

// link says that a visible statement refers to or voids another, which
// may not be stored yet. It is written after its statement became
// visible.
type link struct {
	ID   string `bson:"_id"` // kind:from
	Kind string `bson:"k"`
	From string `bson:"from"`
	To   string `bson:"to"`
}

// writeLinks writes the links of items, which are visible.
func (s *Store) writeLinks(ctx context.Context, items []*item) error {
	var docs []any
	for _, it := range items {
		if it.doc.Ref != "" {
			docs = append(docs, link{ID: linkRef + ":" + it.doc.ID, Kind: linkRef, From: it.doc.ID, To: it.doc.Ref})
		}
		if it.doc.Voids != "" {
			docs = append(docs, link{ID: linkVoids + ":" + it.doc.ID, Kind: linkVoids, From: it.doc.ID, To: it.doc.Voids})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := s.links.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) { // a batch finished twice
		return mapErr(err, "cannot store statements")
	}
	return nil
}

// onlyDuplicates tells whether every write of a bulk write failed on a
// duplicate key.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, e := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(e) {
			return false
		}
	}
	return true
}

// finish settles what the statements of items, just made visible, change
// elsewhere: a voiding statement voids its target, a statement is voided
// by a voiding statement stored before it, a StatementRef inherits the
// terms of its target, and statements that refer to one of items inherit
// its terms, transitively. Each rule is applied from both sides, each side
// after its own statements became visible (and wrote their links) and only
// to visible statements, so of two batches racing at least one sees the
// other.
func (s *Store) finish(ctx context.Context, tenant string, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	if err := s.writeLinks(ctx, items); err != nil {
		return err
	}
	byKey := map[string]*item{}
	var keys []string
	for _, it := range items {
		byKey[it.doc.ID] = it
		keys = append(keys, it.doc.ID)
	}

	// A voiding statement voids its target, if visible and not a voiding
	// statement (both last forever once true).
	for _, it := range items {
		if it.doc.Voids == "" {
			continue
		}
		t, err := s.peek(ctx, it.doc.Voids)
		if err != nil {
			return err
		}
		if t == nil || t.Voids != "" {
			continue
		}
		if err := s.setVoided(ctx, t.ID); err != nil {
			return err
		}
		if t, ok := byKey[t.ID]; ok {
			t.doc.Voided = true
		}
	}

	// A StatementRef inherits its target's terms.
	var queue []gain
	for _, it := range items {
		if it.doc.Ref == "" {
			continue
		}
		t, err := s.peek(ctx, it.doc.Ref)
		if err != nil {
			return err
		}
		if t == nil || len(t.Terms) == 0 {
			continue
		}
		g, err := s.addTerms(ctx, it.doc.ID, t.Terms)
		if err != nil {
			return err
		}
		if g != nil {
			queue = append(queue, *g)
		}
	}

	// Voiding statements of the new ones, and statements referring to
	// them.
	links, err := s.linksTo(ctx, keys)
	if err != nil {
		return err
	}
	for _, l := range links {
		t := byKey[l.To]
		if l.Kind != linkVoids || t.doc.Voids != "" || t.doc.Voided {
			continue
		}
		if err := s.setVoided(ctx, t.doc.ID); err != nil {
			return err
		}
		t.doc.Voided = true
	}
	for _, it := range items {
		queue = append(queue, gain{key: it.doc.ID})
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		var refs []string
		if g.terms == nil {
			// A new statement: its referrers are known from above.
			for _, l := range links {
				if l.Kind == linkRef && l.To == g.key {
					refs = append(refs, l.From)
				}
			}
		} else {
			ls, err := s.linksTo(ctx, []string{g.key})
			if err != nil {
				return err
			}
			for _, l := range ls {
				if l.Kind == linkRef {
					refs = append(refs, l.From)
				}
			}
		}
		if len(refs) == 0 {
			continue
		}
		terms := g.terms
		if terms == nil {
			// Its terms as they are now, inherited ones included.
			d, err := s.peek(ctx, g.key)
			if err != nil {
				return err
			}
			if d == nil {
				continue
			}
			terms = d.Terms
		}
		for _, ref := range refs {
			ng, err := s.addTerms(ctx, ref, terms)
			if err != nil {
				return err
			}
			if ng != nil {
				queue = append(queue, *ng)
			}
		}
	}
	return nil
}

// peek reads the voiding target and terms of the stored statement k; nil
// if there is none.
func (s *Store) peek(ctx context.Context, k string) (*stmtDoc, error) {
	var d stmtDoc
	err := s.stmts.FindOne(ctx, bson.D{{Key: "_id", Value: k}},
		options.FindOne().SetProjection(bson.D{{Key: "vd", Value: 1}, {Key: "terms", Value: 1}})).Decode(&d)
	if isNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	return &d, nil
}

func (s *Store) setVoided(ctx context.Context, k string) error {
	_, err := s.stmts.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: true}}}})
	return mapErr(err, "cannot void statement")
}

// linksTo returns the links to the statements keys.
func (s *Store) linksTo(ctx context.Context, keys []string) ([]link, error) {
	f := bson.D{{Key: "to", Value: keys[0]}}
	if len(keys) > 1 {
		f = bson.D{{Key: "to", Value: bson.D{{Key: "$in", Value: keys}}}}
	}
	cur, err := s.links.Find(ctx, f)
	if err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	var out []link
	if err := cur.All(ctx, &out); err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	return out, nil
}

// gain is a statement whose referrers must inherit terms; nil terms: all
// of its own.
type gain struct {
	key   string
	terms []string
}

// addTerms adds terms, but no credential term, to the visible statement
// k; a gain when it had not all of them.
func (s *Store) addTerms(ctx context.Context, k string, terms []string) (*gain, error) {
	terms = slices.DeleteFunc(slices.Clone(terms), statements.IsCredentialTerm)
	if len(terms) == 0 {
		return nil, nil
	}
	res, err := s.stmts.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "terms", Value: bson.D{{Key: "$each", Value: terms}}}}}})
	if err != nil {
		return nil, mapErr(err, "cannot store statements")
	}
	if res.ModifiedCount == 0 {
		return nil, nil
	}
	return &gain{key: k, terms: terms}, nil
}
