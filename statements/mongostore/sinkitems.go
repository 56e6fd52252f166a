package mongostore

import (
	"context"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

var _ statements.SinkStore = (*Store)(nil)

// sinkVersion is a version of a forwarder's item (see versions.go); a
// deletion is a version too. V counts the versions of the base; Ver is the
// item's Version, which starts again at 1 when a deleted item is created
// again.
type sinkVersion struct {
	ID      string `bson:"_id"`
	Base    string `bson:"base"`
	V       int64  `bson:"v"`
	At      int64  `bson:"at"` // unix ms of the write
	Sink    string `bson:"sk"`
	Tenant  string `bson:"tn"`
	Key     string `bson:"key"`
	Deleted bool   `bson:"del"`
	Value   []byte `bson:"val"`
	State   string `bson:"st"`
	Due     int64  `bson:"due"` // unix ms, 0 = none
	Ver     int64  `bson:"ver"`
	Updated int64  `bson:"upd"` // unix ms
}

func (v *sinkVersion) item() statements.SinkItem {
	it := statements.SinkItem{Sink: v.Sink, Tenant: v.Tenant, Key: v.Key, Value: v.Value, State: v.State,
		Version: v.Ver, Updated: time.UnixMilli(v.Updated).UTC()}
	if v.Due != 0 {
		it.Due = time.UnixMilli(v.Due).UTC()
	}
	return it
}

// currentSinkItem returns the latest version of an item (zero if none) and
// whether the item exists.
func (s *Store) currentSinkItem(ctx context.Context, b string) (*sinkVersion, bool, error) {
	var v sinkVersion
	found, err := latest(ctx, s.sinkItems, b, &v)
	if err != nil {
		return nil, false, err
	}
	return &v, found && !v.Deleted, nil
}

// SinkItem returns one item; see statements.SinkStore.
func (s *Store) SinkItem(ctx context.Context, sink, tenant, key string) (*statements.SinkItem, error) {
	v, exists, err := s.currentSinkItem(ctx, base(sink, tenant, key))
	if err != nil {
		return nil, mapErr(err, "cannot read the item "+key+" of "+sink)
	}
	if !exists {
		return nil, statements.Errorf(statements.ENotFound, "no item %q of %s", key, sink)
	}
	it := v.item()
	return &it, nil
}

// PutSinkItem writes an item if its version is it.Version; see
// statements.SinkStore. The next version's unique _id settles a race.
func (s *Store) PutSinkItem(ctx context.Context, it *statements.SinkItem) error {
	if it.Sink == "" || it.Key == "" {
		return statements.Errorf(statements.EInvalid, "a sink item needs a sink and a key")
	}
	b := base(it.Sink, it.Tenant, it.Key)
	readAt := time.Now()
	cur, exists, err := s.currentSinkItem(ctx, b)
	if err != nil {
		return mapErr(err, "cannot read the item "+it.Key+" of "+it.Sink)
	}
	var ver int64
	if exists {
		ver = cur.Ver
	}
	if ver != it.Version {
		return statements.Errorf(statements.EConflict, "the item %q of %s is not at version %d", it.Key, it.Sink, it.Version)
	}
	now := s.nowMs()
	next := &sinkVersion{ID: versionID(b, cur.V+1), Base: b, V: cur.V + 1, At: now, Sink: it.Sink, Tenant: it.Tenant,
		Key: it.Key, Value: it.Value, State: it.State, Ver: ver + 1, Updated: now}
	if !it.Due.IsZero() {
		next.Due = it.Due.UnixMilli()
	}
	ok, err := s.insertVersion(ctx, s.sinkItems, b, next.V, next, readAt)
	if err != nil {
		return mapErr(err, "cannot write the item "+it.Key+" of "+it.Sink)
	}
	if !ok {
		return statements.Errorf(statements.EConflict, "the item %q of %s changed while it was written", it.Key, it.Sink)
	}
	it.Version, it.Updated = next.Ver, time.UnixMilli(now).UTC()
	return nil
}

// DeleteSinkItem deletes an item if its version is version (0: any) by a
// deletion version; see statements.SinkStore.
func (s *Store) DeleteSinkItem(ctx context.Context, sink, tenant, key string, version int64) error {
	b := base(sink, tenant, key)
	for attempt := 0; ; attempt++ {
		readAt := time.Now()
		cur, exists, err := s.currentSinkItem(ctx, b)
		if err != nil {
			return mapErr(err, "cannot read the item "+key+" of "+sink)
		}
		if !exists {
			return nil
		}
		if version != 0 && cur.Ver != version {
			return statements.Errorf(statements.EConflict, "the item %q of %s is not at version %d", key, sink, version)
		}
		now := s.nowMs()
		next := &sinkVersion{ID: versionID(b, cur.V+1), Base: b, V: cur.V + 1, At: now, Sink: sink, Tenant: tenant,
			Key: key, Deleted: true, Updated: now}
		ok, err := s.insertVersion(ctx, s.sinkItems, b, next.V, next, readAt)
		if err != nil {
			return mapErr(err, "cannot delete the item "+key+" of "+sink)
		}
		if ok {
			return nil
		}
		if version != 0 {
			return statements.Errorf(statements.EConflict, "the item %q of %s changed while it was deleted", key, sink)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// SinkItems returns the items q selects; see statements.SinkStore.
//
// The filter selects versions, and an older version of an item may match
// where the latest does not: the candidates come in (tenant, key) order,
// the latest matching one of each item first, and each batch of them is
// checked against the latest versions of its items.
func (s *Store) SinkItems(ctx context.Context, q statements.SinkQuery) ([]statements.SinkItem, error) {
	if q.Sink == "" {
		return nil, statements.Errorf(statements.EInvalid, "a query of sink items needs a sink")
	}
	limit := q.Limit
	if limit <= 0 || limit > statements.MaxLimit {
		limit = statements.MaxLimit
	}
	f := bson.D{{Key: "sk", Value: q.Sink}, {Key: "del", Value: false}}
	if q.Tenant != "" {
		f = append(f, bson.E{Key: "tn", Value: q.Tenant})
	}
	if q.KeyPrefix != "" {
		f = append(f, bson.E{Key: "key", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(q.KeyPrefix)}})
	}
	if q.State != "" {
		f = append(f, bson.E{Key: "st", Value: q.State})
	}
	if !q.DueBy.IsZero() {
		f = append(f, bson.E{Key: "due", Value: bson.D{{Key: "$gt", Value: int64(0)}, {Key: "$lte", Value: q.DueBy.UnixMilli()}}})
	}
	if q.AfterTenant != "" || q.AfterKey != "" {
		f = append(f, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "tn", Value: bson.D{{Key: "$gt", Value: q.AfterTenant}}}},
			bson.D{{Key: "tn", Value: q.AfterTenant}, {Key: "key", Value: bson.D{{Key: "$gt", Value: q.AfterKey}}}},
		}})
	}
	const msg = "cannot list the items of "
	cur, err := s.sinkItems.Find(ctx, f, options.Find().
		SetSort(bson.D{{Key: "tn", Value: 1}, {Key: "key", Value: 1}, {Key: "v", Value: -1}}))
	if err != nil {
		return nil, mapErr(err, msg+q.Sink)
	}
	defer cur.Close(context.WithoutCancel(ctx))

	var out []statements.SinkItem
	var batch []sinkVersion
	var prev string // the base of the last candidate
	// keep appends the candidates of batch that are their item's latest
	// version.
	keep := func() error {
		bases := make(bson.A, len(batch))
		for i := range batch {
			bases[i] = batch[i].Base
		}
		c, err := s.sinkItems.Find(ctx, bson.D{{Key: "base", Value: bson.D{{Key: "$in", Value: bases}}}},
			options.Find().SetProjection(bson.D{{Key: "base", Value: 1}, {Key: "v", Value: 1}}))
		if err != nil {
			return err
		}
		var vs []sinkVersion
		if err := c.All(ctx, &vs); err != nil {
			return err
		}
		last := map[string]int64{}
		for _, v := range vs {
			last[v.Base] = max(last[v.Base], v.V)
		}
		for i := range batch {
			if batch[i].V == last[batch[i].Base] && len(out) < limit {
				out = append(out, batch[i].item())
			}
		}
		batch = batch[:0]
		return nil
	}
	for cur.Next(ctx) {
		var v sinkVersion
		if err := cur.Decode(&v); err != nil {
			return nil, mapErr(err, msg+q.Sink)
		}
		if v.Base == prev {
			continue // an older version of the same item
		}
		prev = v.Base
		batch = append(batch, v)
		if len(batch) >= max(limit-len(out), 16) {
			if err := keep(); err != nil {
				return nil, mapErr(err, msg+q.Sink)
			}
			if len(out) == limit {
				return out, nil
			}
		}
	}
	if err := cur.Err(); err != nil {
		return nil, mapErr(err, msg+q.Sink)
	}
	if len(batch) > 0 {
		if err := keep(); err != nil {
			return nil, mapErr(err, msg+q.Sink)
		}
	}
	return out, nil
}
