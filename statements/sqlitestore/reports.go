package sqlitestore

import (
	"context"

	"github.com/digione/lrs/statements"
)

// reportsTable holds the credentials' daily reports (schema version 7).
const reportsTable = `CREATE TABLE credential_reports (
		tenant     TEXT    NOT NULL,
		credential TEXT    NOT NULL,
		day        TEXT    NOT NULL,
		kind       TEXT    NOT NULL,
		template   TEXT    NOT NULL,
		rule       INTEGER NOT NULL,
		count      INTEGER NOT NULL,
		example    TEXT    NOT NULL,
		PRIMARY KEY (tenant, credential, day, kind, template, rule)
	) WITHOUT ROWID`

// AddReport adds counts to a credential's report in one transaction; see
// statements.ReportStore.
func (s *Store) AddReport(ctx context.Context, tenant, key string, counts []statements.ReportCount) error {
	if len(counts) == 0 {
		return nil
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot add to the report")
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO credential_reports (tenant, credential, day, kind, template, rule, count, example)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, credential, day, kind, template, rule) DO UPDATE SET count = count + excluded.count`)
	if err != nil {
		return mapErr(err, "cannot add to the report")
	}
	defer st.Close()
	for _, c := range counts {
		if _, err := st.ExecContext(ctx, tenant, key, c.Day, c.Kind, c.Template, c.Rule, c.Count, c.Example); err != nil {
			return mapErr(err, "cannot add to the report")
		}
	}
	return mapErr(tx.Commit(), "cannot add to the report")
}

// Report returns a credential's report rows; see statements.ReportStore.
func (s *Store) Report(ctx context.Context, tenant, key, since string) ([]statements.ReportCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT day, kind, template, rule, count, example FROM credential_reports
		WHERE tenant = ? AND credential = ? AND day >= ? ORDER BY day, kind, template, rule`, tenant, key, since)
	if err != nil {
		return nil, mapErr(err, "cannot read the report")
	}
	defer rows.Close()
	out := []statements.ReportCount{}
	for rows.Next() {
		var c statements.ReportCount
		if err := rows.Scan(&c.Day, &c.Kind, &c.Template, &c.Rule, &c.Count, &c.Example); err != nil {
			return nil, mapErr(err, "cannot read the report")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "cannot read the report")
}
