package storetrace

import (
	"context"

	"github.com/digione/lrs/statements"
)

// AddReport traces statements.ReportStore.AddReport.
func (s *Store) AddReport(ctx context.Context, tenant, key string, counts []statements.ReportCount) error {
	ctx, span := s.start(ctx, "AddReport", AttrTenant.String(tenant), AttrCredential.String(key), AttrRecords.Int(len(counts)))
	err := s.next.AddReport(ctx, tenant, key, counts)
	end(span, err)
	return err
}

// Report traces statements.ReportStore.Report.
func (s *Store) Report(ctx context.Context, tenant, key, since string) ([]statements.ReportCount, error) {
	ctx, span := s.start(ctx, "Report", AttrTenant.String(tenant), AttrCredential.String(key))
	rows, err := s.next.Report(ctx, tenant, key, since)
	records(span, len(rows))
	end(span, err)
	return rows, err
}
