package mongostore

import (
	"context"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// The retention collection holds each tenant's retention: _id = tenant,
// days. Positions come from the log's chain of blocks, not from the
// statements, so deleting the newest statements gives no position twice.

func (s *Store) retention() *mongo.Collection { return s.db.Collection("retention") }

type retentionDoc struct {
	Tenant string `bson:"_id"`
	Days   int    `bson:"days"`
}

// SetRetention keeps a tenant's retention; see statements.Eraser.
func (s *Store) SetRetention(ctx context.Context, tenant string, days int) error {
	if days < 0 {
		return statements.Errorf(statements.EInvalid, "retention: days must be 0 (for ever) or more, not %d", days)
	}
	if days == 0 {
		_, err := s.retention().DeleteOne(ctx, bson.D{{Key: "_id", Value: tenant}})
		return mapErr(err, "cannot set the retention")
	}
	_, err := s.retention().ReplaceOne(ctx, bson.D{{Key: "_id", Value: tenant}}, retentionDoc{Tenant: tenant, Days: days},
		options.Replace().SetUpsert(true))
	return mapErr(err, "cannot set the retention")
}

// Retentions returns the tenants' retentions; see statements.Eraser.
func (s *Store) Retentions(ctx context.Context) ([]statements.Retention, error) {
	cur, err := s.retention().Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, mapErr(err, "cannot read the retentions")
	}
	var docs []retentionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the retentions")
	}
	out := make([]statements.Retention, len(docs))
	for i, d := range docs {
		out[i] = statements.Retention{Tenant: d.Tenant, Days: d.Days}
	}
	return out, nil
}

// EraseBefore deletes a tenant's oldest statements; see
// statements.Eraser. The {tn, st, pos} index finds them.
func (s *Store) EraseBefore(ctx context.Context, tenant string, before time.Time, limit int) (int, []string, error) {
	cur, err := s.stmts.Find(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "st", Value: bson.D{{Key: "$lt", Value: before.UnixMilli()}}}},
		options.Find().SetSort(bson.D{{Key: "st", Value: 1}, {Key: "pos", Value: 1}}).SetLimit(int64(statements.ErasureLimit(limit))).
			SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "stmt", Value: 1}}))
	if err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	var docs []struct {
		ID        string `bson:"_id"`
		Statement []byte `bson:"stmt"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	if len(docs) == 0 {
		return 0, nil, nil
	}
	atts := map[string]bool{}
	ids := make([]string, len(docs))
	var links []string
	for i, d := range docs {
		ids[i] = d.ID
		for _, h := range statements.AttachmentHashes(d.Statement) {
			atts[h] = true
		}
		links = append(links, linkRef+":"+d.ID, linkVoids+":"+d.ID)
	}
	if _, err := s.links.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: links}}}}); err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	res, err := s.stmts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, nil, mapErr(err, "cannot erase")
	}
	return int(res.DeletedCount), slices.Sorted(maps.Keys(atts)), nil
}

// DeleteTenant deletes a tenant's data a step at a time; see
// statements.Eraser. After the statements, every collection that keeps
// tenants' data loses the tenant's documents; attachments go file by
// file, each with its chunks.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) (bool, error) {
	n, _, err := s.EraseBefore(ctx, tenant, time.UnixMilli(1<<50), statements.ErasureBatch)
	if err != nil || n > 0 {
		return false, err
	}
	byTn := bson.D{{Key: "tn", Value: tenant}}
	for _, c := range []*mongo.Collection{s.pending, s.documents, s.activities, s.rosters, s.rosterOrgs, s.rosterUsers,
		s.rosterClasses, s.rosterEnrollments, s.sinkItems, s.tenantIDs, s.erasureLog(), s.erasureDocs(), s.reports} {
		if _, err := c.DeleteMany(ctx, byTn); err != nil {
			return false, mapErr(err, "cannot delete the tenant")
		}
	}
	prefix := bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: tenant + "/"}, {Key: "$lt", Value: tenant + "0"}}}}
	cur, err := s.files.Find(ctx, prefix)
	if err != nil {
		return false, mapErr(err, "cannot delete the tenant's attachments")
	}
	var files []fileDoc
	if err := cur.All(ctx, &files); err != nil {
		return false, mapErr(err, "cannot delete the tenant's attachments")
	}
	for _, f := range files {
		if _, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: f.ID}}); err != nil {
			return false, mapErr(err, "cannot delete the tenant's attachments")
		}
		if _, err := s.chunks.DeleteMany(ctx, bson.D{{Key: "u", Value: f.Upload}}); err != nil {
			return false, mapErr(err, "cannot delete the tenant's attachments")
		}
	}
	for _, c := range []*mongo.Collection{s.erasureKeys(), s.retention()} {
		if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: tenant}}); err != nil {
			return false, mapErr(err, "cannot delete the tenant")
		}
	}
	// The credentials, then the tenant: last, so that a step cut short
	// leaves a tenant to delete again.
	if _, err := s.credentials.DeleteMany(ctx, byTn); err != nil {
		return false, mapErr(err, "cannot delete the tenant")
	}
	if _, err := s.tenants.DeleteOne(ctx, bson.D{{Key: "_id", Value: tenant}}); err != nil {
		return false, mapErr(err, "cannot delete the tenant")
	}
	return true, nil
}

// EraseAuditBefore deletes a tenant's older audit entries; see
// statements.Eraser.
func (s *Store) EraseAuditBefore(ctx context.Context, tenant string, before time.Time) (int, error) {
	if tenant == "" {
		return 0, statements.Errorf(statements.EInvalid, "retention: a tenant is required")
	}
	res, err := s.audit.DeleteMany(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "t", Value: bson.D{{Key: "$lt", Value: before.UnixMilli()}}}})
	if err != nil {
		return 0, mapErr(err, "cannot erase audit entries")
	}
	return int(res.DeletedCount), nil
}

// DeleteUnusedAttachments deletes the attachments no statement has; see
// statements.Eraser.
func (s *Store) DeleteUnusedAttachments(ctx context.Context, tenant string, hashes []string) (int, error) {
	set := map[string]bool{}
	for _, h := range hashes {
		set[h] = true
	}
	return s.deleteUnusedAttachments(ctx, tenant, set)
}
