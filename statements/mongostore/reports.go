package mongostore

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
)

// reportDoc is a row of a credential's daily report, in the collection
// reports. Its _id joins tenant, credential, day, kind, template and rule;
// queries use the top-level fields.
type reportDoc struct {
	ID         string `bson:"_id"`
	Tenant     string `bson:"tn"`
	Credential string `bson:"cred"`
	Day        string `bson:"day"`
	Kind       string `bson:"kind"`
	Template   string `bson:"template"`
	Rule       int    `bson:"rule"`
	Count      int64  `bson:"count"`
	Example    string `bson:"example"`
}

// AddReport adds counts to a credential's report, one upsert per row; see
// statements.ReportStore.
func (s *Store) AddReport(ctx context.Context, tenant, key string, counts []statements.ReportCount) error {
	for _, c := range counts {
		id := strings.Join([]string{tenant, key, c.Day, c.Kind, c.Template, strconv.Itoa(c.Rule)}, "\x00")
		_, err := s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
			{Key: "$inc", Value: bson.D{{Key: "count", Value: c.Count}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "tn", Value: tenant}, {Key: "cred", Value: key}, {Key: "day", Value: c.Day},
				{Key: "kind", Value: c.Kind}, {Key: "template", Value: c.Template}, {Key: "rule", Value: c.Rule}, {Key: "example", Value: c.Example}}},
		}, options.UpdateOne().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) { // two first counts raced: the row exists now
			_, err = s.reports.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: c.Count}}}})
		}
		if err != nil {
			return mapErr(err, "cannot add to the report")
		}
	}
	return nil
}

// Report returns a credential's report rows; see statements.ReportStore.
func (s *Store) Report(ctx context.Context, tenant, key, since string) ([]statements.ReportCount, error) {
	cur, err := s.reports.Find(ctx, bson.D{{Key: "tn", Value: tenant}, {Key: "cred", Value: key}, {Key: "day", Value: bson.D{{Key: "$gte", Value: since}}}})
	if err != nil {
		return nil, mapErr(err, "cannot read the report")
	}
	var docs []reportDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err, "cannot read the report")
	}
	out := make([]statements.ReportCount, len(docs))
	for i, d := range docs {
		out[i] = statements.ReportCount{Day: d.Day, Kind: d.Kind, Template: d.Template, Rule: d.Rule, Count: d.Count, Example: d.Example}
	}
	slices.SortFunc(out, func(a, b statements.ReportCount) int {
		switch {
		case a.Day != b.Day:
			return strings.Compare(a.Day, b.Day)
		case a.Kind != b.Kind:
			return strings.Compare(a.Kind, b.Kind)
		case a.Template != b.Template:
			return strings.Compare(a.Template, b.Template)
		}
		return a.Rule - b.Rule
	})
	return out, nil
}
