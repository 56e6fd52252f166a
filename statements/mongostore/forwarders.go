package mongostore

import (
	"context"
	"math"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

var (
	_ statements.Log          = (*Store)(nil)
	_ statements.LeaseCounter = (*Store)(nil)
)

// ReadLog returns statements of every tenant in position order, up to the
// watermark; see statements.Log.
func (s *Store) ReadLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	return s.logPage(ctx, after, limit, false)
}

// SkimLog lists the entries ReadLog returns without their statements;
// see statements.LogSkimmer.
func (s *Store) SkimLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	return s.logPage(ctx, after, limit, true)
}

// logPage reads the log after after up to the watermark, the statements
// whole or, skimming, their tenant, position and stored time only.
func (s *Store) logPage(ctx context.Context, after int64, limit int, skim bool) ([]statements.LogEntry, error) {
	if limit <= 0 || limit > statements.MaxLimit {
		limit = statements.MaxLimit
	}
	l, err := s.currentLog(ctx)
	if err != nil {
		return nil, err
	}
	w := l.watermark()
	if w <= after {
		return nil, nil
	}
	projection := bson.D{{Key: "terms", Value: 0}}
	if skim {
		projection = bson.D{{Key: "_id", Value: 0}, {Key: "tn", Value: 1}, {Key: "pos", Value: 1}, {Key: "st", Value: 1}}
	}
	docs, err := s.findLog(ctx, bson.D{{Key: "pos", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: w}}}},
		options.Find().SetLimit(int64(limit)).SetProjection(projection))
	if err != nil {
		return nil, err
	}
	out := make([]statements.LogEntry, len(docs))
	for i := range docs {
		r := &statements.Record{Position: docs[i].Pos, Stored: time.UnixMilli(docs[i].Stored).UTC()}
		if !skim {
			r = docs[i].record()
		}
		out[i] = statements.LogEntry{Tenant: docs[i].Tenant, Record: r}
	}
	// The erasures' entries up to the same bound (erase.go).
	through := w
	if len(out) == limit {
		through = out[len(out)-1].Record.Position
	}
	es, err := s.readErasures(ctx, after, through, limit)
	if err != nil {
		return nil, err
	}
	return mergeLog(out, es, limit), nil
}

// ReadLogOf reads whole the entries of tenants in (after, through]; see
// statements.LogSkimmer.
func (s *Store) ReadLogOf(ctx context.Context, after, through int64, tenants []string) ([]statements.LogEntry, error) {
	if len(tenants) == 0 || through <= after {
		return nil, nil
	}
	docs, err := s.findLog(ctx, bson.D{{Key: "tn", Value: bson.D{{Key: "$in", Value: tenants}}},
		{Key: "pos", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: through}}}},
		options.Find().SetProjection(bson.D{{Key: "terms", Value: 0}}))
	if err != nil {
		return nil, err
	}
	out := make([]statements.LogEntry, len(docs))
	for i := range docs {
		out[i] = statements.LogEntry{Tenant: docs[i].Tenant, Record: docs[i].record()}
	}
	es, err := s.readErasures(ctx, after, through, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	es = slices.DeleteFunc(es, func(e statements.LogEntry) bool { return !slices.Contains(tenants, e.Tenant) })
	return mergeLog(out, es, len(out)+len(es)), nil
}

