package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
)

// test is one behaviour, run on a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s statements.Store)
}

// Run runs the behaviour suite: one subtest per behaviour, named
// TestStore_<Method>/<Case>, each on a fresh, empty store from newStore.
// newStore registers the store's cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) statements.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"TestStore_InsertStatements", insertTests},
		{"TestStore_Statement", statementTests},
		{"TestStore_Voiding", voidingTests},
		{"TestStore_StatementRef", statementRefTests},
		{"TestStore_QueryStatements", queryTests},
		{"TestStore_Paging", pagingTests},
		{"TestStore_ConsistentThrough", consistentThroughTests},
		{"TestStore_Tenants", tenantTests},
		{"TestStore_Credentials", credentialTests},
		{"TestStore_Admin", adminTests},
		{"TestStore_Documents", documentTests},
		{"TestStore_AgentDocuments", agentDocumentTests},
		{"TestStore_Attachments", attachmentTests},
		{"TestStore_ActivityDefinitions", activityTests},
		{"TestStore_Log", logTests},
		{"TestStore_SinkItems", sinkItemTests},
		{"TestStore_CountLeases", countLeaseTests},
		{"TestStore_Size", sizeTests},
		{"TestStore_Rosters", rosterTests},
		{"TestStore_Report", reportTests},
		{"TestStore_Erasure", erasureTests},
		{"TestStore_Retention", retentionTests},
		{"TestStore_DeleteTenant", tenantDeleteTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, newStore(t))
				})
			}
		})
	}
}

// The tenants the suite uses. Statement calls need no CreateTenant.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

// obj is a JSON object under construction.
type obj = map[string]any

// Authority is the authority the suite's records carry, as the HTTP layer
// sets it from the credential.
var Authority = obj{"objectType": "Agent", "name": "storetest",
	"account": obj{"homePage": "https://lrs.example.org", "name": "storetest"}}

// Credential is the credential key of the suite's records.
const Credential = "storetest-key"

func agent(name string) obj {
	return obj{"objectType": "Agent", "name": name, "mbox": "mailto:" + name + "@example.org"}
}

func group(name string) obj {
	return obj{"objectType": "Group", "name": name, "mbox": "mailto:" + name + "@example.org"}
}

func activity(name string) obj {
	return obj{"objectType": "Activity", "id": activityID(name),
		"definition": obj{"name": obj{"en-US": name}}}
}

func activityID(name string) string { return "https://example.org/activities/" + name }

func verbID(name string) string { return "https://example.org/verbs/" + name }

func stmtRef(id string) obj { return obj{"objectType": "StatementRef", "id": id} }

// stmt returns a statement of actor, verb (a short name) and object.
func stmt(actor obj, verb string, object obj) obj {
	return obj{
		"actor":  actor,
		"verb":   obj{"id": verbID(verb), "display": obj{"en-US": verb}},
		"object": object,
	}
}

// voiding returns a statement voiding the statement id.
func voiding(id string) obj {
	return obj{
		"actor":  agent("admin"),
		"verb":   obj{"id": statements.VerbVoided, "display": obj{"en-US": "voided"}},
		"object": stmtRef(id),
	}
}

// withID returns a copy of s with id.
func withID(s obj, id string) obj {
	c := clone(s)
	c["id"] = id
	return c
}

// with returns a copy of s with key set to v.
func with(s obj, key string, v any) obj {
	c := clone(s)
	c[key] = v
	return c
}

func clone(s obj) obj {
	var c obj
	if err := json.Unmarshal(mustJSON(s), &c); err != nil {
		panic(err)
	}
	return c
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Record builds the record of a received statement raw the way the HTTP
// layer does: the LRS's properties assigned (a new id if it has none), the
// fingerprint of the received bytes, its own terms, reference and voiding
// target.
func Record(tb testing.TB, raw []byte) *statements.Record {
	tb.Helper()
	fp, err := statements.Fingerprint(raw)
	if err != nil {
		tb.Fatalf("Fingerprint: %v", err)
	}
	b, s, err := statements.Assign(raw, statements.Assigned{
		ID:        newID(),
		Authority: mustJSON(Authority),
		Version:   "1.0.3",
	})
	if err != nil {
		tb.Fatalf("Assign: %v", err)
	}
	return &statements.Record{
		ID:             strings.ToLower(s.ID),
		Statement:      b,
		StampTimestamp: s.Timestamp == "",
		Fingerprint:    fp,
		Terms:          s.Terms(),
		RefTarget:      s.RefTarget(),
		Voids:          s.Voids(),
		Credential:     Credential,
	}
}

// rec is Record of a statement under construction.
func rec(tb testing.TB, s obj) *statements.Record {
	tb.Helper()
	return Record(tb, mustJSON(s))
}

// recs returns a record for each statement.
func recs(tb testing.TB, ss ...obj) []*statements.Record {
	tb.Helper()
	out := make([]*statements.Record, len(ss))
	for i, s := range ss {
		out[i] = rec(tb, s)
	}
	return out
}

// agentKey returns the Filter.Agent of an agent.
func agentKey(tb testing.TB, a obj) string {
	tb.Helper()
	k, err := statements.AgentKey(mustJSON(a))
	if err != nil {
		tb.Fatalf("AgentKey: %v", err)
	}
	return k
}

func mustInsert(t testing.TB, s statements.Store, tenant string, rs ...*statements.Record) {
	t.Helper()
	if err := s.InsertStatements(t.Context(), tenant, rs); err != nil {
		t.Fatalf("InsertStatements: %v", err)
	}
}

// insertEach inserts each record in a batch of its own.
func insertEach(t testing.TB, s statements.Store, tenant string, rs ...*statements.Record) {
	t.Helper()
	for _, r := range rs {
		mustInsert(t, s, tenant, r)
	}
}

func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := statements.ErrorCode(err); got != want {
		t.Fatalf("error code: got %q (%v), want %q", got, err, want)
	}
}

