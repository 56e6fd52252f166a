package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/digione/lrs/statements"
)

var _ statements.Store = (*Store)(nil)

// DefaultDatabase is the database New uses unless WithDatabase says
// otherwise.
const DefaultDatabase = "lrs"

// Store is a statements.Store in a MongoDB database. Several Stores, in one
// process or many, may share one database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database

	// afterRosterGen, if set, runs in a roster read between reading the
	// current generation and reading its records (tests).
	afterRosterGen func()

	log         *mongo.Collection // the chain of blocks: reserved positions and Stored times
	open        *mongo.Collection // the blocks not done
	outcomes    *mongo.Collection // the commit or abort of each block
	stmts       *mongo.Collection
	pending     *mongo.Collection // statements of batches in flight, claiming their ids
	links       *mongo.Collection // which statement refers to or voids which
	tenants     *mongo.Collection
	credentials *mongo.Collection
	audit       *mongo.Collection
	cursors     *mongo.Collection // the forwarders' cursors
	leases      *mongo.Collection // the forwarders' leases
	sinkItems   *mongo.Collection // the forwarders' items
	documents   *mongo.Collection
	activities  *mongo.Collection
	files       *mongo.Collection // attachments
	chunks      *mongo.Collection // their content
	tenantIDs   *mongo.Collection // which tenant owns an identity value
	reports     *mongo.Collection // the credentials' daily reports

	rosters           *mongo.Collection // pointers to the tenants' current rosters
	rosterOrgs        *mongo.Collection
	rosterUsers       *mongo.Collection
	rosterClasses     *mongo.Collection
	rosterEnrollments *mongo.Collection

	database       string
	now            func() time.Time
	lease          time.Duration
	connectTimeout time.Duration
	clientOpts     []*options.ClientOptions

	closed chan struct{}

	bg       sync.WaitGroup // the trims in the background
	trimming atomic.Bool

	tailMu   sync.Mutex
	tailSeen *block // the last block of the log this Store saw
	lastCT   int64  // the last ConsistentThrough answer (unix ms)
}

// Option configures a Store.
type Option func(*Store)

// WithDatabase sets the database name. Default DefaultDatabase ("lrs").
func WithDatabase(name string) Option { return func(s *Store) { s.database = name } }

