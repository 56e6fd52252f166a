package mongostore

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// queryBatch is the most documents a query with a MaxBytes bound asks the
// server for at once. MongoDB also ends a batch at 16 MiB; FerretDB counts
// documents only.
const queryBatch = 64

// Statement returns one statement; see statements.Store.
func (s *Store) Statement(ctx context.Context, tenant, id string, voided bool) (*statements.Record, error) {
	id = strings.ToLower(id)
	var d stmtDoc
	err := s.stmts.FindOne(ctx, bson.D{{Key: "_id", Value: key(tenant, id)}},
		options.FindOne().SetProjection(bson.D{{Key: "terms", Value: 0}})).Decode(&d)
	if err != nil && !isNoDocuments(err) {
		return nil, mapErr(err, "cannot read statement "+id)
	}
	if err != nil || d.Tenant != tenant || d.Voided != voided {
		if voided {
			return nil, statements.Errorf(statements.ENotFound, "no voided statement %s", id)
		}
		return nil, statements.Errorf(statements.ENotFound, "no statement %s", id)
	}
	return d.record(), nil
}

// QueryStatements returns a page of statements; see statements.Store.
//
// The page is read in position order from one index, {tn, pos} or, with
// terms, {tn, terms, pos} (the planner picks the most selective term), up
// to the watermark: never past a batch in flight. Since and Until become
// position bounds through {tn, st, pos}, because Stored does not decrease
// with Position.
func (s *Store) QueryStatements(ctx context.Context, tenant string, f statements.Filter) (*statements.Page, error) {
	limit := f.PageLimit()
	lg, err := s.currentLog(ctx)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(0), lg.watermark()+1 // exclusive bounds on position
	if f.After > 0 {
		if f.Ascending {
			lo = max(lo, f.After)
		} else {
			hi = min(hi, f.After)
		}
	}
	filter := bson.D{{Key: "tn", Value: tenant}}
	var stored bson.D
	if !f.Since.IsZero() {
		ms := f.Since.UnixMilli()
		p, _, err := s.lastPositionAt(ctx, tenant, ms)
		if err != nil {
			return nil, err
		}
		lo = max(lo, p)
		stored = append(stored, bson.E{Key: "$gt", Value: ms})
	}
	if !f.Until.IsZero() {
		ms := f.Until.UnixMilli()
		p, ok, err := s.lastPositionAt(ctx, tenant, ms)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &statements.Page{}, nil
		}
		hi = min(hi, p+1)
		stored = append(stored, bson.E{Key: "$lte", Value: ms})
	}
	if lo >= hi-1 {
		return &statements.Page{}, nil
	}
	terms := f.Terms()
	switch len(terms) {
	case 0:
	case 1:
		filter = append(filter, bson.E{Key: "terms", Value: terms[0]})
	default:
		// One equality per term: the planner can drive the scan by any of
		// them, where $all would always take the first.
		and := make(bson.A, len(terms))
		for i, t := range terms {
			and[i] = bson.D{{Key: "terms", Value: t}}
		}
		filter = append(filter, bson.E{Key: "$and", Value: and})
	}
	filter = append(filter, bson.E{Key: "pos", Value: bson.D{{Key: "$gt", Value: lo}, {Key: "$lt", Value: hi}}})
	if stored != nil {
		filter = append(filter, bson.E{Key: "st", Value: stored})
	}
	filter = append(filter, bson.E{Key: "v", Value: false})
	dir := -1
	if f.Ascending {
		dir = 1
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "pos", Value: dir}}).
		SetLimit(int64(limit + 1)).
		SetProjection(bson.D{{Key: "terms", Value: 0}})
	if f.MaxBytes > 0 {
		// Bounded batches: the driver holds a whole batch, and a page cut
		// by MaxBytes leaves the rest of it unread.
		opts.SetBatchSize(int32(min(limit+1, queryBatch)))
	}
	cur, err := s.stmts.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err, "cannot query statements")
	}
	defer cur.Close(context.WithoutCancel(ctx))
	// Documents are decoded one at a time: the page stops at the first
	// that the limit or MaxBytes leaves out.
	page := &statements.Page{}
	var size int64
	for cur.Next(ctx) {
		var d stmtDoc
		if err := cur.Decode(&d); err != nil {
			return nil, mapErr(err, "cannot query statements")
		}
		n := int64(len(d.Statement))
		if len(page.Records) == limit || (f.MaxBytes > 0 && len(page.Records) > 0 && size+n > f.MaxBytes) {
			page.More = true
			break
		}
		page.Records = append(page.Records, d.record())
		size += n
	}
	if err := cur.Err(); err != nil {
		return nil, mapErr(err, "cannot query statements")
	}
	return page, nil
}

// lastPositionAt returns the highest position of the tenant's statements
// stored at or before ms (visible or not: Stored grows with Position
// across the whole log).
func (s *Store) lastPositionAt(ctx context.Context, tenant string, ms int64) (int64, bool, error) {
	var d struct {
		Pos int64 `bson:"pos"`
	}
	err := s.stmts.FindOne(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "st", Value: bson.D{{Key: "$lte", Value: ms}}}},
		options.FindOne().SetSort(bson.D{{Key: "st", Value: -1}, {Key: "pos", Value: -1}}).
			SetProjection(bson.D{{Key: "pos", Value: 1}})).Decode(&d)
	if isNoDocuments(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, mapErr(err, "cannot query statements")
	}
	return d.Pos, true, nil
}
