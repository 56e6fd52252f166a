// Package mongostore is the production statements.Store: a MongoDB database
// through go.mongodb.org/mongo-driver/v2. Any number of LRS processes may
// share one database; each statement call carries its tenant.
//
// It imports the statements domain and its driver only: not lrs, not
// forwarders, not other stores. Its tests run the storetest suite against
// FerretDB (SQLite backend), which the test binary starts, or against
// LRS_TEST_MONGO_URI.
//
// # Only inserts decide
//
// The store is written for the intersection of MongoDB and FerretDB v1. On
// FerretDB an update is a read, a change in Go and a write back without
// isolation: two concurrent updates of one document may lose one, and an
// update's filter is no compare-and-swap. Transactions do not exist there
// either. So every decision between racing writers is an insert that a
// unique _id lets only one writer make, or a delete; updates only set values
// that no other writer contends for (and are atomic on MongoDB anyway).
//
// # The log
//
// Every stored statement has a position in one log for all tenants. A batch
// reserves a block of consecutive positions and its Stored time, max(now,
// the previous block's Stored + 1 ms), by inserting the block after the last
// one: first into the open collection (the claim of its sequence number),
// then into the log collection (the chain, one small document per batch,
// never changed). _ids are sequence numbers as fixed-width strings, so the
// end of the chain is found by _id lookups from the last block seen.
//
// The batch then writes its statements to the pending collection, in _id
// order: a pending statement claims its id (two batches sharing ids cannot
// deadlock, the one that takes the lowest shared id first gets them all).
// An id already stored is compared by fingerprint (the same statement, or
// EConflict); an id another batch in flight holds makes this one withdraw
// and wait for that one. When all its ids are claimed the batch commits by
// inserting its outcome into the outcomes collection, then copies its
// statements into the statements collection, settles voiding and
// references, deletes its pending statements and finally its open block.
//
// The watermark is the position just below the oldest open block (or the
// end of the chain): every statement at or below it that will ever be
// visible is visible. Queries never return a position above it, so a reader
// paging by position never passes a gap that a slower writer fills later
// (DESIGN.md, decision 2). ConsistentThrough is one millisecond before the
// Stored of the oldest open block, or the Stored of the last block: every
// later block is stored after it, whatever the clocks of the processes say.
// A Stored advances by at least a millisecond per batch, so under more than a
// thousand batches a second it runs ahead of the clock, and catches up after.
//
// A writer that dies leaves an open block. Once its lease (WithLease,
// default 30 s) has expired, the next reader or writer settles it: it
// inserts the outcome "aborted" unless "committed" is there first. An
// aborted batch's pending statements are deleted (the writer, should it be
// alive, fails at its commit); a committed one is finished from its pending
// statements. Either way the block is then closed and the watermark moves
// on. Clocks decide only when a block may be settled, never the outcome.
//
// The log and outcomes collections do not grow forever: every 1024th batch
// deletes, in the background, the blocks and commit outcomes of the batches
// done and stored more than ten leases (at least ten minutes) ago, keeping
// the first and last blocks and every abort outcome (trim.go tells why that
// is safe for a writer holding an old end of the chain). The forwarders
// never read them: they read the statements by position.
//
// # Voiding and references
//
// A statement's terms (statements.Statement.Terms) are an array field; a
// StatementRef adds its target's terms, transitively, whichever arrives
// first, but never a credential term (statements.IsCredentialTerm). Each batch, after its statements are stored, writes a link for
// each reference and voiding target (links collection), then voids its
// targets that are stored (and are no voiding statements), marks its own
// statements voided when a stored voiding statement targets them, adds its
// targets' terms to its own statements and its own terms to the statements
// linked to them. Both sides act after their own statements are stored, so
// of two racing batches at least one sees the other.
//
// # Documents, attachments, activity definitions
//
// Documents and activity definitions are kept as versions, _id =
// base/version with base a hash of the key: a write inserts the next
// version, which makes If-Match/If-None-Match and the definition merge a
// compare-and-swap on every server. Superseded versions are deleted a minute
// later. Attachments are chunked like GridFS (chunks collection, file
// document written last, so a file is visible only whole), each chunk built
// in one reused buffer and stored deflated when that is smaller.
//
// # Write and read concerns
//
// Writes use write concern majority, journaled: a statement is acknowledged
// only once a majority has it on disk. Statements are read with read
// concern majority, the log's collections (open, log, outcomes) with local
// on the primary: a batch's commit and copies are majority-acknowledged
// before its block closes, so a reader that sees the block closed reads its
// statements.
//
// # Collections and the indexes that serve each query
//
//	statements  _id = tenant/id          Statement; stored ids of a batch
//	            {tn, pos}                QueryStatements without terms,
//	                                     sorted by pos, bounded by the watermark
//	            {tn, terms, pos}         QueryStatements with terms (multikey:
//	                                     one equality per term, the planner
//	                                     drives by the most selective)
//	            {tn, st, pos}            since/until to position bounds (Stored
//	                                     never decreases with Position)
//	            {pos}                    ReadLog: all tenants in position order
//	pending     _id = tenant/id          claims; {r} the claims of a block
//	links       {to}                     voiding statements and referrers of
//	                                     an arriving statement
//	log         _id = sequence           end of the chain, by _id
//	open        _id = sequence           the blocks in flight (a few documents)
//	outcomes    _id = sequence           commit or abort
//	documents   {base, v}                Document and its compare-and-swap
//	            {tn, kind, act, agent, reg, did}
//	                                     DocumentIDs, DeleteDocuments
//	            {tn, agent, kind, act, reg, did, v}
//	                                     AgentDocuments, DeleteAgentDocuments
//	                                     (the latest version of each first)
//	activities  {base, v}                ActivityDefinition and its merge
//	attachments _id = tenant/sha2        Attachment; chunks by _id, {u} to
//	                                     delete an upload's chunks
//	tenants     _id = id                 Tenants sorted by _id, Tenant
//	credentials _id = key                Credential; {tn} Credentials
//	audit       _id = time-order         Audit, newest first
//	erasurelog  _id = block sequence     an erasure's steps, at the position
//	            {pos}                    of their block: ReadLog merges them
//	erasures    _id = tenant/id          erasure receipts
//	erasurekeys _id = tenant             each tenant's erasure key
//	retention   _id = tenant             each tenant's retention (erase.go,
//	                                     retention.go); EraseBefore and
//	                                     DeleteTenant use {tn, st, pos}
//	cursors     {base, v}                the forwarders' cursors (a version per
//	                                     position, so a cursor never moves back)
//	leases      {base, v}                the forwarders' leases and the LRS
//	                                     processes' (versions too); CountLeases
//	                                     reads a prefix's few leases by name
//	                                     without an index
//	sinkitems   {base, v}                SinkItem and its compare-and-swap
//	            {sk, tn, key, v}         SinkItems by tenant and key
//	            {sk, st, due}            SinkItems due in a state
//	tenantids   _id = identity value     TenantByIdentity; the insert is the
//	                                     claim that makes a value one tenant's;
//	                                     {tn} to release a tenant's values
//	rosters     {tn, seq}                the current roster of a tenant: the
//	                                     pointer with the highest seq
//	rosterorgs, rosterusers, rosterclasses, rosterenrollments
//	            {tn, g, id}              one record; the $in of member lists
//	            users {tn, g, ids}       RosterPerson (multikey)
//	            users {tn, g, ro, id}    OrgMembers (multikey, org + role)
//	            classes {tn, g, school, id}
//	                                     SchoolClasses
//	            enrollments {tn, g, class, role, user}, {tn, g, user, role, class}
//	                                     ClassMembers, ClassesOf
//
// # Rosters
//
// A tenant's roster is replaced whole without transactions: ReplaceRoster
// writes the new records under a new generation g (unordered InsertMany),
// then inserts the next pointer document of the tenant, which names g; the
// insert decides between racing replaces (the loser deletes its records,
// EConflict). Readers read the pointer once and then only records of its
// generation, so a list is of one roster. The generation replaced stays
// until the next replace, for readers that read the old pointer just
// before; older generations and records of failed replaces are deleted.
//
// Paging goes by position, never by skip. New creates every index (an
// existing one is left as it is) and fails when the server does not answer.
//
// # FerretDB
//
// The test server has gaps the store avoids: no transactions; updates and
// findAndModify are not atomic; a filter other than a lone string _id
// scans the collection, and sort, limit, $in and ranges are never pushed
// down (tests keep data small); a bulk write of hundreds of updates stalls
// (the store sends one UpdateMany or none); $pull with a condition and
// hashed indexes are not supported; field names with '.' or a leading '$'
// are rejected (statements are stored as bytes). None of these shapes the
// behaviour on MongoDB, where the same operations are index-served.
package mongostore
