package mongostore

import (
	"context"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/digione/lrs/statements"
)

// CrashBeforeCommit does what InsertStatements does up to its commit and
// stops, as a writer that dies there.
func CrashBeforeCommit(ctx context.Context, s *Store, tenant string, recs []*statements.Record) error {
	_, err := s.claimOnly(ctx, tenant, recs)
	return err
}

// CrashAfterCommit does what InsertStatements does up to its commit,
// commits, and stops, as a writer that dies right after.
func CrashAfterCommit(ctx context.Context, s *Store, tenant string, recs []*statements.Record) error {
	b, err := s.claimOnly(ctx, tenant, recs)
	if err != nil {
		return err
	}
	_, err = s.decide(ctx, b, true)
	return err
}

func (s *Store) claimOnly(ctx context.Context, tenant string, recs []*statements.Record) (*block, error) {
	b, err := s.reserve(ctx, tenant, len(recs))
	if err != nil {
		return nil, err
	}
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = &stmtDoc{ID: key(tenant, strings.ToLower(r.ID)), Tenant: tenant, SID: strings.ToLower(r.ID),
			Pos: b.Lo + int64(i), Stored: b.St, Block: b.Seq, Fingerprint: r.Fingerprint, Credential: r.Credential,
			Terms: r.Terms, Statement: r.Statement}
	}
	_, err = s.pending.InsertMany(ctx, docs)
	return b, err
}

// TrimLog trims the log as the background trim does, with the given
// cutoff.
func TrimLog(ctx context.Context, s *Store, cutoff time.Time) error {
	return s.trimLog(ctx, cutoff.UnixMilli())
}

// LogSizes returns the numbers of documents in the log and outcomes
// collections.
func LogSizes(ctx context.Context, s *Store) (blocks, outcomes int64, err error) {
	if blocks, err = s.log.CountDocuments(ctx, bson.D{}); err != nil {
		return 0, 0, err
	}
	outcomes, err = s.outcomes.CountDocuments(ctx, bson.D{})
	return blocks, outcomes, err
}

// LeaseVersions returns the number of versions of leases kept.
func LeaseVersions(ctx context.Context, s *Store) (int64, error) {
	return s.leases.CountDocuments(ctx, bson.D{})
}

// RosterRecords counts the records of every roster generation of tenant
// the store holds, current or not.
func RosterRecords(ctx context.Context, s *Store, tenant string) (int64, error) {
	var n int64
	for _, c := range []*mongo.Collection{s.rosterOrgs, s.rosterUsers, s.rosterClasses, s.rosterEnrollments} {
		k, err := c.CountDocuments(ctx, bson.D{{Key: "tn", Value: tenant}})
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// SetAfterRosterGen makes every roster read call f between reading the
// current generation and reading its records.
func SetAfterRosterGen(s *Store, f func()) { s.afterRosterGen = f }
