package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digione/lrs/statements"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the name of the database file New opens in its directory.
const FileName = "lrs.db"

// termCacheSize is the most term ids the writer keeps in memory.
const termCacheSize = 1 << 16

// schemaVersion is the version of the schema this package writes, kept in
// PRAGMA user_version:
//
//  1. the tables of statementsSchema and the others.
//  2. the same tables; the statement column may hold compressed
//     statements and the fingerprint column 32-byte BLOBs (see codec.go),
//     which a version 1 binary would misread. Rows of version 1 stay as
//     they are and read as before.
//  3. the terms' counts of postings move from terms.n to a table of their
//     own, term_counts: a commit rewrites the counts of the terms it adds
//     postings to, and narrow rows make that a few pages, not most of the
//     terms table.
//  4. credentials.xapi_version: the xAPI version a credential's app
//     declared; tenants.cors_origins: the origins of its browser content.
//  5. tenants.identity_values and the table tenant_identities that makes
//     each value one tenant's; the tables of the rosters (roster.go).
//  6. the index documents_agent: an agent's documents across activities
//     and registrations (AgentDocuments, DeleteAgentDocuments).
//  7. credentials.profile_mode: what the LRS does with a credential's
//     statements that break the xAPI profile; the table
//     credential_reports of the credentials' daily reports.
//  8. the erasures' tables erasure_log, erasures, erasure_keys, retention
//     and log_end (erase.go, retention.go).
//  9. tenants.sandbox and tenants.expires: the vendor sandboxes.
//  10. the same tables; new rows of the statement column are S2 blocks
//     (codec.go), which a version 9 binary cannot read. Rows of zstd
//     frames stay as they are and read as before.
//  11. the table merged_through: the postings of the statements after
//     its position are in memory only (recent.go), which a version 10
//     binary would not see. The migration sets it to the last position:
//     every older posting is in the postings table.
//  12. the table pair_postings, the column statements.pairs and the table
//     pairs_from (pairs.go). The migration sets pairs_from after the last
//     statement; the older ones get their pairs in the background.
const schemaVersion = 12

var _ statements.Store = (*Store)(nil)

// Store is a statements.Store in one SQLite database file.
type Store struct {
	w  *sql.DB // the one writer connection
	r  *sql.DB // pool of read-only connections
	ws chan struct{}

	prepared map[string]*sql.Stmt // writer statements, on w

	rmu    sync.Mutex
	rstmts map[string]*sql.Stmt // reader statements, on r
	qterms queryTerms           // the terms queries looked up

	now func() time.Time

	// Under ws.
	nextPos  int64
	nextTerm int64             // the next free term id
	terms    map[termKey]int64 // cache of the term dictionary

	// qmu guards queue: the writes waiting for the next group commit.
	qmu     sync.Mutex
	queue   []*writeRequest
	leading bool // a write is leading the queue
	// What gather knows of the writers, under qmu too.
	queued    int           // statements in queue (a write of no statements counts 1)
	inside    int           // writes queued or being written, not yet returned
	peak      int           // the most writes inside lately
	lastGroup int           // writes in the last group
	gathering bool          // the leader waits on full for a fuller group
	full      chan struct{} // wakes it: as many writes queued as the peak
	groupWait time.Duration // the longest wait; 0: none

	// mu guards the watermark state shared by writers and
	// ConsistentThrough.
	mu       sync.Mutex
	last     int64 // stored (unix ms) of the latest write
	promised int64 // the latest ConsistentThrough answer (unix ms)
	inflight int64 // stored of the write in progress, 0 if none

	// The postings not yet merged into the postings table (recent.go).
	recent     recent
	mergeEvery int
	mergeWake  chan struct{}
	// P: the statements from it on have pair postings (pairs.go).
	pairsFrom  atomic.Int64
	stopMerger context.CancelFunc
	mergerDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*Store)

