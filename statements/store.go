package statements

import (
	"context"
	"io"
	"time"
)

// Record is a statement as the store keeps it.
type Record struct {
	// ID is the statement id, lower case.
	ID string
	// Statement is the statement as stored: the bytes the client sent with
	// the properties the LRS sets (id, authority, version), and without
	// "stored", which JSON adds on the way out.
	Statement []byte
	// StampTimestamp is true when the statement came without a timestamp:
	// its timestamp is its Stored time, which JSON adds.
	StampTimestamp bool
	// Fingerprint identifies the statement's content for the spec's
	// comparison rules (see Fingerprint): same id and same fingerprint is
	// the same statement.
	Fingerprint string
	// Terms are the statement's own index terms (Statement.Terms), set by
	// the caller on insert; records read from a store may leave it nil.
	Terms []string
	// RefTarget is the id of the statement the object refers to, or "".
	RefTarget string
	// Voids is the id of the statement this one voids, or "".
	Voids string
	// Credential is the key of the credential that stored the statement.
	Credential string

	// Set by the store.
	Stored   time.Time // when it was stored, millisecond precision, non-decreasing with Position
	Position int64     // its place in the tenant-independent ordered log, > 0
	Voided   bool      // a stored voiding statement targets it
}

// JSON returns the whole statement: Statement with "stored" and, when
// StampTimestamp, "timestamp".
func (r *Record) JSON() []byte { return WithStored(r.Statement, r.Stored, r.StampTimestamp) }

// Filter selects statements. The zero Filter selects every statement that
// is not voided, newest first, up to the store's largest page.
type Filter struct {
	Agent             string // agent key (Actor.Key); "" = any
	RelatedAgents     bool
	Verb              string
	Activity          string
	RelatedActivities bool
	Registration      string
	Since             time.Time // stored strictly after; zero = no bound
	Until             time.Time // stored at or before; zero = no bound
	Limit             int       // at most this many; 0 = MaxLimit
	Ascending         bool
	// After continues a query: only statements past this position in the
	// query's order (for descending, lower positions). 0 = from the start.
	After int64
	// Credential selects the statements stored by the credential with this
	// key (Record.Terms carries CredentialTerm); "" = any. A StatementRef
	// does not inherit the credential term of its target.
	Credential string
	// MaxBytes bounds a page by the size of its statements: the page holds
	// records while the sum of their len(Statement) stays at or under
	// MaxBytes, and at least one record (which alone may be larger). A page
	// cut short by MaxBytes has More. 0 = no bound but Limit.
	MaxBytes int64
}

// MaxLimit is the largest page of statements one query returns.
const MaxLimit = 500

// Terms returns the index terms a statement must all have to match f.
func (f Filter) Terms() []string {
	var t []string
	if f.Agent != "" {
		if f.RelatedAgents {
			t = append(t, termRelatedAgent+f.Agent)
		} else {
			t = append(t, termAgent+f.Agent)
		}
	}
	if f.Verb != "" {
		t = append(t, termVerb+f.Verb)
	}
	if f.Activity != "" {
		if f.RelatedActivities {
			t = append(t, termRelatedActivity+f.Activity)
		} else {
			t = append(t, termActivity+f.Activity)
		}
	}
	if f.Registration != "" {
		t = append(t, termRegistration+f.Registration)
	}
	if f.Credential != "" {
		t = append(t, CredentialTerm(f.Credential))
	}
	return t
}

// PageLimit returns the number of statements a page of f holds at most.
func (f Filter) PageLimit() int {
	if f.Limit <= 0 || f.Limit > MaxLimit {
		return MaxLimit
	}
	return f.Limit
}

// Page is one page of a query's result.
type Page struct {
	Records []*Record
	// More is true when statements past the last record may match; the
	// next page is the same Filter with After = the last record's Position.
	More bool
}