// findLog reads the statements of filter in position order, with opts.
func (s *Store) findLog(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]stmtDoc, error) {
	cur, err := s.stmts.Find(ctx, filter, opts.SetSort(bson.D{{Key: "pos", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	var docs []stmtDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the statement log")
	}
	return docs, nil
}

// LogHead returns the watermark; see statements.Log.
func (s *Store) LogHead(ctx context.Context) (int64, error) {
	l, err := s.currentLog(ctx)
	if err != nil {
		return 0, err
	}
	return max(l.watermark(), 0), nil
}

// Cursors and leases are versions too (see versions.go): a cursor moves by
// inserting sink/position, so it never moves back even when two processes
// race; a lease changes hands by inserting its next version.

type cursorDoc struct {
	ID   string `bson:"_id"` // versionID(base(sink), pos)
	Base string `bson:"base"`
	V    int64  `bson:"v"` // the position
	At   int64  `bson:"at"`
}

// Cursor returns the position a sink acknowledged; see statements.Log.
func (s *Store) Cursor(ctx context.Context, sink string) (int64, error) {
	var d cursorDoc
	found, err := latest(ctx, s.cursors, base("cursor", sink), &d)
	if err != nil {
		return 0, mapErr(err, "cannot read the cursor")
	}
	if !found {
		return 0, nil
	}
	return d.V, nil
}

// SetCursor moves a sink's cursor forward; see statements.Log.
func (s *Store) SetCursor(ctx context.Context, sink string, pos int64) error {
	b := base("cursor", sink)
	_, err := s.cursors.InsertOne(ctx, cursorDoc{ID: versionID(b, pos), Base: b, V: pos, At: s.nowMs()})
	if err != nil && !mongo.IsDuplicateKeyError(err) { // set already
		return mapErr(err, "cannot move the cursor")
	}
	// Lower positions can go: the cursor is the highest.
	_, err = s.cursors.DeleteMany(ctx, bson.D{{Key: "base", Value: b}, {Key: "v", Value: bson.D{{Key: "$lt", Value: pos}}}})
	return mapErr(err, "cannot move the cursor")
}

type leaseDoc struct {
	ID     string `bson:"_id"`
	Base   string `bson:"base"`
	V      int64  `bson:"v"`
	At     int64  `bson:"at"`
	Holder string `bson:"holder"`         // "" when released
	Until  int64  `bson:"until"`          // unix ms
	Name   string `bson:"name,omitempty"` // the lease's name, for CountLeases; "" in versions written before it
}

// AcquireLease takes or renews a lease by inserting its next version; see
// statements.Log.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	b := base("lease", name)
	readAt := time.Now()
	var cur leaseDoc
	if _, err := latest(ctx, s.leases, b, &cur); err != nil {
		return false, mapErr(err, "cannot read the lease")
	}
	now := s.nowMs()
	if cur.Holder != "" && cur.Holder != holder && cur.Until > now {
		return false, nil
	}
	v := cur.V + 1
	ok, err := s.insertVersion(ctx, s.leases, b, v, leaseDoc{ID: versionID(b, v), Base: b, V: v, At: now,
		Holder: holder, Until: now + ttl.Milliseconds(), Name: name}, readAt)
	return ok, mapErr(err, "cannot take the lease")
}

// ReleaseLease ends a lease its holder has; see statements.Log.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	b := base("lease", name)
	readAt := time.Now()
	var cur leaseDoc
	if _, err := latest(ctx, s.leases, b, &cur); err != nil {
		return mapErr(err, "cannot read the lease")
	}
	if cur.Holder != holder {
		return nil
	}
	v := cur.V + 1
	_, err := s.insertVersion(ctx, s.leases, b, v, leaseDoc{ID: versionID(b, v), Base: b, V: v, At: s.nowMs(), Name: name}, readAt)
	return mapErr(err, "cannot release the lease")
}

// deadLeaseAge is how long after its end CountLeases forgets a lease.
const deadLeaseAge = time.Hour

// CountLeases counts the live leases of a prefix; see
// statements.LeaseCounter. It reads every version of the prefix's leases
// (a few per lease: superseded versions go after versionGrace) and counts
// the leases whose latest version is held and unexpired. A lease whose
// latest version ended more than deadLeaseAge ago is deleted on the way,
// all its versions up to that one: a holder renewing it meanwhile inserts
// a later version, which stays.
func (s *Store) CountLeases(ctx context.Context, prefix string) (int, error) {
	filter := bson.D{}
	if prefix != "" {
		filter = bson.D{{Key: "name", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(prefix)}}}}
	}
	cur, err := s.leases.Find(ctx, filter)
	if err != nil {
		return 0, mapErr(err, "cannot count the leases")
	}
	var docs []leaseDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, mapErr(err, "cannot count the leases")
	}
	latest := map[string]leaseDoc{}
	for _, d := range docs {
		if l, ok := latest[d.Base]; !ok || d.V > l.V {
			latest[d.Base] = d
		}
	}
	now := s.nowMs()
	n := 0
	for b, d := range latest {
		if d.Holder != "" && d.Until > now {
			n++
			continue
		}
		if max(d.Until, d.At) < now-deadLeaseAge.Milliseconds() {
			_, err := s.leases.DeleteMany(ctx, bson.D{{Key: "base", Value: b}, {Key: "v", Value: bson.D{{Key: "$lte", Value: d.V}}}})
			if err != nil {
				return 0, mapErr(err, "cannot forget the expired leases")
			}
		}
	}
	return n, nil
}