// WithNow sets the clock the store reads to set Stored. Default time.Now.
func WithNow(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithGroupWait sets the longest time the leader of a group commit waits
// for the writers known to be about to queue their writes, so that they
// share its commit; 0 turns the wait off. Default DefaultGroupWait.
func WithGroupWait(d time.Duration) Option { return func(s *Store) { s.groupWait = max(d, 0) } }

// DefaultGroupWait is the default of WithGroupWait.
const DefaultGroupWait = time.Millisecond

// New opens (creating it if needed) the store in dir/lrs.db and brings its
// schema up to date. One database file must be served by one process.
func New(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, ws: make(chan struct{}, 1), terms: map[termKey]int64{},
		rstmts: map[string]*sql.Stmt{}, full: make(chan struct{}, 1), groupWait: DefaultGroupWait,
		mergeEvery: DefaultMergeEvery, mergeWake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, statements.Internal(err, "cannot create the store directory")
	}
	path := filepath.Join(dir, FileName)
	const common = "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)"
	// The writer copies the WAL into the database file (a checkpoint)
	// when it holds 10,000 pages (40 MB) rather than SQLite's 1,000: a
	// page that many commits change in between (the ends of the indexes,
	// the busy terms' postings) is copied once for all of them.
	w, err := sql.Open("sqlite", path+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(2)"+
		"&_pragma=wal_autocheckpoint(10000)&_txlock=immediate")
	if err != nil {
		return nil, statements.Internal(err, "cannot open the store")
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	s.prepared = map[string]*sql.Stmt{}
	for _, q := range writerQueries {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			w.Close()
			return nil, statements.Internal(err, "cannot prepare the store's statements")
		}
		s.prepared[q] = st
	}
	r, err := sql.Open("sqlite", path+common+"&_pragma=query_only(1)&_pragma=mmap_size(0)&_pragma=cache_size(-16000)")
	if err != nil {
		w.Close()
		return nil, statements.Internal(err, "cannot open the store")
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := s.load(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The merge and the backfill of pairs are the store's own work: they
	// end with Close.
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopMerger, s.mergerDone = stop, make(chan struct{})
	go s.merger(mctx, s.mergerDone)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stopMerger != nil {
			s.stopMerger()
			<-s.mergerDone
		}
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		errs = append(errs, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = statements.Internal(err, "cannot close the store")
		}
	})
	return s.closeErr
}

// schema is the whole schema: the statement log here, the other
// resources' tables in their files.
var schema = slices.Concat(statementsSchema, documentsSchema, attachmentsSchema, activitiesSchema, adminSchema, logSchema, sinkSchema, rosterSchema, []string{reportsTable}, erasureSchema)