// Tenant is an education provider whose data no other tenant sees.
type Tenant struct {
	ID       string
	Name     string
	Created  time.Time
	Disabled bool   // its credentials are refused
	Limits   Limits // what its credentials may ask of the LRS
	// CORSOrigins are the origins (https://host[:port]) whose browser
	// content may call the xAPI API with this tenant's credentials.
	CORSOrigins []string
	// IdentityValues are the values of the sign-in claim that belong to
	// this tenant, e.g. its education providers' OIDs: a person whose
	// claim holds one of them signs in to this tenant. A value belongs to
	// at most one tenant.
	IdentityValues []string
	// Sandbox is the vendor whose sandbox the tenant is, "" for a real
	// education provider. A sandbox's data never leaves the LRS: no sink
	// sends it anywhere. It is set when the tenant is created and kept.
	Sandbox string
	// Expires is when a sandbox is deleted, millisecond precision; zero
	// means never. It is set when the tenant is created and kept.
	Expires time.Time
}

// Credential lets a client act on one tenant with some scopes.
type Credential struct {
	Key        string
	Tenant     string
	SecretHash []byte   // a slow hash of the secret; the secret is never stored
	Scopes     []string // xAPI scopes: "all", "statements/write", ...
	Authority  []byte   // the Agent or Group JSON set as authority of statements it writes
	Created    time.Time
	Revoked    bool
	Name       string // what the credential is for, e.g. the vendor app; for people, not for access
	Limits     Limits // overrides the tenant's Limits field by field
	// XAPIVersion is the xAPI version the credential's app speaks, "1.0.3"
	// or "2.0.0", or "" when it did not declare one. It labels responses
	// that negotiated no version, e.g. the 400 of a request without
	// X-Experience-API-Version.
	XAPIVersion string
	// ProfileMode says what the LRS does with statements the credential
	// writes that break the xAPI profile: ProfileOff ("" reads as off),
	// ProfileFlag or ProfileStrict.
	ProfileMode string
}

// Profile modes of a credential.
const (
	ProfileOff    = "off"    // statements are not checked against the profile
	ProfileFlag   = "flag"   // statements are accepted; their violations are recorded
	ProfileStrict = "strict" // a statement that breaks the profile fails its request
)

// Store keeps tenants, credentials and statements. Every statement call
// carries the tenant; nothing one tenant stores is visible to another.
// Implementations return *Error values with the codes documented here; any
// other failure is EInternal.
type Store interface {
	DocumentStore
	AttachmentStore
	ActivityStore
	AdminStore
	Log
	SinkStore
	RosterStore
	ReportStore
	Eraser

	// InsertStatements stores recs atomically: all of them or none. For
	// each record it sets Stored and Position; positions grow in the order
	// of recs, and a later-committed batch never has lower positions than
	// one a reader has already seen (so a reader paging by position misses
	// nothing). A record whose id is stored with the same Fingerprint is
	// accepted and left as it was (its Stored and Position are set to the
	// stored ones); so is one whose Fingerprint equals Fingerprint of the
	// stored Statement taken again (a stored fingerprint may come from an
	// earlier version of the comparison rules); otherwise the batch fails
	// with EConflict. A record that voids (Voids != "") a voiding statement
	// fails the batch with EInvalid. A voided statement, stored before or
	// after its voiding statement, is marked Voided. A record whose
	// RefTarget is stored matches, in queries, the target's terms too
	// (transitively), whichever of the two was stored first, except the
	// target's CredentialTerm: Filter.Credential selects exactly what one
	// credential stored. The same id twice in one batch is stored once when
	// both have the same Fingerprint (both records get its Position) and
	// fails the batch with EInvalid otherwise. A voiding statement is never
	// voided itself. A tenant need not have been created before its
	// statements.
	InsertStatements(ctx context.Context, tenant string, recs []*Record) error

	// Statement returns the statement with id. With voided false it
	// returns ENotFound for a voided statement; with voided true it returns
	// only a voided statement (ENotFound otherwise).
	Statement(ctx context.Context, tenant, id string, voided bool) (*Record, error)

	// QueryStatements returns the statements that are not voided and
	// match f, ordered by Position (descending unless f.Ascending), at
	// most f.PageLimit() of them and no more than f.MaxBytes allows. Its
	// cost grows with the page, not with the store, and so does the memory
	// it holds: the page and at most one record more.
	QueryStatements(ctx context.Context, tenant string, f Filter) (*Page, error)

	// ConsistentThrough returns a time T such that every statement with
	// Stored <= T that will ever be stored is already visible to queries.
	ConsistentThrough(ctx context.Context, tenant string) (time.Time, error)

	// CreateTenant stores a new tenant; EConflict if its ID exists or
	// another tenant has one of its IdentityValues.
	CreateTenant(ctx context.Context, t Tenant) error
	// Tenants returns every tenant, ordered by ID.
	Tenants(ctx context.Context) ([]Tenant, error)
	// CreateCredential stores a new credential; EConflict if its key
	// exists, ENotFound if its tenant does not.
	CreateCredential(ctx context.Context, c Credential) error
	// Credential returns the credential with key; ENotFound if none.
	Credential(ctx context.Context, key string) (*Credential, error)

	// Close releases the store's resources.
	Close() error
}

