// Package sqlitestore is the embedded statements.Store: one SQLite file
// (dir/lrs.db) through modernc.org/sqlite, pure Go, no cgo. It serves a
// school or a sandbox and makes the LRS run with no setup.
//
// It imports the statements domain and its driver only: not lrs, not
// forwarders, not other stores.
//
// # One process, one writer
//
// One database file is served by one process. The file is in WAL mode with
// synchronous=FULL, so an acknowledged statement survives a power loss.
// Writes go through one connection, one at a time under the Store's write
// lock (SQLite has one writer anyway); reads use a pool of read-only
// connections and never wait for writes.
//
// Writes queued while another is written go in one transaction, one
// request after the other, and share one sync to disk (group commit); a
// request that fails fails alone. When the last group had company, the
// leader of the next one first waits, at most WithGroupWait (1 ms), for
// the writers about to queue. What the group's statement batches need
// to know of the stored statements (which of their ids are stored, voided
// or referred to; the statements they void or refer to) and the ids of
// their terms are read ahead for the whole group, one query of each kind;
// what each request writes is followed in memory for the requests after
// it, and forgotten if the request fails.
//
// Inside the write lock a batch gets consecutive positions and one Stored,
// max(now truncated to ms, the previous Stored, the last ConsistentThrough
// answer + 1 ms), and commits before the next batch starts. So commit order
// is position order (a reader paging by position never jumps over a
// statement that commits later: the outbox of DESIGN.md decision 2), and
// Stored never decreases with Position, even if the clock steps back.
//
// ConsistentThrough is answered from memory: while a write is in flight, one
// millisecond before its Stored; otherwise one millisecond before now (a
// write starting now may still get this millisecond) or the last Stored,
// whichever is later. Every later write is stored after the answer. This
// holds because the Store knows every write in flight, which is why one
// file must be served by one process.
//
// # Tables
//
//	statements   position INTEGER PRIMARY KEY (the log; global across tenants),
//	             tenant, id, stored (unix ms), voided, voids, ref_target,
//	             fingerprint (a SHA-256 digest as 32 bytes), credential, terms
//	             (term ids, own and inherited, uvarint deltas), statement (the
//	             bytes as stored, compressed with an xAPI dictionary: S2,
//	             or zstd in rows written before schema version 10; codec.go),
//	             stamp, pairs (the pairs of its terms column, pairs.go)
//	terms        term_id INTEGER PRIMARY KEY, tenant, term
//	term_counts  term_id INTEGER PRIMARY KEY, n (postings added; narrow rows,
//	             because every commit updates the counts of its terms)
//	postings     (term_id, position) PRIMARY KEY, WITHOUT ROWID: the
//	             postings of the statements up to M
//	pair_postings
//	             (agent, other, position) PRIMARY KEY, WITHOUT ROWID: a
//	             posting per pair of an agent's term and a verb's or an
//	             activity's term of a statement up to M (pairs.go); the
//	             statement's pairs column holds them
//	pairs_from   one row: P, the first position from which every statement
//	             has its pair postings (1 unless a store of version 11 is
//	             still being backfilled)
//	merged_through
//	             one row: M, the highest position whose postings are all in
//	             the postings table (see Recent postings)
//	tenants      id PRIMARY KEY, name, created, disabled, limits (JSON),
//	             cors_origins (JSON), identity_values (JSON)
//	tenant_identities
//	             value PRIMARY KEY, tenant: makes each identity value one
//	             tenant's; TenantByIdentity
//	roster_*     a tenant's roster (roster.go): orgs, users, classes and
//	             enrollments with the record as JSON, keyed (tenant, id);
//	             roster_identities (tenant, identity, user) and roster_roles
//	             (tenant, org, role, user) for RosterPerson and OrgMembers;
//	             enrollments indexed by (tenant, class, role, user) and
//	             (tenant, user, role, class); roster_status the counts.
//	             ReplaceRoster rewrites a tenant's rows in one transaction,
//	             which holds the writer for its length (2 to 4 s for 20,000
//	             users and 60,000 enrollments): writes wait meanwhile
//	credentials  key PRIMARY KEY, tenant, secret_hash, scopes (JSON), authority,
//	             created, revoked, name, limits (JSON), xapi_version,
//	             profile_mode
//	credential_reports  (tenant, credential, day, kind, template, rule)
//	             PRIMARY KEY, count, example: the daily reports
//	erasure_log, erasures, erasure_keys, retention, log_end
//	             an erasure's steps in the log (positions of the same
//	             sequence as the statements'; ReadLog merges both), its
//	             receipts, each tenant's erasure key, retentions, and the
//	             last position given before a retention deleted the newest
//	             statements (erase.go, retention.go)
//
// # Recent postings
//
// A statement's postings do not go into the postings table when it is
// stored: one B-tree leaf page per posting (most terms are one learner's)
// and its WAL frame at every commit cost about a quarter of the writer's
// time. The postings of the statements after M are kept in memory
// (recent.go), term id -> ascending positions, put there by the writer
// right after its commit and before the write is acknowledged, so every
// filter finds an acknowledged statement at once. They need nothing more
// on disk: each statement's terms column (and its credential) holds them,
// and New rebuilds them from the statements after M.
//
// A merge, under the write lock, inserts the postings of the oldest few
// thousand statements in memory into the table in index order and moves
// M in the same transaction; after its commit they leave memory. It runs
// in the background when more than WithMergeEvery statements (50,000) are
// in memory or when no write came for a second, and, all of them, before
// an erasure or a retention, which read and change the postings table.
// A statement that gains terms from a target stored later gets its new
// postings in memory if it is after M, in the table otherwise.
//
// A query of terms takes the terms' lists in memory first, then reads M in
// its read transaction: the table serves the positions up to M, the lists
// the positions after it (intersected in memory, each statement then read
// by position with the same checks). A list in memory is only appended to
// or replaced, so a reader keeps reading the one it took while merges drop
// positions. Descending pages read memory first, ascending pages the
// table first; paging is as before.
//
// The schema version is PRAGMA user_version; New creates or migrates the
// schema and refuses a file written by a newer version. Statements written
// by an older version are read as they are, never rewritten.
//
// # Which index serves which query
//
//	Statement(id)                 UNIQUE (tenant, id)
//	query with terms              postings primary key: the posting list of the
//	                              filter's rarest term (term_counts) read in position
//	                              order between two bounds (up to M), each other term
//	                              probed by (term_id, position), then the statement by
//	                              position; LIMIT n+1 tells More. After M: the lists in
//	                              memory, then the statement by position
//	agent with verb or activity   pair_postings primary key: the pair's list in place
//	                              of the agent's and the verb's or activity's, shorter
//	                              than either (for ranges from P on)
//	query without terms           statements_tenant_position (tenant, position)
//	since, until                  statements_tenant_stored (tenant, stored): the
//	                              last position stored at or before the time
//	                              becomes a position bound (Stored does not
//	                              decrease with Position)
//	filter term -> term id        UNIQUE (tenant, term)
//	stored id, idempotence        UNIQUE (tenant, id)
//	arriving statement voided?    statements_tenant_voids (tenant, voids), partial
//	terms to propagate            statements_tenant_ref_target (tenant, ref_target),
//	                              partial
//	an agent's documents          documents_agent (tenant, agent, kind, activity_id,
//	                              registration, id): AgentDocuments pages by the
//	                              row value of the key; DeleteAgentDocuments
//
// Every query reads one index in the order of its result: no scan, no sort
// (TestQueryPlans and TestRosterQueryPlans check the plans). A page costs its length times the
// ratio of the driving list to the matches, not the size of the store.
//
// # Statement references
//
// A statement's terms column holds its own terms and those of the statement
// its object refers to (transitively), but not the term of the credential
// that stored it, which has a posting only: a referrer never inherits it
// (rows of earlier versions may hold it; a new referrer leaves it out).
// When a statement is stored, its
// terms flow to the statements that already refer to it, and on to those
// that refer to them, until nothing changes; each added term also gets a
// posting. Voiding marks the target; a target stored after its voiding
// statement finds it through the voids index. A voiding statement is never
// voided (xAPI: a statement is voided if and only if it is not a voiding
// statement and a voiding statement targets it).
package sqlitestore
