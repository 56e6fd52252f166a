package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Info describes a MongoDB store without changing it. The store has no
// schema version: New creates what is missing (the log's first block, the
// indexes) and every version of this package reads the documents of the
// others.
type Info struct {
	Exists         bool     // the database holds the statement log
	MissingIndexes []string // "collection.index" that New would create
	Statements     int64    // estimated from the collection's metadata
	Tenants        int64
}

// Inspect describes the store at uri, as New would open it with opts,
// without changing it.
func Inspect(ctx context.Context, uri string, opts ...Option) (Info, error) {
	var info Info
	s, err := connect(ctx, uri, opts...)
	if err != nil {
		return info, err
	}
	defer s.Close()
	n, err := s.log.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
	if err != nil {
		return info, mapErr(err, "cannot read the statement log")
	}
	info.Exists = n > 0
	have, listed := map[string]bool{}, map[string]bool{}
	for _, ix := range s.indexes() {
		name := ix.coll.Name() + "." + ix.name
		if !listed[ix.coll.Name()] {
			listed[ix.coll.Name()] = true
			specs, err := ix.coll.Indexes().ListSpecifications(ctx)
			if err != nil {
				return info, mapErr(err, "cannot list the indexes of "+ix.coll.Name())
			}
			for _, sp := range specs {
				have[ix.coll.Name()+"."+sp.Name] = true
			}
		}
		if !have[name] {
			info.MissingIndexes = append(info.MissingIndexes, name)
		}
	}
	if info.Statements, err = s.stmts.EstimatedDocumentCount(ctx); err != nil {
		return info, mapErr(err, "cannot count the statements")
	}
	if info.Tenants, err = s.tenants.CountDocuments(ctx, bson.D{}); err != nil {
		return info, mapErr(err, "cannot count the tenants")
	}
	return info, nil
}
