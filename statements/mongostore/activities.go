package mongostore

import (
	"context"
	"time"

	"github.com/digione/lrs/statements"
)

// activityDoc is a version of the canonical definition of an activity.
type activityDoc struct {
	ID            string `bson:"_id"`
	Base          string `bson:"base"`
	V             int64  `bson:"v"`
	At            int64  `bson:"at"` // unix ms of the write
	Tenant        string `bson:"tn"`
	Activity      string `bson:"aid"`
	Definition    []byte `bson:"def"` // JSON, as bytes
	Authoritative bool   `bson:"auth"`
}

// ActivityDefinition returns the canonical definition of an activity; see
// statements.ActivityStore.
func (s *Store) ActivityDefinition(ctx context.Context, tenant, id string) ([]byte, error) {
	var d activityDoc
	found, err := latest(ctx, s.activities, base(tenant, id), &d)
	if err != nil {
		return nil, mapErr(err, "cannot read the activity definition")
	}
	if !found {
		return nil, statements.Errorf(statements.ENotFound, "no definition of activity %s", id)
	}
	return d.Definition, nil
}

// MergeActivityDefinition merges a definition into the canonical one by
// compare-and-swap; see statements.ActivityStore.
func (s *Store) MergeActivityDefinition(ctx context.Context, tenant, id string, definition []byte, authoritative bool) error {
	b := base(tenant, id)
	for attempt := 0; ; attempt++ {
		readAt := time.Now()
		var cur activityDoc
		found, err := latest(ctx, s.activities, b, &cur)
		if err != nil {
			return mapErr(err, "cannot read the activity definition")
		}
		var def []byte
		var curAuth bool
		if found {
			def, curAuth = cur.Definition, cur.Authoritative
		}
		merged, auth, err := statements.MergeDefinition(def, curAuth, definition, authoritative)
		if err != nil {
			return err
		}
		v := cur.V + 1
		ok, err := s.insertVersion(ctx, s.activities, b, v, activityDoc{ID: versionID(b, v), Base: b, V: v,
			At: s.nowMs(), Tenant: tenant, Activity: id, Definition: merged, Authoritative: auth}, readAt)
		if err != nil {
			return mapErr(err, "cannot store the activity definition")
		}
		if ok {
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}
