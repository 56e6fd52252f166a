package sqlitestore_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

// TestStore_Version1Rows: a database of schema version 1 (statements as
// they are, fingerprints as hex TEXT) opens, reads as before, and takes
// new statements beside its old rows.
func TestStore_Version1Rows(t *testing.T) {
	dir := t.TempDir()
	old := []*statements.Record{record(t, stmtJSON), storetest.Record(t, benchStatement(1)), storetest.Record(t, benchStatement(2))}
	// Make it a version 1 database: the same tables, the values as version
	// 1 wrote them.
	db := storedThenRaw(t, dir, old)
	for _, r := range old {
		var tag []byte
		var fpType string
		if err := db.QueryRow(`SELECT substr(statement, 1, 1), typeof(fingerprint) FROM statements WHERE id = ?`, r.ID).Scan(&tag, &fpType); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tag, []byte{2}) || fpType != "blob" {
			t.Errorf("statement %s as written: tag %x, fingerprint %s; want 02, blob", r.ID, tag, fpType)
		}
		if _, err := db.Exec(`UPDATE statements SET statement = ?, fingerprint = ? WHERE id = ?`, r.Statement, r.Fingerprint, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	downgrade(t, db, 1)

	s := MustOpenStore(t, dir)
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 12 {
		t.Errorf("schema version after New: %d, %v; want 12", v, err)
	}
	same := func(what string, got, want *statements.Record) {
		t.Helper()
		if !bytes.Equal(got.Statement, want.Statement) || got.Fingerprint != want.Fingerprint || got.Position != want.Position {
			t.Errorf("%s %s: got %q (fingerprint %s, position %d), want %q (%s, %d)", what, want.ID,
				got.Statement, got.Fingerprint, got.Position, want.Statement, want.Fingerprint, want.Position)
		}
	}
	for _, r := range old {
		got, err := s.Statement(t.Context(), "t", r.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		same("Statement", got, r)
	}
	page, err := s.QueryStatements(t.Context(), "t", statements.Filter{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != len(old) {
		t.Fatalf("QueryStatements: %d records, want %d", len(page.Records), len(old))
	}
	for i, r := range old {
		same("QueryStatements", page.Records[i], r)
	}
	log, err := s.ReadLog(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range old {
		same("ReadLog", log[i].Record, r)
	}

	// The same statement again is idempotent (the TEXT fingerprint
	// compares equal), other content with its id conflicts.
	again := *old[1]
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{&again}); err != nil {
		t.Fatalf("the same statement again: %v", err)
	}
	if again.Position != old[1].Position {
		t.Errorf("the same statement again: position %d, want %d", again.Position, old[1].Position)
	}
	other := storetest.Record(t, benchStatement(3))
	other.ID = old[1].ID
	err = s.InsertStatements(t.Context(), "t", []*statements.Record{other})
	if got := statements.ErrorCode(err); got != statements.EConflict {
		t.Errorf("other content under a stored id: got %v, want a conflict", err)
	}

	// New rows are compressed beside the old ones.
	r := storetest.Record(t, benchStatement(4))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statement(t.Context(), "t", r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	same("new Statement", got, r)
	var n int
	if err := db.QueryRow(`SELECT length(statement) FROM statements WHERE id = ?`, r.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n >= len(r.Statement)/2 {
		t.Errorf("new statement: %d bytes stored for %d", n, len(r.Statement))
	}
}

// TestStore_Version9ZstdRows: a database of schema version 9 (statements
// in zstd frames) opens, reads as before everywhere a statement is read,
// and stores new statements as S2 blocks beside its old rows.
func TestStore_Version9ZstdRows(t *testing.T) {
	dir := t.TempDir()
	var old []*statements.Record
	for i := range 20 {
		old = append(old, storetest.Record(t, benchStatement(i)))
	}
	old = append(old, record(t, stmtJSON))
	db := storedThenRaw(t, dir, old)
	for _, r := range old {
		v := sqlitestore.EncodeZstdV1(r.Statement)
		if v[0] != 1 {
			t.Fatalf("zstd value of %s: tag %x", r.ID, v[0])
		}
		if _, err := db.Exec(`UPDATE statements SET statement = ? WHERE id = ?`, v, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	downgrade(t, db, 9)

	s := MustOpenStore(t, dir)
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 12 {
		t.Errorf("schema version after New: %d, %v; want 12", v, err)
	}
	for _, r := range old {
		got, err := s.Statement(t.Context(), "t", r.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Statement, r.Statement) {
			t.Errorf("Statement %s: got %q, want %q", r.ID, got.Statement, r.Statement)
		}
	}
	page, err := s.QueryStatements(t.Context(), "t", statements.Filter{Ascending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	log, err := s.ReadLog(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != len(old) || len(log) != len(old) {
		t.Fatalf("QueryStatements %d records, ReadLog %d; want %d", len(page.Records), len(log), len(old))
	}
	for i, r := range old {
		if !bytes.Equal(page.Records[i].Statement, r.Statement) || !bytes.Equal(log[i].Record.Statement, r.Statement) {
			t.Errorf("statement %s: QueryStatements %q, ReadLog %q; want %q", r.ID, page.Records[i].Statement, log[i].Record.Statement, r.Statement)
		}
	}

	r := storetest.Record(t, benchStatement(100))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statement(t.Context(), "t", r.ID, false)
	if err != nil || !bytes.Equal(got.Statement, r.Statement) {
		t.Fatalf("new Statement: %q, %v; want %q", got.Statement, err, r.Statement)
	}
	var tag []byte
	var n int
	if err := db.QueryRow(`SELECT substr(statement, 1, 1), length(statement) FROM statements WHERE id = ?`, r.ID).Scan(&tag, &n); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tag, []byte{2}) || n >= len(r.Statement)/2 {
		t.Errorf("new statement: tag %x, %d bytes for %d; want tag 02 and less than half", tag, n, len(r.Statement))
	}
}

// TestStore_StatementBytes: the store gives back exactly the bytes it was
// given, whatever they are.
func TestStore_StatementBytes(t *testing.T) {
	s := MustOpenStore(t, t.TempDir())
	var recs []*statements.Record
	for _, b := range [][]byte{
		[]byte("{}"),
		{0},
		{1, '{', '}'},
		{0xff, 0xfe, 0x80, 0x00, 0x01},
		[]byte("\x01\x28\xb5\x2f\xfd"),
		bytes.Repeat([]byte("\x01{\"a\":\"\xc3\xa4\xff\"}"), 100),
		benchStatement(7),
	} {
		r := record(t, stmtJSON)
		r.Statement = b
		recs = append(recs, r)
	}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		got, err := s.Statement(t.Context(), "t", r.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Statement, r.Statement) {
			t.Errorf("Statement: got %q, want %q", got.Statement, r.Statement)
		}
	}
}

// downgrade gives a database of the current schema the tables of schema
// version v (1, 2 or 3): no credentials.xapi_version, and before 3 the
// terms' counts in terms.n.
func downgrade(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	var qs []string
	if v < 12 {
		qs = append(qs, `DROP TABLE pair_postings`, `DROP TABLE pairs_from`, `ALTER TABLE statements DROP COLUMN pairs`)
	}
	if v < 11 {
		qs = append(qs, `DROP TABLE merged_through`)
	}
	if v < 9 {
		qs = append(qs, `ALTER TABLE tenants DROP COLUMN sandbox`, `ALTER TABLE tenants DROP COLUMN expires`)
	}
	if v < 8 {
		qs = append(qs, `DROP TABLE erasure_log`, `DROP TABLE erasures`, `DROP TABLE erasure_keys`, `DROP TABLE retention`, `DROP TABLE log_end`)
	}
	if v < 7 {
		qs = append(qs, `ALTER TABLE credentials DROP COLUMN profile_mode`, `DROP TABLE credential_reports`)
	}
	if v < 6 {
		qs = append(qs, `DROP INDEX documents_agent`)
	}
	if v < 5 {
		qs = append(qs, `ALTER TABLE tenants DROP COLUMN identity_values`)
		for _, t := range []string{"tenant_identities", "roster_status", "roster_orgs", "roster_users", "roster_identities",
			"roster_roles", "roster_classes", "roster_enrollments"} {
			qs = append(qs, `DROP TABLE `+t)
		}
	}
	if v < 4 {
		qs = append(qs, `ALTER TABLE credentials DROP COLUMN xapi_version`, `ALTER TABLE tenants DROP COLUMN cors_origins`)
	}
	if v < 3 {
		qs = append(qs,
			`ALTER TABLE terms ADD COLUMN n INTEGER NOT NULL DEFAULT 0`,
			`UPDATE terms SET n = coalesce((SELECT c.n FROM term_counts c WHERE c.term_id = terms.term_id), 0)`,
			`DROP TABLE term_counts`)
	}
	for _, q := range append(qs, fmt.Sprintf(`PRAGMA user_version = %d`, v)) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestStore_Version2Counts: New moves the terms' counts of a version 2
// database to term_counts, and queries and new statements use them.
func TestStore_Version2Counts(t *testing.T) {
	dir := t.TempDir()
	var old []*statements.Record
	for i := range 50 {
		old = append(old, storetest.Record(t, benchStatement(i)))
	}
	db := storedThenRaw(t, dir, old)
	counts := func() map[string]int {
		t.Helper()
		rows, err := db.Query(`SELECT t.term, count(*) FROM terms t JOIN postings p ON p.term_id = t.term_id GROUP BY t.term`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int{}
		for rows.Next() {
			var term string
			var n int
			if err := rows.Scan(&term, &n); err != nil {
				t.Fatal(err)
			}
			m[term] = n
		}
		return m
	}
	stored := func(q string) map[string]int {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int{}
		for rows.Next() {
			var term string
			var n int
			if err := rows.Scan(&term, &n); err != nil {
				t.Fatal(err)
			}
			m[term] = n
		}
		return m
	}
	want := counts()
	downgrade(t, db, 2)
	if got := stored(`SELECT term, n FROM terms`); !maps.Equal(got, want) {
		t.Fatalf("version 2 counts: got %v, want %v", got, want)
	}

	s := MustOpenStore(t, dir)
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 12 {
		t.Errorf("schema version after New: %d, %v; want 12", v, err)
	}
	const q = `SELECT t.term, c.n FROM terms t JOIN term_counts c ON c.term_id = t.term_id`
	if got := stored(q); !maps.Equal(got, want) {
		t.Errorf("counts after New: got %v, want %v", got, want)
	}
	more := []*statements.Record{storetest.Record(t, benchStatement(50)), storetest.Record(t, benchStatement(1))}
	if err := s.InsertStatements(t.Context(), "t", more); err != nil {
		t.Fatal(err)
	}
	page, err := s.QueryStatements(t.Context(), "t", statements.Filter{Verb: "https://example.org/verbs/attempted", Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range page.Records {
		ids = append(ids, r.ID)
	}
	wantIDs := []string{}
	for _, r := range append(old, more...) {
		if bytes.Contains(r.Statement, []byte(`verbs/attempted"`)) {
			wantIDs = append(wantIDs, r.ID)
		}
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("query by verb: got %v, want %v", ids, wantIDs)
	}
	// The new statements' postings, merged into the table, are counted.
	if err := sqlitestore.MergeAll(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if got, want := stored(q), counts(); !maps.Equal(got, want) {
		t.Errorf("counts after more statements: got %v, want %v", got, want)
	}
}

// storedThenRaw stores recs in a new store in dir, closes it, and opens
// its database file directly, to be made into an older version's; the
// database is closed at the end of the test.
func storedThenRaw(t *testing.T, dir string, recs []*statements.Record) *sql.DB {
	t.Helper()
	s, err := sqlitestore.New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatal(err)
	}
	// As an older version left them: every posting in the table.
	if err := sqlitestore.MergeAll(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlitestore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore_Version3Credentials: New adds credentials.xapi_version to a
// version 3 database; its credentials read with no declared version and
// take one.
func TestStore_Version3Credentials(t *testing.T) {
	dir := t.TempDir()
	db := storedThenRaw(t, dir, []*statements.Record{storetest.Record(t, benchStatement(1))})
	if _, err := db.Exec(`INSERT INTO credentials (key, tenant, scopes, created, revoked) VALUES ('k', 't', '["all"]', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	downgrade(t, db, 3)

	s := MustOpenStore(t, dir)
	c, err := s.Credential(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if c.XAPIVersion != "" || c.Tenant != "t" {
		t.Errorf("credential after New: %+v", c)
	}
	c.XAPIVersion = "1.0.3"
	if err := s.UpdateCredential(t.Context(), *c); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Credential(t.Context(), "k"); err != nil || c.XAPIVersion != "1.0.3" {
		t.Errorf("XAPIVersion after update: %+v, %v; want 1.0.3", c, err)
	}
}

// TestStore_Version4Tenants: New adds tenants.identity_values and the
// roster tables to a version 4 database; its tenants read with no identity
// values, take some, and its tenants get rosters.
func TestStore_Version4Tenants(t *testing.T) {
	dir := t.TempDir()
	db := storedThenRaw(t, dir, []*statements.Record{storetest.Record(t, benchStatement(1))})
	if _, err := db.Exec(`INSERT INTO tenants (id, name, created, disabled) VALUES ('t', 'T', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	downgrade(t, db, 4)

	s := MustOpenStore(t, dir)
	tn, err := s.Tenant(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if tn.IdentityValues != nil || tn.Name != "T" {
		t.Errorf("tenant after New: %+v", tn)
	}
	tn.IdentityValues = []string{"1.2.246.562.10.1"}
	if err := s.UpdateTenant(t.Context(), *tn); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TenantByIdentity(t.Context(), "1.2.246.562.10.1"); err != nil || got.ID != "t" {
		t.Errorf("TenantByIdentity after update: %+v, %v; want t", got, err)
	}
	r := &statements.Roster{Users: []statements.RosterUser{{SourcedID: "u1"}}, Synced: time.UnixMilli(1000).UTC()}
	if err := s.ReplaceRoster(t.Context(), "t", r); err != nil {
		t.Fatal(err)
	}
	if st, err := s.RosterStatus(t.Context(), "t"); err != nil || st.Users != 1 {
		t.Errorf("RosterStatus: %+v, %v; want 1 user", st, err)
	}
}

// TestStore_Version5Documents: New adds the index documents_agent to a
// version 5 database, and its documents are listed by agent.
func TestStore_Version5Documents(t *testing.T) {
	dir := t.TempDir()
	db := storedThenRaw(t, dir, []*statements.Record{storetest.Record(t, benchStatement(1))})
	if _, err := db.Exec(`INSERT INTO documents (tenant, kind, activity_id, agent, registration, id, content, content_type, etag, updated)
		VALUES ('t', 'state', 'https://example.org/a', 'mbox:mailto:a@example.org', '', 's', x'7b7d', 'application/json', '"e"', 1000)`); err != nil {
		t.Fatal(err)
	}
	downgrade(t, db, 5)
	info, err := sqlitestore.Inspect(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Migrations) != info.Current-5 || info.SchemaVersion != 5 {
		t.Errorf("Inspect of a version 5 store: %+v, want one migration per version after 5", info)
	}

	s := MustOpenStore(t, dir)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'documents_agent'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("index documents_agent after New: %d, %v; want 1", n, err)
	}
	docs, err := s.AgentDocuments(t.Context(), "t", "mbox:mailto:a@example.org", statements.DocumentKey{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Key.ID != "s" || string(docs[0].Content) != "{}" {
		t.Errorf("AgentDocuments after New: %+v, want the document s", docs)
	}
}

// TestStore_LegacyCredentialTerms: an earlier version kept a statement's
// credential term in its terms column, for its referrers to inherit; a
// referrer stored now leaves it out, so Filter.Credential still selects
// only what the credential stored.
func TestStore_LegacyCredentialTerms(t *testing.T) {
	dir := t.TempDir()
	target := storetest.Record(t, benchStatement(1))
	target.Credential = "key-a"
	target.Terms = statements.MergeTerms(target.Terms, []string{statements.CredentialTerm("key-a")})
	db := storedThenRaw(t, dir, []*statements.Record{target})
	// Write the credential term into the target's terms column, as the
	// earlier version did.
	var credID int64
	var col []byte
	if err := db.QueryRow(`SELECT term_id FROM terms WHERE term = ?`, statements.CredentialTerm("key-a")).Scan(&credID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT terms FROM statements WHERE id = ?`, target.ID).Scan(&col); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for prev, b := int64(0), col; len(b) > 0; {
		d, n := binary.Uvarint(b)
		prev += int64(d)
		ids = append(ids, prev)
		b = b[n:]
	}
	if slices.Contains(ids, credID) {
		t.Fatalf("terms column %v holds the credential term %d", ids, credID)
	}
	ids = append(ids, credID)
	slices.Sort(ids)
	col = col[:0]
	for i, id := range ids {
		if i > 0 {
			id -= ids[i-1]
		}
		col = binary.AppendUvarint(col, uint64(id))
	}
	if _, err := db.Exec(`UPDATE statements SET terms = ? WHERE id = ?`, col, target.ID); err != nil {
		t.Fatal(err)
	}

	s := MustOpenStore(t, dir)
	ref := record(t, `{"actor":{"mbox":"mailto:bob@example.org"},"verb":{"id":"https://example.org/verbs/liked"},"object":{"objectType":"StatementRef","id":"`+target.ID+`"}}`)
	ref.Credential = "key-b"
	ref.Terms = statements.MergeTerms(ref.Terms, []string{statements.CredentialTerm("key-b")})
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{ref}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"key-a": target.ID, "key-b": ref.ID} {
		page, err := s.QueryStatements(t.Context(), "t", statements.Filter{Credential: key})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 || page.Records[0].ID != want {
			t.Errorf("Credential %s: got %d records, want only %s", key, len(page.Records), want)
		}
	}
}

// TestStore_Version6ProfileMode: New adds credentials.profile_mode and the
// table credential_reports to a version 6 database; its credentials read
// with no profile mode (off) and take one, and reports are kept.
func TestStore_Version6ProfileMode(t *testing.T) {
	dir := t.TempDir()
	db := storedThenRaw(t, dir, []*statements.Record{storetest.Record(t, benchStatement(1))})
	if _, err := db.Exec(`INSERT INTO credentials (key, tenant, scopes, created, revoked, xapi_version) VALUES ('k', 't', '["all"]', 0, 0, '2.0.0')`); err != nil {
		t.Fatal(err)
	}
	downgrade(t, db, 6)
	info, err := sqlitestore.Inspect(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Migrations) != info.Current-6 || info.SchemaVersion != 6 {
		t.Errorf("Inspect of a version 6 store: %+v, want one migration per version after 6", info)
	}

	s := MustOpenStore(t, dir)
	c, err := s.Credential(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if c.ProfileMode != "" || c.XAPIVersion != "2.0.0" {
		t.Errorf("credential after New: %+v", c)
	}
	c.ProfileMode = statements.ProfileStrict
	if err := s.UpdateCredential(t.Context(), *c); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Credential(t.Context(), "k"); err != nil || c.ProfileMode != statements.ProfileStrict {
		t.Errorf("ProfileMode after update: %+v, %v; want strict", c, err)
	}
	row := []statements.ReportCount{{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 2}}
	if err := s.AddReport(t.Context(), "t", "k", row); err != nil {
		t.Fatalf("AddReport after New: %v", err)
	}
	if got, err := s.Report(t.Context(), "t", "k", ""); err != nil || len(got) != 1 || got[0].Count != 2 {
		t.Errorf("Report after New: %+v, %v", got, err)
	}
}

// TestStore_Version7Erasures: New adds the erasures' tables to a version
// 7 database, whose statements an erasure then finds, and the log goes on
// after the erasure's entry.
func TestStore_Version7Erasures(t *testing.T) {
	dir := t.TempDir()
	old := storetest.Record(t, []byte(`{"actor":{"mbox":"mailto:learner@example.org"},"verb":{"id":"https://example.org/v"},"object":{"id":"https://example.org/a"}}`))
	db := storedThenRaw(t, dir, []*statements.Record{old})
	downgrade(t, db, 7)
	s := MustOpenStore(t, dir)
	key, err := s.ErasureKey(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	e, err := statements.NewErasure(key, "t", "Agent|mbox|mailto:learner@example.org", "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := s.EraseAgent(t.Context(), "t", e)
	if err != nil || rc.StatementsDeleted != 1 {
		t.Fatalf("EraseAgent: %+v, %v; want 1 deleted", rc, err)
	}
	head, err := s.LogHead(t.Context())
	if err != nil || head <= old.Position {
		t.Errorf("LogHead: %d, %v; want above %d", head, err, old.Position)
	}
}