// WithNow sets the clock the store reads to set Stored and to expire
// batches. Default time.Now.
func WithNow(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLease sets how long a batch may stay in flight before another writer
// may abort it (when uncommitted) or finish it (when committed). Default
// 30 seconds; it must exceed the clock skew between LRS processes by far.
func WithLease(d time.Duration) Option { return func(s *Store) { s.lease = d } }

// WithConnectTimeout sets how long New waits for the server. Default 10
// seconds.
func WithConnectTimeout(d time.Duration) Option { return func(s *Store) { s.connectTimeout = d } }

// WithClientOptions adds options to the driver's client (applied after
// the URI).
func WithClientOptions(o *options.ClientOptions) Option {
	return func(s *Store) { s.clientOpts = append(s.clientOpts, o) }
}

// New connects to the MongoDB deployment at uri, checks that it answers and
// creates the collections' indexes if they are missing (New is idempotent,
// and several processes may call it at once).
func New(ctx context.Context, uri string, opts ...Option) (*Store, error) {
	s, err := connect(ctx, uri, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.setup(ctx); err != nil {
		s.client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// connect connects to the deployment at uri and checks that it answers,
// changing nothing.
func connect(ctx context.Context, uri string, opts ...Option) (*Store, error) {
	s := &Store{database: DefaultDatabase, now: time.Now, lease: 30 * time.Second,
		connectTimeout: 10 * time.Second, closed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	where := redact(uri)
	co := options.Client().ApplyURI(uri).SetServerSelectionTimeout(s.connectTimeout).SetAppName("digione-lrs")
	client, err := mongo.Connect(append([]*options.ClientOptions{co}, s.clientOpts...)...)
	if err != nil {
		return nil, statements.Internal(err, "invalid MongoDB URI "+where)
	}
	pctx, cancel := context.WithTimeout(ctx, s.connectTimeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		client.Disconnect(context.WithoutCancel(ctx))
		return nil, statements.Internal(err, fmt.Sprintf("cannot reach MongoDB at %s within %v", where, s.connectTimeout))
	}
	s.client = client
	journal := true
	s.db = client.Database(s.database, options.Database().
		SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: &journal}).
		SetReadConcern(readconcern.Majority()))
	// The chain's end is read at the primary's latest state: a majority
	// snapshot may lag behind it, and a reservation would fail on it.
	s.log = s.db.Collection("log", options.Collection().SetReadConcern(readconcern.Local()))
	s.open = s.db.Collection("open", options.Collection().SetReadConcern(readconcern.Local()))
	s.outcomes = s.db.Collection("outcomes", options.Collection().SetReadConcern(readconcern.Local()))
	s.stmts = s.db.Collection("statements")
	s.pending = s.db.Collection("pending")
	s.links = s.db.Collection("links")
	s.tenants = s.db.Collection("tenants")
	s.credentials = s.db.Collection("credentials")
	s.audit = s.db.Collection("audit")
	s.cursors = s.db.Collection("cursors")
	s.leases = s.db.Collection("leases")
	s.sinkItems = s.db.Collection("sinkitems")
	s.documents = s.db.Collection("documents")
	s.activities = s.db.Collection("activities")
	s.files = s.db.Collection("attachments")
	s.chunks = s.db.Collection("chunks")
	s.tenantIDs = s.db.Collection("tenantids")
	s.reports = s.db.Collection("reports")
	s.rosters = s.db.Collection("rosters")
	s.rosterOrgs = s.db.Collection("rosterorgs")
	s.rosterUsers = s.db.Collection("rosterusers")
	s.rosterClasses = s.db.Collection("rosterclasses")
	s.rosterEnrollments = s.db.Collection("rosterenrollments")
	return s, nil
}

// redact returns the hosts of a MongoDB URI, without credentials.
func redact(uri string) string {
	cs, err := connstring.Parse(uri)
	if err != nil || len(cs.Hosts) == 0 {
		return "(unparsable URI)"
	}
	return strings.Join(cs.Hosts, ",")
}

// Close disconnects from the server.
func (s *Store) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
		close(s.closed)
	}
	s.bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return statements.Internal(err, "cannot close the store")
	}
	return nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	return mapErr(s.client.Ping(ctx, nil), "cannot reach MongoDB")
}

// index is an index New makes sure exists.
type index struct {
	coll   *mongo.Collection
	name   string
	keys   bson.D
	unique bool
}

