package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The log and outcomes collections get a document per batch. Neither is
// read by the forwarders (they read statements by position): a block is
// needed while it may be the end of the chain that a writer appends to,
// and an outcome while its batch may still be decided or settled. So the
// blocks and the commit outcomes of the batches that are done, stored more
// than trimGrace ago and below the last block are deleted, every
// trimEvery-th batch, by the writer of that batch in the background. The
// first block (setupLog inserts it at every start) and the abort outcomes
// (rare: a writer died or stalled) are kept, so that a writer that stalled
// past its lease still finds its batch aborted.
//
// Deleting blocks would let a writer that holds an old end of the chain
// insert a block whose _id was used already, reusing positions; two rules
// prevent it, with trimGrace far above the clock skew between processes:
//   - tail never trusts an end of the chain stored more than trimGrace/2
//     ago (it reads the last block instead): the blocks after it are
//     younger still, so none of them has been trimmed;
//   - reserve withdraws a block it inserted more than trimGrace/4 after it
//     started to read the end of the chain, and fails.

// trimEvery is how many batches apart the log is trimmed.
const trimEvery = 1024

// trimGrace is how long the block and outcome of a batch that is done
// are kept.
func (s *Store) trimGrace() time.Duration { return max(10*s.lease, 10*time.Minute) }

// trimInBackground trims the log in a goroutine unless a trim runs.
func (s *Store) trimInBackground(ctx context.Context) {
	if !s.trimming.CompareAndSwap(false, true) {
		return
	}
	s.bg.Go(func() {
		defer s.trimming.Store(false)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		// A failed trim changes nothing that matters: the next one
		// deletes what this one left.
		_ = s.trimLog(ctx, s.nowMs()-s.trimGrace().Milliseconds())
	})
}

// trimLog deletes the blocks of the batches done and stored before cutoff
// (unix ms), but the first and the last, and their commit outcomes.
func (s *Store) trimLog(ctx context.Context, cutoff int64) error {
	l, err := s.readLog(ctx)
	if err != nil {
		return err
	}
	end := l.tail.Seq // kept, as every block from the first one open
	for _, b := range l.open {
		end = min(end, b.Seq)
	}
	// Stored grows along the chain: find the last block below end stored
	// before cutoff. A block missing there was deleted by an earlier trim
	// that stopped half-way, so it was stored before cutoff.
	var first block
	err = s.log.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: seqID(0)}}}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Decode(&first)
	if isNoDocuments(err) {
		return nil
	}
	if err != nil {
		return mapErr(err, "cannot read the statement log")
	}
	lo, hi := first.Seq-1, end // the last old one is in [lo, hi)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		var b block
		err := s.log.FindOne(ctx, bson.D{{Key: "_id", Value: seqID(mid)}}).Decode(&b)
		switch {
		case isNoDocuments(err) || (err == nil && b.St < cutoff):
			lo = mid
		case err == nil:
			hi = mid
		default:
			return mapErr(err, "cannot read the statement log")
		}
	}
	if lo < first.Seq {
		return nil
	}
	below := bson.D{{Key: "$gt", Value: seqID(0)}, {Key: "$lte", Value: seqID(lo)}}
	if _, err := s.outcomes.DeleteMany(ctx, bson.D{{Key: "_id", Value: below}, {Key: "c", Value: true}}); err != nil {
		return mapErr(err, "cannot trim the statement log")
	}
	_, err = s.log.DeleteMany(ctx, bson.D{{Key: "_id", Value: below}})
	return mapErr(err, "cannot trim the statement log")
}