var statementsSchema = []string{
	`CREATE TABLE statements (
		position    INTEGER PRIMARY KEY,
		tenant      TEXT    NOT NULL,
		id          TEXT    NOT NULL,
		stored      INTEGER NOT NULL,
		voided      INTEGER NOT NULL DEFAULT 0,
		voids       TEXT,
		ref_target  TEXT,
		fingerprint TEXT    NOT NULL,
		credential  TEXT    NOT NULL,
		terms       BLOB    NOT NULL,
		statement   BLOB    NOT NULL,
		stamp       INTEGER NOT NULL DEFAULT 0,
		UNIQUE (tenant, id)
	)`,
	`CREATE INDEX statements_tenant_position ON statements (tenant, position)`,
	`CREATE INDEX statements_tenant_stored ON statements (tenant, stored)`,
	`CREATE INDEX statements_tenant_ref_target ON statements (tenant, ref_target) WHERE ref_target IS NOT NULL`,
	`CREATE INDEX statements_tenant_voids ON statements (tenant, voids) WHERE voids IS NOT NULL`,
	`CREATE TABLE terms (
		term_id INTEGER PRIMARY KEY,
		tenant  TEXT    NOT NULL,
		term    TEXT    NOT NULL,
		UNIQUE (tenant, term)
	)`,
	termCountsTable,
	`CREATE TABLE postings (
		term_id  INTEGER NOT NULL,
		position INTEGER NOT NULL,
		PRIMARY KEY (term_id, position)
	) WITHOUT ROWID`,
	`CREATE TABLE tenants (
		id       TEXT    PRIMARY KEY,
		name     TEXT    NOT NULL,
		created  INTEGER NOT NULL,
		disabled INTEGER NOT NULL,
		limits   TEXT    NOT NULL DEFAULT '{}',
		cors_origins TEXT NOT NULL DEFAULT '[]',
		identity_values TEXT NOT NULL DEFAULT '[]',
		sandbox  TEXT    NOT NULL DEFAULT '',
		expires  INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID`,
	`CREATE TABLE credentials (
		key         TEXT    PRIMARY KEY,
		tenant      TEXT    NOT NULL,
		secret_hash BLOB,
		scopes      TEXT    NOT NULL,
		authority   BLOB,
		created     INTEGER NOT NULL,
		revoked     INTEGER NOT NULL,
		name        TEXT    NOT NULL DEFAULT '',
		limits      TEXT    NOT NULL DEFAULT '{}',
		xapi_version TEXT   NOT NULL DEFAULT '',
		profile_mode TEXT   NOT NULL DEFAULT ''
	) WITHOUT ROWID`,
	`CREATE INDEX credentials_tenant ON credentials (tenant)`,
}

// termCountsTable holds the number of postings of each term (schema
// version 3).
const termCountsTable = `CREATE TABLE term_counts (
		term_id INTEGER PRIMARY KEY,
		n       INTEGER NOT NULL
	)`

