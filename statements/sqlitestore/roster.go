package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

var _ statements.RosterStore = (*Store)(nil)

// rosterSchema keeps the tenants' rosters (schema version 5): a table per
// kind of record with the record as JSON, and the tables the queries read
// by (identities, roles in orgs, enrollments by class and by user).
// ReplaceRoster rewrites a tenant's rows in one transaction.
var rosterSchema = []string{
	`CREATE TABLE tenant_identities (
		value  TEXT PRIMARY KEY,
		tenant TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE INDEX tenant_identities_tenant ON tenant_identities (tenant)`,
	`CREATE TABLE roster_status (
		tenant      TEXT    PRIMARY KEY,
		synced      INTEGER NOT NULL,
		orgs        INTEGER NOT NULL,
		users       INTEGER NOT NULL,
		classes     INTEGER NOT NULL,
		enrollments INTEGER NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE roster_orgs (
		tenant TEXT NOT NULL,
		id     TEXT NOT NULL,
		data   BLOB NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
	`CREATE TABLE roster_users (
		tenant TEXT NOT NULL,
		id     TEXT NOT NULL,
		data   BLOB NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
	`CREATE TABLE roster_identities (
		tenant   TEXT NOT NULL,
		identity TEXT NOT NULL,
		user     TEXT NOT NULL,
		PRIMARY KEY (tenant, identity, user)
	) WITHOUT ROWID`,
	`CREATE TABLE roster_roles (
		tenant TEXT NOT NULL,
		org    TEXT NOT NULL,
		role   TEXT NOT NULL,
		user   TEXT NOT NULL,
		PRIMARY KEY (tenant, org, role, user)
	) WITHOUT ROWID`,
	`CREATE TABLE roster_classes (
		tenant TEXT NOT NULL,
		id     TEXT NOT NULL,
		school TEXT NOT NULL,
		data   BLOB NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
	`CREATE INDEX roster_classes_school ON roster_classes (tenant, school, id)`,
	`CREATE TABLE roster_enrollments (
		tenant TEXT NOT NULL,
		id     TEXT NOT NULL,
		class  TEXT NOT NULL,
		user   TEXT NOT NULL,
		role   TEXT NOT NULL,
		data   BLOB NOT NULL,
		PRIMARY KEY (tenant, id)
	) WITHOUT ROWID`,
	`CREATE INDEX roster_enrollments_class ON roster_enrollments (tenant, class, role, user)`,
	`CREATE INDEX roster_enrollments_user ON roster_enrollments (tenant, user, role, class)`,
}

// rosterTables are the tables ReplaceRoster empties of the tenant's rows.
var rosterTables = []string{"roster_orgs", "roster_users", "roster_identities", "roster_roles", "roster_classes", "roster_enrollments"}

// rowsPerInsert is how many rows one INSERT statement of ReplaceRoster
// carries (at most 6 values each, far below SQLite's limit of variables).
const rowsPerInsert = 500

// ReplaceRoster replaces the tenant's roster in one transaction; see
// statements.RosterStore.
func (s *Store) ReplaceRoster(ctx context.Context, tenant string, r *statements.Roster) error {
	if err := r.Check(); err != nil {
		return err
	}
	ins := map[string][][]any{}
	add := func(table string, row ...any) { ins[table] = append(ins[table], row) }
	for _, o := range r.Orgs {
		b, _ := json.Marshal(o)
		add("roster_orgs", tenant, o.SourcedID, b)
	}
	for _, u := range r.Users {
		b, _ := json.Marshal(u)
		add("roster_users", tenant, u.SourcedID, b)
		seen := map[string]bool{}
		for _, id := range u.Identities {
			if !seen[id] {
				seen[id] = true
				add("roster_identities", tenant, id, u.SourcedID)
			}
		}
		seen = map[string]bool{}
		for _, ro := range u.Roles {
			if k := ro.Org + "\x00" + ro.Role; !seen[k] {
				seen[k] = true
				add("roster_roles", tenant, ro.Org, ro.Role, u.SourcedID)
			}
		}
	}
	for _, c := range r.Classes {
		b, _ := json.Marshal(c)
		add("roster_classes", tenant, c.SourcedID, c.School, b)
	}
	for _, e := range r.Enrollments {
		b, _ := json.Marshal(e)
		add("roster_enrollments", tenant, e.SourcedID, e.Class, e.User, e.Role, b)
	}

	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "cannot replace the roster")
	}
	defer tx.Rollback()
	for _, table := range rosterTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant = ?`, tenant); err != nil {
			return mapErr(err, "cannot replace the roster")
		}
		if err := insertRows(ctx, tx, table, ins[table]); err != nil {
			return mapErr(err, "cannot replace the roster")
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO roster_status (tenant, synced, orgs, users, classes, enrollments)
		VALUES (?, ?, ?, ?, ?, ?)`, tenant, r.Synced.UnixMilli(), len(r.Orgs), len(r.Users), len(r.Classes), len(r.Enrollments))
	if err != nil {
		return mapErr(err, "cannot replace the roster")
	}
	return mapErr(tx.Commit(), "cannot replace the roster")
}

// insertRows inserts rows (all of one width) into table, rowsPerInsert at
// a time.
func insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	one := "(?" + strings.Repeat(", ?", width-1) + ")"
	var st *sql.Stmt
	stN := 0
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	args := make([]any, 0, rowsPerInsert*width)
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		if st == nil || n != stN {
			if st != nil {
				st.Close()
			}
			q := `INSERT INTO ` + table + ` VALUES ` + one + strings.Repeat(", "+one, n-1)
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stN = n
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// RosterStatus returns the counts of the tenant's roster; see
// statements.RosterStore.
func (s *Store) RosterStatus(ctx context.Context, tenant string) (statements.RosterStatus, error) {
	var st statements.RosterStatus
	var synced int64
	err := s.r.QueryRowContext(ctx, `SELECT synced, orgs, users, classes, enrollments FROM roster_status WHERE tenant = ?`, tenant).
		Scan(&synced, &st.Orgs, &st.Users, &st.Classes, &st.Enrollments)
	if errors.Is(err, sql.ErrNoRows) {
		return statements.RosterStatus{}, nil
	}
	if err != nil {
		return statements.RosterStatus{}, mapErr(err, "cannot read the roster")
	}
	st.Synced = time.UnixMilli(synced).UTC()
	return st, nil
}

// The roster's queries (TestRosterQueryPlans checks that indexes serve
// them).
const (
	qRosterUser   = `SELECT data FROM roster_users WHERE tenant = ? AND id = ?`
	qRosterPerson = `SELECT data FROM roster_users WHERE tenant = ?1 AND id IN
		(SELECT user FROM roster_identities WHERE tenant = ?1 AND identity = ?2) ORDER BY id LIMIT 2`
	qRosterOrg   = `SELECT data FROM roster_orgs WHERE tenant = ? AND id = ?`
	qRosterClass = `SELECT data FROM roster_classes WHERE tenant = ? AND id = ?`
	qClassesOf   = `SELECT data FROM roster_classes WHERE tenant = ?1 AND id IN
		(SELECT class FROM roster_enrollments WHERE tenant = ?1 AND user = ?2 AND (?3 = '' OR role = ?3)) ORDER BY id`
	qClassMembers = `SELECT data FROM roster_users WHERE tenant = ?1 AND id IN
		(SELECT user FROM roster_enrollments WHERE tenant = ?1 AND class = ?2 AND (?3 = '' OR role = ?3)) ORDER BY id`
	qSchoolClasses = `SELECT data FROM roster_classes INDEXED BY roster_classes_school WHERE tenant = ? AND school = ? ORDER BY id`
	qOrgMembers    = `SELECT data FROM roster_users WHERE tenant = ?1 AND id IN
		(SELECT user FROM roster_roles WHERE tenant = ?1 AND org = ?2 AND (?3 = '' OR role = ?3)) ORDER BY id`
)

// RosterUser returns one user; see statements.RosterStore.
func (s *Store) RosterUser(ctx context.Context, tenant, sourcedID string) (*statements.RosterUser, error) {
	us, err := queryRoster[statements.RosterUser](ctx, s, qRosterUser, tenant, sourcedID)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster user %s", sourcedID)
	}
	return &us[0], nil
}

// RosterPerson returns the user with an identity; see
// statements.RosterStore.
func (s *Store) RosterPerson(ctx context.Context, tenant, identity string) (*statements.RosterUser, error) {
	us, err := queryRoster[statements.RosterUser](ctx, s, qRosterPerson, tenant, identity)
	if err != nil {
		return nil, err
	}
	switch len(us) {
	case 0:
		return nil, statements.Errorf(statements.ENotFound, "no roster user has this identity")
	case 1:
		return &us[0], nil
	}
	return nil, statements.Errorf(statements.EConflict, "roster users %s and %s have the same identity", us[0].SourcedID, us[1].SourcedID)
}

// RosterOrg returns one org; see statements.RosterStore.
func (s *Store) RosterOrg(ctx context.Context, tenant, sourcedID string) (*statements.RosterOrg, error) {
	os, err := queryRoster[statements.RosterOrg](ctx, s, qRosterOrg, tenant, sourcedID)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster org %s", sourcedID)
	}
	return &os[0], nil
}

// RosterClass returns one class; see statements.RosterStore.
func (s *Store) RosterClass(ctx context.Context, tenant, sourcedID string) (*statements.RosterClass, error) {
	cs, err := queryRoster[statements.RosterClass](ctx, s, qRosterClass, tenant, sourcedID)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, statements.Errorf(statements.ENotFound, "no roster class %s", sourcedID)
	}
	return &cs[0], nil
}

// ClassesOf returns a user's classes; see statements.RosterStore.
func (s *Store) ClassesOf(ctx context.Context, tenant, user, role string) ([]statements.RosterClass, error) {
	return queryRoster[statements.RosterClass](ctx, s, qClassesOf,
		tenant, user, role)
}

// ClassMembers returns a class's users; see statements.RosterStore.
func (s *Store) ClassMembers(ctx context.Context, tenant, class, role string) ([]statements.RosterUser, error) {
	return queryRoster[statements.RosterUser](ctx, s, qClassMembers,
		tenant, class, role)
}

// SchoolClasses returns a school's classes; see statements.RosterStore.
func (s *Store) SchoolClasses(ctx context.Context, tenant, org string) ([]statements.RosterClass, error) {
	return queryRoster[statements.RosterClass](ctx, s, qSchoolClasses,
		tenant, org)
}

// OrgMembers returns the users with a role in an org; see
// statements.RosterStore.
func (s *Store) OrgMembers(ctx context.Context, tenant, org, role string) ([]statements.RosterUser, error) {
	return queryRoster[statements.RosterUser](ctx, s, qOrgMembers,
		tenant, org, role)
}

// queryRoster runs q, which selects one JSON column, and decodes each row
// into a T.
func queryRoster[T any](ctx context.Context, s *Store, q string, args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, "cannot read the roster")
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, mapErr(err, "cannot read the roster")
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, statements.Internal(err, "cannot read the roster")
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err(), "cannot read the roster")
}
