package mongostore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// block is a batch's reservation: its positions [Lo, Lo+N) and its
// Stored time. Blocks form a chain in the log collection, one document
// per batch, never changed: a batch reserves by inserting the block after
// the last one, so the unique _id decides between racing writers. While
// the batch is in flight the same block is in the open collection, which
// holds the blocks not done: it is inserted first, as the claim, and
// deleted when the batch is done. The outcome (commit or abort) is decided
// by inserting into the outcomes collection. Every _id is the sequence
// number as a fixed-width decimal string (FerretDB looks up string _ids
// directly and scans for any other filter).
type block struct {
	ID  string `bson:"_id"` // seqID(Seq)
	Seq int64  `bson:"seq"`
	Lo  int64  `bson:"lo"`
	N   int64  `bson:"n"`
	St  int64  `bson:"st"`  // the batch's Stored (unix ms)
	Exp int64  `bson:"exp"` // unix ms after which another writer may settle it
	Tn  string `bson:"tn"`  // the tenant of its statements
}

func seqID(seq int64) string { return fmt.Sprintf("%020d", seq) }

// end returns the first position after the block.
func (b *block) end() int64 { return b.Lo + b.N }

// outcome is the decision on a block: inserted once, by the writer that
// commits it or by another that aborts it after its lease.
type outcome struct {
	ID        string `bson:"_id"` // seqID
	Committed bool   `bson:"c"`
}

// logState is the end of the log and the blocks not done.
type logState struct {
	tail *block
	open []block
}

// watermark returns the highest position below every block not done:
// every statement at or below it that will ever be visible is visible.
func (l *logState) watermark() int64 {
	w := l.tail.end() - 1
	for _, b := range l.open {
		w = min(w, b.Lo-1)
	}
	return w
}

// setupLog inserts the first block of the chain: no positions, Stored the
// log's creation.
func (s *Store) setupLog(ctx context.Context) error {
	_, err := s.log.InsertOne(ctx, block{ID: seqID(0), Seq: 0, Lo: 1, N: 0, St: s.nowMs()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return statements.Internal(err, "cannot create the statement log")
	}
	return nil
}

// lastBlock reads the last block of the chain by a sorted query.
func (s *Store) lastBlock(ctx context.Context) (*block, error) {
	var b block
	err := s.log.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&b)
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	return &b, nil
}

// tail returns the last block of the chain: from the last one this Store
// saw, it looks up the next ones by _id.
func (s *Store) tail(ctx context.Context) (*block, error) {
	s.tailMu.Lock()
	c := s.tailSeen
	s.tailMu.Unlock()
	var err error
	if c != nil && c.St < s.nowMs()-s.trimGrace().Milliseconds()/2 {
		c = nil // its successors may have been trimmed (see trim.go)
	}
	if c == nil {
		if c, err = s.lastBlock(ctx); err != nil {
			return nil, err
		}
	}
	for i := 0; ; i++ {
		if i == 8 { // far behind: other processes wrote a lot
			if c, err = s.lastBlock(ctx); err != nil {
				return nil, err
			}
		}
		var next block
		err := s.log.FindOne(ctx, bson.D{{Key: "_id", Value: seqID(c.Seq + 1)}}).Decode(&next)
		if isNoDocuments(err) {
			break
		}
		if err != nil {
			return nil, mapErr(err, "cannot read the statement log")
		}
		c = &next
	}
	s.tailMu.Lock()
	if s.tailSeen == nil || s.tailSeen.Seq < c.Seq {
		s.tailSeen = c
	}
	s.tailMu.Unlock()
	return c, nil
}

