package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/digione/lrs/statements"
)

var _ statements.Sizer = (*Store)(nil)

// Size returns the database's storage and index size and the statements
// collection's count, as the server keeps them (dbStats, and the
// collection's metadata count); see statements.Sizer.
func (s *Store) Size(ctx context.Context) (statements.StoreSize, error) {
	var st bson.M
	if err := s.db.RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Decode(&st); err != nil {
		return statements.StoreSize{}, mapErr(err, "cannot read the size of the database")
	}
	n, err := s.stmts.EstimatedDocumentCount(ctx)
	if err != nil {
		return statements.StoreSize{}, mapErr(err, "cannot count the statements")
	}
	return statements.StoreSize{Bytes: number(st["storageSize"]) + number(st["indexSize"]), Statements: n}, nil
}

// number returns a number of a command's answer, whatever its BSON type.
func number(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}