func mustQuery(t testing.TB, s statements.Store, tenant string, f statements.Filter) *statements.Page {
	t.Helper()
	p, err := s.QueryStatements(t.Context(), tenant, f)
	if err != nil {
		t.Fatalf("QueryStatements(%+v): %v", f, err)
	}
	return p
}

// queryIDs returns the ids of the first page of f.
func queryIDs(t testing.TB, s statements.Store, tenant string, f statements.Filter) []string {
	t.Helper()
	return ids(mustQuery(t, s, tenant, f).Records)
}

// queryAll walks every page of f and returns the records.
func queryAll(t testing.TB, s statements.Store, tenant string, f statements.Filter) []*statements.Record {
	t.Helper()
	var out []*statements.Record
	for range 100000 {
		p := mustQuery(t, s, tenant, f)
		out = append(out, p.Records...)
		if !p.More {
			return out
		}
		if len(p.Records) == 0 {
			t.Fatalf("QueryStatements(%+v): empty page with More", f)
		}
		f.After = p.Records[len(p.Records)-1].Position
	}
	t.Fatalf("QueryStatements(%+v): does not end", f)
	return nil
}

func ids(rs []*statements.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// desc returns the ids of rs, last first.
func desc(rs ...*statements.Record) []string {
	out := ids(rs)
	slices.Reverse(out)
	return out
}

func wantIDs(t testing.TB, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("ids:\n got %v\nwant %v", got, want)
	}
}

func mustStatement(t testing.TB, s statements.Store, tenant, id string, voided bool) *statements.Record {
	t.Helper()
	r, err := s.Statement(t.Context(), tenant, id, voided)
	if err != nil {
		t.Fatalf("Statement(%s, %s, %v): %v", tenant, id, voided, err)
	}
	return r
}

// wantAbsent checks that no statement with id is stored, voided or not.
func wantAbsent(t testing.TB, s statements.Store, tenant string, id string) {
	t.Helper()
	for _, voided := range []bool{false, true} {
		_, err := s.Statement(t.Context(), tenant, id, voided)
		if got := statements.ErrorCode(err); got != statements.ENotFound {
			t.Fatalf("Statement(%s, %s, %v): got code %q (%v), want %q", tenant, id, voided, got, err, statements.ENotFound)
		}
	}
}

// wantSameRecord checks a record read from the store against the one
// inserted.
func wantSameRecord(t testing.TB, got, want *statements.Record) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("ID: got %q, want %q", got.ID, want.ID)
	}
	if !bytes.Equal(got.Statement, want.Statement) {
		t.Errorf("Statement:\n got %s\nwant %s", got.Statement, want.Statement)
	}
	if got.Fingerprint != want.Fingerprint {
		t.Errorf("Fingerprint: got %q, want %q", got.Fingerprint, want.Fingerprint)
	}
	if got.RefTarget != want.RefTarget {
		t.Errorf("RefTarget: got %q, want %q", got.RefTarget, want.RefTarget)
	}
	if got.Voids != want.Voids {
		t.Errorf("Voids: got %q, want %q", got.Voids, want.Voids)
	}
	if got.Credential != want.Credential {
		t.Errorf("Credential: got %q, want %q", got.Credential, want.Credential)
	}
	if !got.Stored.Equal(want.Stored) {
		t.Errorf("Stored: got %v, want %v", got.Stored, want.Stored)
	}
	if got.Position != want.Position {
		t.Errorf("Position: got %d, want %d", got.Position, want.Position)
	}
	if got.Voided != want.Voided {
		t.Errorf("Voided: got %v, want %v", got.Voided, want.Voided)
	}
}

// short scales a size down in -short mode.
func short(n, shortN int) int {
	if testing.Short() {
		return shortN
	}
	return n
}