// readLog reads the tail and then the blocks not done: a block claimed
// after the tail was read lies beyond it.
func (s *Store) readLog(ctx context.Context) (*logState, error) {
	t, err := s.tail(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := s.open.Find(ctx, bson.D{})
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	l := &logState{tail: t}
	if err := cur.All(ctx, &l.open); err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	return l, nil
}

// currentLog reads the log and settles the blocks whose writer let the
// lease expire (it crashed, or stalls): an uncommitted one is aborted, a
// committed one finished.
func (s *Store) currentLog(ctx context.Context) (*logState, error) {
	for range 3 {
		l, err := s.readLog(ctx)
		if err != nil {
			return nil, err
		}
		now := s.nowMs()
		settled := false
		for _, b := range l.open {
			if b.Exp >= now {
				continue
			}
			settled = true
			if err := s.settle(ctx, b); err != nil {
				return nil, err
			}
		}
		if !settled {
			return l, nil
		}
	}
	return s.readLog(ctx)
}

// reserve appends the block of a batch of n statements of tenant to the
// chain: it claims the next sequence number in the open collection, then
// writes the block to the log.
func (s *Store) reserve(ctx context.Context, tenant string, n int) (*block, error) {
	for attempt := 0; ; attempt++ {
		start := s.nowMs()
		t, err := s.tail(ctx)
		if err != nil {
			return nil, err
		}
		now := s.nowMs()
		// Stored grows with every block, so that ConsistentThrough can
		// answer the last Stored without a clock.
		b := &block{ID: seqID(t.Seq + 1), Seq: t.Seq + 1, Lo: t.end(), N: int64(n), St: max(now, t.St+1),
			Exp: now + s.lease.Milliseconds(), Tn: tenant}
		_, err = s.open.InsertOne(ctx, b)
		if err == nil {
			_, err = s.log.InsertOne(ctx, b)
			if err == nil && s.nowMs()-start > s.trimGrace().Milliseconds()/4 {
				// The end of the chain it read may have been trimmed
				// meanwhile (see trim.go): this block may reuse positions.
				if derr := s.done(ctx, b); derr != nil {
					return nil, derr
				}
				return nil, &statements.Error{Code: statements.EUnavailable, Message: "the store took too long to reserve log positions",
					Err: errors.New("a reservation took longer than a quarter of the trim grace")}
			}
			if err == nil {
				if b.Seq%trimEvery == 0 {
					s.trimInBackground(ctx)
				}
				s.tailMu.Lock()
				if s.tailSeen == nil || s.tailSeen.Seq < b.Seq {
					s.tailSeen = b
				}
				s.tailMu.Unlock()
				return b, nil
			}
			// A writer that stalled past its lease wrote this block
			// after all; it is dead, and so is this claim.
			if derr := s.done(ctx, b); derr != nil {
				return nil, derr
			}
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, mapErr(err, "cannot reserve log positions")
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// backoff sleeps a little longer at each attempt of a contended
// reservation, with jitter.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return mapErr(ctx.Err(), "the request ended before the store could write")
	}
	var b [1]byte
	rand.Read(b[:])
	d := time.Duration(min(attempt, 20)) * (100*time.Microsecond + time.Duration(b[0])*4*time.Microsecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return statements.Internal(ctx.Err(), "the request ended before the store could write")
	}
}

// decide records the outcome of block b unless one is recorded, and
// returns the recorded one.
func (s *Store) decide(ctx context.Context, b *block, commit bool) (committed bool, err error) {
	_, err = s.outcomes.InsertOne(ctx, outcome{ID: b.ID, Committed: commit})
	if err == nil {
		return commit, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, mapErr(err, "cannot decide a batch")
	}
	committed, _, err = s.outcomeOf(ctx, b.Seq)
	return committed, err
}

// outcomeOf returns the outcome of block seq, if decided.
func (s *Store) outcomeOf(ctx context.Context, seq int64) (committed, decided bool, err error) {
	var o outcome
	err = s.outcomes.FindOne(ctx, bson.D{{Key: "_id", Value: seqID(seq)}}).Decode(&o)
	if isNoDocuments(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, mapErr(err, "cannot read the statement log")
	}
	return o.Committed, true, nil
}

// done removes block b from the open ones: the watermark may pass it.
func (s *Store) done(ctx context.Context, b *block) error {
	_, err := s.open.DeleteOne(ctx, bson.D{{Key: "_id", Value: b.ID}})
	return mapErr(err, "cannot release log positions")
}

// deletePending deletes the pending statements of block b: its claims.
func (s *Store) deletePending(ctx context.Context, b *block) error {
	_, err := s.pending.DeleteMany(ctx, bson.D{{Key: "r", Value: b.Seq}})
	return mapErr(err, "cannot delete pending statements")
}

// withdraw gives up block b before committing it: its claims are deleted
// and it is done. A crash between the two leaves a block that another
// writer settles when it expires.
func (s *Store) withdraw(ctx context.Context, b *block) error {
	ctx = context.WithoutCancel(ctx)
	if err := s.deletePending(ctx, b); err != nil {
		return err
	}
	return s.done(ctx, b)
}

// settle aborts or finishes the expired block b.
func (s *Store) settle(ctx context.Context, b block) error {
	committed, err := s.decide(ctx, &b, false)
	if err != nil {
		return err
	}
	if !committed {
		// Aborted: its writer can no longer commit it.
		return s.withdraw(ctx, &b)
	}
	// Committed: finish what its writer started, from its pending
	// statements (those it did not find stored already).
	cur, err := s.pending.Find(ctx, bson.D{{Key: "r", Value: b.Seq}})
	if err != nil {
		return mapErr(err, "cannot finish a batch")
	}
	var docs []stmtDoc
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(err, "cannot finish a batch")
	}
	stored, err := s.storedDocs(ctx, itemsOf(docs))
	if err != nil {
		return err
	}
	var items []*item
	for i := range docs {
		if d, ok := stored[docs[i].ID]; !ok || d.Block == b.Seq {
			items = append(items, &item{doc: &docs[i]})
		}
	}
	return s.complete(ctx, &b, items)
}

func itemsOf(docs []stmtDoc) []*item {
	out := make([]*item, len(docs))
	for i := range docs {
		out[i] = &item{doc: &docs[i]}
	}
	return out
}

// ConsistentThrough returns a time before the Stored of every block not
// done or, with none, the Stored of the last block: every later block is
// stored after it (Stored grows with the chain), whichever process writes
// it and whatever its clock says. The log is one for all tenants, so the
// answer is too.
func (s *Store) ConsistentThrough(ctx context.Context, tenant string) (time.Time, error) {
	l, err := s.currentLog(ctx)
	if err != nil {
		return time.Time{}, err
	}
	t := l.tail.St
	for _, b := range l.open {
		t = min(t, b.St-1)
	}
	// A claim from a writer that read a stale end of the chain is open
	// for a moment with a Stored that may be older; it never stores a
	// statement, so an earlier answer still holds.
	s.tailMu.Lock()
	t = max(t, s.lastCT)
	s.lastCT = t
	s.tailMu.Unlock()
	return time.UnixMilli(t).UTC(), nil
}

// isNoDocuments tells whether err says that nothing matched.
func isNoDocuments(err error) bool { return err == mongo.ErrNoDocuments }
