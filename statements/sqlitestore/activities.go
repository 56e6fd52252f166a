package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"

	"github.com/digione/lrs/statements"
)

// activitiesSchema holds the tables of the activity definitions.
var activitiesSchema = []string{
	`CREATE TABLE activity_definitions (
		tenant        TEXT    NOT NULL,
		id            TEXT    NOT NULL,
		definition    BLOB    NOT NULL,
		authoritative INTEGER NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
}

const (
	qActivityDefinition = `SELECT definition, authoritative FROM activity_definitions WHERE tenant = ? AND id = ?`
	qPutActivity        = `INSERT INTO activity_definitions (tenant, id, definition, authoritative) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition, authoritative = excluded.authoritative`
)

// ActivityDefinition returns the canonical definition of activity id.
func (s *Store) ActivityDefinition(ctx context.Context, tenant, id string) ([]byte, error) {
	def, _, found, err := s.activityDefinition(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, statements.Errorf(statements.ENotFound, "no definition of activity %s", id)
	}
	return def, nil
}

func (s *Store) activityDefinition(ctx context.Context, tenant, id string) (def []byte, auth, found bool, err error) {
	st, err := s.read(ctx, qActivityDefinition)
	if err != nil {
		return nil, false, false, err
	}
	err = st.QueryRowContext(ctx, tenant, id).Scan(&def, &auth)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, mapErr(err, "cannot read the activity definition")
	}
	return def, auth, true, nil
}

// MergeActivityDefinition merges definition into the canonical one under
// the write lock. A definition that changes nothing (the common case: the
// same activity sent again) is recognised on a reader connection and costs
// no write.
func (s *Store) MergeActivityDefinition(ctx context.Context, tenant, id string, definition []byte, authoritative bool) error {
	cur, curAuth, _, err := s.activityDefinition(ctx, tenant, id)
	if err != nil {
		return err
	}
	merged, auth, err := statements.MergeDefinition(cur, curAuth, definition, authoritative)
	if err != nil {
		return err
	}
	if cur != nil && auth == curAuth && sameJSON(cur, merged) {
		return nil
	}

	// The write joins the group commit of the statements being stored.
	return s.write(ctx, tenant, nil, func(w *writeTx, _, pos int64) (int64, error) {
		cur, curAuth := []byte(nil), false
		if _, err := w.row(qActivityDefinition, []any{tenant, id}, &cur, &curAuth); err != nil {
			return pos, mapErr(err, "cannot store the activity definition")
		}
		merged, auth, err := statements.MergeDefinition(cur, curAuth, definition, authoritative)
		if err != nil {
			return pos, err
		}
		if cur != nil && auth == curAuth && sameJSON(cur, merged) {
			return pos, nil
		}
		if merged, err = compactJSON(merged); err != nil {
			return pos, err
		}
		if err := w.exec(qPutActivity, tenant, id, merged, auth); err != nil {
			return pos, mapErr(err, "cannot store the activity definition")
		}
		return pos, nil
	})
}

// sameJSON reports whether two JSON values are equal as values.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func compactJSON(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, statements.Errorf(statements.EInvalid, "definition: %v", err)
	}
	return buf.Bytes(), nil
}
