package mongostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Documents and activity definitions are kept as versions: each write
// inserts the next version of its key, _id = base/version, and the unique
// _id makes it a compare-and-swap (a racing writer inserts the same _id
// and loses). Neither an update's filter nor findAndModify is a
// compare-and-swap on FerretDB, which reads, changes and writes back
// without isolation; an insert is one on every server.
//
// A version superseded for longer than versionGrace is deleted by the next
// write. A writer that took longer than half of it between reading the
// version it replaces and inserting the next deletes its own version and
// fails, since the version it saw could have been deleted and reinserted.
const versionGrace = time.Minute

// base returns the base of a key: a hash of its parts.
func base(parts ...string) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func versionID(base string, v int64) string { return fmt.Sprintf("%s/%020d", base, v) }

// latest decodes the latest version of base into out; false if none.
func latest(ctx context.Context, c *mongo.Collection, base string, out any) (bool, error) {
	err := c.FindOne(ctx, bson.D{{Key: "base", Value: base}}, options.FindOne().SetSort(bson.D{{Key: "v", Value: -1}})).Decode(out)
	if isNoDocuments(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// insertVersion inserts doc, version v of base (its _id versionID(base,
// v)), read from version v-1 at readAt; false if another writer inserted
// version v first.
func (s *Store) insertVersion(ctx context.Context, c *mongo.Collection, base string, v int64, doc any, readAt time.Time) (bool, error) {
	_, err := c.InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if time.Since(readAt) > versionGrace/2 {
		_, err := c.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: versionID(base, v)}})
		return false, err
	}
	_, err = c.DeleteMany(ctx, bson.D{{Key: "base", Value: base}, {Key: "v", Value: bson.D{{Key: "$lt", Value: v}}},
		{Key: "at", Value: bson.D{{Key: "$lt", Value: s.now().Add(-versionGrace).UnixMilli()}}}})
	return true, err
}