// DocumentStore keeps the documents of the state, activity profile and
// agent profile resources, per tenant.
type DocumentStore interface {
	// Document returns the document at key; ENotFound if there is none.
	Document(ctx context.Context, tenant string, key DocumentKey) (*Document, error)
	// DocumentIDs returns, sorted, the ids of the documents of key's Kind,
	// ActivityID, Agent and Registration (any when ""), updated strictly
	// after since when since is not zero.
	DocumentIDs(ctx context.Context, tenant string, key DocumentKey, since time.Time) ([]string, error)
	// PutDocument creates or replaces the document at doc.Key if cond
	// holds at that moment, atomically (a compare-and-swap on the ETag);
	// EPreconditionFailed otherwise.
	PutDocument(ctx context.Context, tenant string, doc *Document, cond Condition) error
	// DeleteDocument deletes the document at key if cond holds
	// (EPreconditionFailed otherwise). Deleting a document that does not
	// exist, without a condition, is not an error.
	DeleteDocument(ctx context.Context, tenant string, key DocumentKey, cond Condition) error
	// DeleteDocuments deletes every document of key's Kind, ActivityID,
	// Agent and Registration (any when "").
	DeleteDocuments(ctx context.Context, tenant string, key DocumentKey) error

	// AgentDocuments returns the state and agent profile documents of
	// agent (an agent key; EInvalid when "") across activities and
	// registrations, whole, ordered by Kind, ActivityID, Registration and
	// ID (byte order): those past after in that order (after.Agent is
	// ignored; the zero DocumentKey starts at the first), at most
	// AgentDocumentsLimit(limit). Activity profiles are not included. The
	// next page starts after the last document's Key; a page shorter than
	// the limit is the last. A page is bounded by count, not by size: a
	// call holds at most limit documents, each up to the largest body the
	// LRS takes, so a caller short of memory asks for few. Its cost grows
	// with the page (and with the agent's deleted documents it passes
	// over, in a store that keeps deletions), not with the store.
	AgentDocuments(ctx context.Context, tenant, agent string, after DocumentKey, limit int) ([]Document, error)
	// DeleteAgentDocuments deletes every state and agent profile document
	// of agent (an agent key; EInvalid when "") in tenant, across
	// activities and registrations, and returns how many it deleted. Each
	// document is deleted atomically, the set is not: a document put while
	// it runs may stay. Deleting again deletes none and is no error.
	DeleteAgentDocuments(ctx context.Context, tenant, agent string) (int, error)
}

// AttachmentStore keeps attachment content, once per tenant and hash.
type AttachmentStore interface {
	// PutAttachment stores content under sha2 (the lower-case hex SHA-2
	// of the content, which the caller has verified) unless it is stored
	// already. It reads content to the end without holding all of it in
	// memory.
	PutAttachment(ctx context.Context, tenant, sha2 string, content io.Reader) error
	// Attachment returns the content stored under sha2 and its length;
	// ENotFound if none. The caller closes it.
	Attachment(ctx context.Context, tenant, sha2 string) (io.ReadCloser, int64, error)
}

// ActivityStore keeps the LRS's canonical definition of each activity.
type ActivityStore interface {
	// ActivityDefinition returns the canonical definition of the activity
	// id (a JSON activity definition object); ENotFound if the LRS has
	// none.
	ActivityDefinition(ctx context.Context, tenant, id string) ([]byte, error)
	// MergeActivityDefinition merges definition (a JSON activity
	// definition object) into the canonical definition of activity id with
	// MergeDefinition, atomically; authoritative tells whether it comes
	// from a credential with the define scope. The store keeps whether the
	// canonical definition is authoritative.
	MergeActivityDefinition(ctx context.Context, tenant, id string, definition []byte, authoritative bool) error
}