// indexes lists every index of the store with the query it serves; doc.go
// says the same in prose.
func (s *Store) indexes() []index {
	return []index{
		// Statement, idempotence and conflicts: _id = tenant/id.
		// QueryStatements without terms.
		{coll: s.stmts, name: "tn_pos", keys: bson.D{{Key: "tn", Value: 1}, {Key: "pos", Value: 1}}},
		// ReadLog: every tenant's statements in position order.
		{coll: s.stmts, name: "pos", keys: bson.D{{Key: "pos", Value: 1}}},
		// QueryStatements with terms (multikey).
		{coll: s.stmts, name: "tn_terms_pos", keys: bson.D{{Key: "tn", Value: 1}, {Key: "terms", Value: 1}, {Key: "pos", Value: 1}}},
		// since and until become position bounds.
		{coll: s.stmts, name: "tn_st_pos", keys: bson.D{{Key: "tn", Value: 1}, {Key: "st", Value: 1}, {Key: "pos", Value: 1}}},
		// The claims of a batch, to finish or abort it.
		{coll: s.pending, name: "r", keys: bson.D{{Key: "r", Value: 1}}},
		// Is an arriving statement voided already, which statements refer
		// to it?
		{coll: s.links, name: "to", keys: bson.D{{Key: "to", Value: 1}}},
		// Credentials of a tenant (admin listings).
		{coll: s.credentials, name: "tn", keys: bson.D{{Key: "tn", Value: 1}}},
		// Document and its compare-and-swap: the latest version of a key.
		{coll: s.documents, name: "base_v", keys: bson.D{{Key: "base", Value: 1}, {Key: "v", Value: -1}}},
		// DocumentIDs and DeleteDocuments.
		{coll: s.documents, name: "tn_kind_act_agent_reg_did", keys: bson.D{{Key: "tn", Value: 1}, {Key: "kind", Value: 1},
			{Key: "act", Value: 1}, {Key: "agent", Value: 1}, {Key: "reg", Value: 1}, {Key: "did", Value: 1}}},
		// AgentDocuments and DeleteAgentDocuments: an agent's documents in
		// key order, the latest version of each first.
		{coll: s.documents, name: "tn_agent_kind_act_reg_did_v", keys: bson.D{{Key: "tn", Value: 1}, {Key: "agent", Value: 1},
			{Key: "kind", Value: 1}, {Key: "act", Value: 1}, {Key: "reg", Value: 1}, {Key: "did", Value: 1}, {Key: "v", Value: -1}}},
		// Cursor and AcquireLease: the latest version.
		{coll: s.cursors, name: "base_v", keys: bson.D{{Key: "base", Value: 1}, {Key: "v", Value: -1}}},
		{coll: s.leases, name: "base_v", keys: bson.D{{Key: "base", Value: 1}, {Key: "v", Value: -1}}},
		// SinkItem and its compare-and-swap; SinkItems checks candidates.
		{coll: s.sinkItems, name: "base_v", keys: bson.D{{Key: "base", Value: 1}, {Key: "v", Value: -1}}},
		// SinkItems in (tenant, key) order, and by state and due time.
		{coll: s.sinkItems, name: "sk_tn_key_v", keys: bson.D{{Key: "sk", Value: 1}, {Key: "tn", Value: 1},
			{Key: "key", Value: 1}, {Key: "v", Value: -1}}},
		{coll: s.sinkItems, name: "sk_st_due", keys: bson.D{{Key: "sk", Value: 1}, {Key: "st", Value: 1}, {Key: "due", Value: 1}}},
		// ActivityDefinition and its compare-and-swap.
		{coll: s.activities, name: "base_v", keys: bson.D{{Key: "base", Value: 1}, {Key: "v", Value: -1}}},
		// The chunks of an upload, to delete them (reads go by _id).
		{coll: s.chunks, name: "u", keys: bson.D{{Key: "u", Value: 1}}},
		// Report: a credential's days.
		{coll: s.reports, name: "tn_cred_day", keys: bson.D{{Key: "tn", Value: 1}, {Key: "cred", Value: 1}, {Key: "day", Value: 1}}},
	}
}

// setup creates the log's first block and the indexes when missing.
func (s *Store) setup(ctx context.Context) error {
	if err := s.setupLog(ctx); err != nil {
		return err
	}
	for _, ix := range slices.Concat(s.indexes(), s.rosterIndexes(), s.erasureIndexes()) {
		o := options.Index().SetName(ix.name)
		if ix.unique {
			o.SetUnique(true)
		}
		if _, err := ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
			return statements.Internal(err, fmt.Sprintf("cannot create index %s.%s", ix.coll.Name(), ix.name))
		}
	}
	return nil
}

func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

func newNonce() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// codeOutOfDiskSpace is MongoDB's error code of a full disk.
const codeOutOfDiskSpace = 14031

// mapErr turns a driver error into a statements.Error: a duplicate key is
// EConflict; a full disk or a database out of reach is EUnavailable.
func mapErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	var se *statements.Error
	if errors.As(err, &se) {
		return err
	}
	if mongo.IsDuplicateKeyError(err) {
		return &statements.Error{Code: statements.EConflict, Message: msg + ": already exists", Err: err}
	}
	var se2 mongo.ServerError
	if errors.As(err, &se2) && se2.HasErrorCode(codeOutOfDiskSpace) {
		return &statements.Error{Code: statements.EUnavailable, Message: msg + ": the database's disk is full", Err: err}
	}
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected) {
		return &statements.Error{Code: statements.EUnavailable, Message: msg + ": the database cannot be reached", Err: err}
	}
	return statements.Internal(err, msg)
}

// key is the _id of a statement: its tenant and id. Statement ids are
// UUIDs, so the last "/" separates the two.
func key(tenant, id string) string { return tenant + "/" + id }

func unkey(tenant, k string) string { return strings.TrimPrefix(k, tenant+"/") }