// migrate creates the schema in a new database and brings an older one up
// to schemaVersion; a database of a newer schema is refused.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return statements.Internal(err, "cannot open the store")
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return statements.Internal(err, "cannot read the schema version")
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return statements.Internal(fmt.Errorf("schema version %d, want at most %d", v, schemaVersion),
			"the store was written by a newer version of the LRS")
	}
	if v == 0 { // a new database
		for _, q := range schema {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot create the schema")
			}
		}
	}
	// From 1 to 2 there is nothing to change but the version, which keeps
	// older binaries out. From 2 to 3 the counts move to their table.
	if v == 1 || v == 2 {
		for _, q := range []string{
			termCountsTable,
			`INSERT INTO term_counts (term_id, n) SELECT term_id, n FROM terms WHERE n > 0`,
			`ALTER TABLE terms DROP COLUMN n`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v >= 1 && v <= 3 {
		for _, q := range []string{
			`ALTER TABLE credentials ADD COLUMN xapi_version TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE tenants ADD COLUMN cors_origins TEXT NOT NULL DEFAULT '[]'`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v >= 1 && v <= 4 {
		qs := append([]string{`ALTER TABLE tenants ADD COLUMN identity_values TEXT NOT NULL DEFAULT '[]'`}, rosterSchema...)
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v >= 1 && v <= 5 {
		if _, err := tx.ExecContext(ctx, documentsAgentIndex); err != nil {
			return statements.Internal(err, "cannot bring the schema up to date")
		}
	}
	if v >= 1 && v <= 6 {
		for _, q := range []string{`ALTER TABLE credentials ADD COLUMN profile_mode TEXT NOT NULL DEFAULT ''`, reportsTable} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v >= 1 && v <= 7 {
		for _, q := range erasureSchema {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v >= 1 && v <= 8 {
		for _, q := range []string{
			`ALTER TABLE tenants ADD COLUMN sandbox TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE tenants ADD COLUMN expires INTEGER NOT NULL DEFAULT 0`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	// From 9 to 10, as from 1 to 2, only the version changes.
	if v <= 10 {
		for _, q := range []string{
			mergedThroughTable,
			`INSERT INTO merged_through (id, position) SELECT 1, coalesce(max(position), 0) FROM statements`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if v <= 11 {
		for _, q := range []string{
			pairPostingsTable,
			pairsFromTable,
			`ALTER TABLE statements ADD COLUMN pairs BLOB`,
			`INSERT INTO pairs_from (id, position) SELECT 1, coalesce(max(position), 0) + 1 FROM statements`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return statements.Internal(err, "cannot bring the schema up to date")
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return statements.Internal(err, "cannot set the schema version")
	}
	if err := tx.Commit(); err != nil {
		return statements.Internal(err, "cannot create the schema")
	}
	return nil
}

// load reads the end of the log (the next position and the last stored)
// and the next free term id.
func (s *Store) load(ctx context.Context) error {
	// The last position may be an erasure's, or one whose statement
	// EraseBefore deleted (log_end): its statements are gone.
	var pos, stored sql.NullInt64
	err := s.w.QueryRowContext(ctx, `SELECT position, stored FROM (
		SELECT position, stored FROM statements
		UNION ALL SELECT position, stored FROM erasure_log
		UNION ALL SELECT position, 0 FROM log_end) ORDER BY position DESC, stored DESC LIMIT 1`).Scan(&pos, &stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return statements.Internal(err, "cannot read the statement log")
	}
	s.nextPos = pos.Int64 + 1
	s.last = stored.Int64
	var term int64
	if err := s.w.QueryRowContext(ctx, `SELECT coalesce(max(term_id), 0) FROM terms`).Scan(&term); err != nil {
		return statements.Internal(err, "cannot read the term dictionary")
	}
	s.nextTerm = term + 1
	var from int64
	if err := s.w.QueryRowContext(ctx, qPairsFrom).Scan(&from); err != nil {
		return statements.Internal(err, "cannot read the pairs' backfill point")
	}
	s.pairsFrom.Store(from)
	return s.loadRecent(ctx)
}

// lock takes the write lock, or fails when ctx ends first.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.ws <- struct{}{}:
		return nil
	case <-ctx.Done():
		return statements.Internal(ctx.Err(), "the request ended before the store could write")
	}
}

func (s *Store) unlock() { <-s.ws }

func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

// beginWrite picks the Stored time of a write; the caller holds the write
// lock and calls endWrite when the write committed or failed.
func (s *Store) beginWrite() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := max(s.nowMs(), s.last, s.promised+1)
	s.inflight = st
	return st
}

func (s *Store) endWrite(stored int64, committed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if committed {
		s.last = stored
	}
	s.inflight = 0
}

// ConsistentThrough returns a time before the Stored of every write not
// yet committed and of every later write. One process serves the file, so
// the writes in flight are the ones this Store knows about.
func (s *Store) ConsistentThrough(ctx context.Context, tenant string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t int64
	if s.inflight != 0 {
		// Everything stored before the write in flight is committed.
		t = s.inflight - 1
	} else {
		// Everything written is committed; a write starting now may get
		// this millisecond.
		t = max(s.nowMs()-1, s.last)
	}
	// Later writes are stored after t (beginWrite), even if the clock
	// steps back.
	t = max(t, s.promised)
	s.promised = t
	return time.UnixMilli(t).UTC(), nil
}

// mapErr turns a driver error into a statements.Error: a constraint
// violation is EConflict; a full or failing disk is EUnavailable.
func mapErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	var se *statements.Error
	if errors.As(err, &se) {
		return err
	}
	var de *sqlite.Error
	if errors.As(err, &de) {
		switch de.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &statements.Error{Code: statements.EConflict, Message: msg + ": already exists", Err: err}
		}
		switch de.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return &statements.Error{Code: statements.EUnavailable, Message: msg + ": the store's disk is full", Err: err}
		case sqlite3.SQLITE_IOERR:
			return &statements.Error{Code: statements.EUnavailable, Message: msg + ": the store's disk failed", Err: err}
		}
	}
	return statements.Internal(err, msg)
}
