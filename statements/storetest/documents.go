package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var documentTests = []test{
	{"PutGet", testDocumentPutGet},
	{"ErrNotFound", testDocumentErrNotFound},
	{"Replace", testDocumentReplace},
	{"ErrPreconditionFailed", testDocumentErrPreconditionFailed},
	{"IfNoneMatch", testDocumentIfNoneMatch},
	{"KeyParts", testDocumentKeyParts},
	{"IDs", testDocumentIDs},
	{"IDsSince", testDocumentIDsSince},
	{"Delete", testDocumentDelete},
	{"DeleteAllRegistrationScope", testDocumentDeleteAllRegistrationScope},
	{"TenantIsolation", testDocumentTenantIsolation},
	{"BinaryContentRoundTrip", testDocumentBinaryContentRoundTrip},
	{"ConcurrentCAS", testDocumentConcurrentCAS},
}

// docT0 is the updated time of the suite's first document writes.
var docT0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func docStateKey(t testing.TB, id, registration string) statements.DocumentKey {
	return statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID("doc"),
		Agent: agentKey(t, agent("doc-learner")), Registration: registration, ID: id}
}

func docOf(key statements.DocumentKey, content, contentType string, updated time.Time) *statements.Document {
	return &statements.Document{Key: key, Content: []byte(content), ContentType: contentType,
		ETag: statements.DocumentETag([]byte(content)), Updated: updated}
}

func mustPutDoc(t testing.TB, s statements.Store, tenant string, d *statements.Document) {
	t.Helper()
	if err := s.PutDocument(t.Context(), tenant, d, statements.Condition{}); err != nil {
		t.Fatalf("PutDocument(%+v): %v", d.Key, err)
	}
}

func mustGetDoc(t testing.TB, s statements.Store, tenant string, key statements.DocumentKey) *statements.Document {
	t.Helper()
	d, err := s.Document(t.Context(), tenant, key)
	if err != nil {
		t.Fatalf("Document(%+v): %v", key, err)
	}
	return d
}

func wantDocContent(t testing.TB, s statements.Store, tenant string, key statements.DocumentKey, want string) {
	t.Helper()
	if got := mustGetDoc(t, s, tenant, key).Content; string(got) != want {
		t.Fatalf("content of %s: got %q, want %q", key.ID, got, want)
	}
}

func wantNoDoc(t testing.TB, s statements.Store, tenant string, key statements.DocumentKey) {
	t.Helper()
	_, err := s.Document(t.Context(), tenant, key)
	wantCode(t, err, statements.ENotFound)
}

func mustDocIDs(t testing.TB, s statements.Store, tenant string, key statements.DocumentKey, since time.Time) []string {
	t.Helper()
	ids, err := s.DocumentIDs(t.Context(), tenant, key, since)
	if err != nil {
		t.Fatalf("DocumentIDs(%+v, %v): %v", key, since, err)
	}
	return ids
}

func wantDocIDs(t testing.TB, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got == nil || !slices.Equal(got, want) {
		t.Fatalf("ids: got %q, want %q", got, want)
	}
}

func testDocumentPutGet(t *testing.T, s statements.Store) {
	key := docStateKey(t, "bookmark", "")
	mustPutDoc(t, s, tenantA, docOf(key, `{"page":3}`, "application/json", docT0.Add(1500*time.Microsecond)))
	d := mustGetDoc(t, s, tenantA, key)
	if got, want := string(d.Content), `{"page":3}`; got != want {
		t.Errorf("Content: got %q, want %q", got, want)
	}
	if got, want := d.ContentType, "application/json"; got != want {
		t.Errorf("ContentType: got %q, want %q", got, want)
	}
	if got, want := d.ETag, statements.DocumentETag([]byte(`{"page":3}`)); got != want {
		t.Errorf("ETag: got %q, want %q", got, want)
	}
	if got, want := d.Updated, docT0.Add(time.Millisecond); !got.Equal(want) {
		t.Errorf("Updated: got %v, want %v (millisecond precision)", got, want)
	}
	if d.Key != key {
		t.Errorf("Key: got %+v, want %+v", d.Key, key)
	}
}

func testDocumentErrNotFound(t *testing.T, s statements.Store) {
	wantNoDoc(t, s, tenantA, docStateKey(t, "none", ""))
	key := docStateKey(t, "one", "")
	mustPutDoc(t, s, tenantA, docOf(key, "x", "text/plain", docT0))
	key.ID = "other"
	wantNoDoc(t, s, tenantA, key)
}

func testDocumentReplace(t *testing.T, s statements.Store) {
	key := docStateKey(t, "doc", "")
	mustPutDoc(t, s, tenantA, docOf(key, "first", "text/plain", docT0))
	mustPutDoc(t, s, tenantA, docOf(key, `{"a":1}`, "application/json", docT0.Add(time.Second)))
	d := mustGetDoc(t, s, tenantA, key)
	if string(d.Content) != `{"a":1}` || d.ContentType != "application/json" || !d.Updated.Equal(docT0.Add(time.Second)) {
		t.Fatalf("after replace: got %q %q %v", d.Content, d.ContentType, d.Updated)
	}
}

func testDocumentErrPreconditionFailed(t *testing.T, s statements.Store) {
	ctx := t.Context()
	key := docStateKey(t, "doc", "")
	err := s.PutDocument(ctx, tenantA, docOf(key, "v1", "text/plain", docT0), statements.Condition{IfMatch: "*"})
	wantCode(t, err, statements.EPreconditionFailed)
	wantNoDoc(t, s, tenantA, key)
	err = s.PutDocument(ctx, tenantA, docOf(key, "v1", "text/plain", docT0), statements.Condition{IfMatch: statements.DocumentETag([]byte("v0"))})
	wantCode(t, err, statements.EPreconditionFailed)
	wantNoDoc(t, s, tenantA, key)

	mustPutDoc(t, s, tenantA, docOf(key, "v1", "text/plain", docT0))
	err = s.PutDocument(ctx, tenantA, docOf(key, "v2", "text/plain", docT0), statements.Condition{IfMatch: statements.DocumentETag([]byte("v0"))})
	wantCode(t, err, statements.EPreconditionFailed)
	wantDocContent(t, s, tenantA, key, "v1")

	err = s.PutDocument(ctx, tenantA, docOf(key, "v2", "text/plain", docT0), statements.Condition{IfMatch: statements.DocumentETag([]byte("v1"))})
	if err != nil {
		t.Fatalf("PutDocument with the current ETag: %v", err)
	}
	wantDocContent(t, s, tenantA, key, "v2")
	if err := s.PutDocument(ctx, tenantA, docOf(key, "v3", "text/plain", docT0), statements.Condition{IfMatch: "*"}); err != nil {
		t.Fatalf("PutDocument with If-Match *: %v", err)
	}
	wantDocContent(t, s, tenantA, key, "v3")
}

func testDocumentIfNoneMatch(t *testing.T, s statements.Store) {
	ctx := t.Context()
	key := docStateKey(t, "doc", "")
	if err := s.PutDocument(ctx, tenantA, docOf(key, "v1", "text/plain", docT0), statements.Condition{IfNoneMatch: "*"}); err != nil {
		t.Fatalf("PutDocument If-None-Match * of a new document: %v", err)
	}
	err := s.PutDocument(ctx, tenantA, docOf(key, "v2", "text/plain", docT0), statements.Condition{IfNoneMatch: "*"})
	wantCode(t, err, statements.EPreconditionFailed)
	wantDocContent(t, s, tenantA, key, "v1")
	err = s.DeleteDocument(ctx, tenantA, key, statements.Condition{IfNoneMatch: "*"})
	wantCode(t, err, statements.EPreconditionFailed)
	wantDocContent(t, s, tenantA, key, "v1")
}

func testDocumentKeyParts(t *testing.T, s statements.Store) {
	base := statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID("a"),
		Agent: agentKey(t, agent("x")), ID: "doc"}
	keys := []statements.DocumentKey{base}
	for _, edit := range []func(k *statements.DocumentKey){
		func(k *statements.DocumentKey) { k.ActivityID = activityID("b") },
		func(k *statements.DocumentKey) { k.Agent = agentKey(t, agent("y")) },
		func(k *statements.DocumentKey) { k.Registration = newID() },
		func(k *statements.DocumentKey) { k.ID = "Doc" },
		func(k *statements.DocumentKey) { k.Kind = statements.KindAgentProfile; k.ActivityID = "" },
		func(k *statements.DocumentKey) { k.Kind = statements.KindActivityProfile; k.Agent = "" },
	} {
		k := base
		edit(&k)
		keys = append(keys, k)
	}
	for i, k := range keys {
		mustPutDoc(t, s, tenantA, docOf(k, fmt.Sprint(i), "text/plain", docT0))
	}
	for i, k := range keys {
		wantDocContent(t, s, tenantA, k, fmt.Sprint(i))
	}
}

func testDocumentIDs(t *testing.T, s statements.Store) {
	reg1, reg2 := newID(), newID()
	for _, k := range []statements.DocumentKey{
		docStateKey(t, "c", ""), docStateKey(t, "a", ""), docStateKey(t, "b", reg1), docStateKey(t, "a", reg2),
	} {
		mustPutDoc(t, s, tenantA, docOf(k, "x", "text/plain", docT0))
	}
	other := docStateKey(t, "z", "")
	other.ActivityID = activityID("other")
	mustPutDoc(t, s, tenantA, docOf(other, "x", "text/plain", docT0))
	other = docStateKey(t, "y", "")
	other.Agent = agentKey(t, agent("other"))
	mustPutDoc(t, s, tenantA, docOf(other, "x", "text/plain", docT0))
	prof := statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: docStateKey(t, "", "").Agent, ID: "p"}
	mustPutDoc(t, s, tenantA, docOf(prof, "x", "text/plain", docT0))

	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", ""), time.Time{}), "a", "b", "c")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", reg1), time.Time{}), "b")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", reg2), time.Time{}), "a")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", newID()), time.Time{}))
	prof.ID = ""
	wantDocIDs(t, mustDocIDs(t, s, tenantA, prof, time.Time{}), "p")
	act := statements.DocumentKey{Kind: statements.KindActivityProfile, ActivityID: activityID("doc")}
	wantDocIDs(t, mustDocIDs(t, s, tenantA, act, time.Time{}))
}

func testDocumentIDsSince(t *testing.T, s statements.Store) {
	for i, id := range []string{"old", "mid", "new"} {
		mustPutDoc(t, s, tenantA, docOf(docStateKey(t, id, ""), "x", "text/plain", docT0.Add(time.Duration(i)*time.Second)))
	}
	all := docStateKey(t, "", "")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0.Add(-time.Millisecond)), "mid", "new", "old")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0), "mid", "new")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0.Add(500*time.Millisecond)), "mid", "new")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0.Add(time.Second+500*time.Microsecond)), "new")
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0.Add(2*time.Second)))
	// A write updates the time.
	mustPutDoc(t, s, tenantA, docOf(docStateKey(t, "old", ""), "y", "text/plain", docT0.Add(3*time.Second)))
	wantDocIDs(t, mustDocIDs(t, s, tenantA, all, docT0.Add(2*time.Second)), "old")
}

func testDocumentDelete(t *testing.T, s statements.Store) {
	ctx := t.Context()
	key := docStateKey(t, "doc", "")
	if err := s.DeleteDocument(ctx, tenantA, key, statements.Condition{}); err != nil {
		t.Fatalf("DeleteDocument of a missing document: %v", err)
	}
	wantCode(t, s.DeleteDocument(ctx, tenantA, key, statements.Condition{IfMatch: "*"}), statements.EPreconditionFailed)

	mustPutDoc(t, s, tenantA, docOf(key, "v1", "text/plain", docT0))
	keep := docStateKey(t, "keep", "")
	mustPutDoc(t, s, tenantA, docOf(keep, "k", "text/plain", docT0))
	wantCode(t, s.DeleteDocument(ctx, tenantA, key, statements.Condition{IfMatch: statements.DocumentETag([]byte("v0"))}),
		statements.EPreconditionFailed)
	wantDocContent(t, s, tenantA, key, "v1")
	if err := s.DeleteDocument(ctx, tenantA, key, statements.Condition{IfMatch: statements.DocumentETag([]byte("v1"))}); err != nil {
		t.Fatalf("DeleteDocument with the current ETag: %v", err)
	}
	wantNoDoc(t, s, tenantA, key)
	wantDocContent(t, s, tenantA, keep, "k")
	if err := s.DeleteDocument(ctx, tenantA, keep, statements.Condition{}); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	wantNoDoc(t, s, tenantA, keep)
}

func testDocumentDeleteAllRegistrationScope(t *testing.T, s statements.Store) {
	ctx := t.Context()
	reg1, reg2 := newID(), newID()
	none, r1, r2 := docStateKey(t, "a", ""), docStateKey(t, "b", reg1), docStateKey(t, "c", reg2)
	otherAgent := docStateKey(t, "d", "")
	otherAgent.Agent = agentKey(t, agent("other"))
	otherActivity := docStateKey(t, "e", "")
	otherActivity.ActivityID = activityID("other")
	prof := statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: none.Agent, ID: "f"}
	for _, k := range []statements.DocumentKey{none, r1, r2, otherAgent, otherActivity, prof} {
		mustPutDoc(t, s, tenantA, docOf(k, "x", "text/plain", docT0))
	}
	if err := s.DeleteDocuments(ctx, tenantA, docStateKey(t, "", reg1)); err != nil {
		t.Fatalf("DeleteDocuments(registration): %v", err)
	}
	wantNoDoc(t, s, tenantA, r1)
	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", ""), time.Time{}), "a", "c")
	if err := s.DeleteDocuments(ctx, tenantA, docStateKey(t, "", "")); err != nil {
		t.Fatalf("DeleteDocuments(any registration): %v", err)
	}
	wantDocIDs(t, mustDocIDs(t, s, tenantA, docStateKey(t, "", ""), time.Time{}))
	for _, k := range []statements.DocumentKey{otherAgent, otherActivity, prof} {
		wantDocContent(t, s, tenantA, k, "x")
	}
}

func testDocumentTenantIsolation(t *testing.T, s statements.Store) {
	ctx := t.Context()
	key := docStateKey(t, "doc", "")
	mustPutDoc(t, s, tenantA, docOf(key, "a", "text/plain", docT0))
	wantNoDoc(t, s, tenantB, key)
	wantDocIDs(t, mustDocIDs(t, s, tenantB, docStateKey(t, "", ""), time.Time{}))
	wantCode(t, s.PutDocument(ctx, tenantB, docOf(key, "b", "text/plain", docT0), statements.Condition{IfMatch: "*"}),
		statements.EPreconditionFailed)
	if err := s.PutDocument(ctx, tenantB, docOf(key, "b", "text/plain", docT0), statements.Condition{IfNoneMatch: "*"}); err != nil {
		t.Fatalf("PutDocument in tenant B: %v", err)
	}
	wantDocContent(t, s, tenantA, key, "a")
	wantDocContent(t, s, tenantB, key, "b")
	if err := s.DeleteDocuments(ctx, tenantB, docStateKey(t, "", "")); err != nil {
		t.Fatalf("DeleteDocuments: %v", err)
	}
	wantDocContent(t, s, tenantA, key, "a")
	if err := s.DeleteDocument(ctx, tenantB, key, statements.Condition{}); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	wantDocContent(t, s, tenantA, key, "a")
}

func testDocumentBinaryContentRoundTrip(t *testing.T, s statements.Store) {
	bin := make([]byte, 0, 512)
	for i := range 512 {
		bin = append(bin, byte(i*7))
	}
	for _, tc := range []struct {
		id, contentType string
		content         []byte
	}{
		{"bytes", "application/octet-stream", bin},
		{"empty", "text/plain", []byte{}},
		{"nul", "application/x-nul", []byte{0}},
		{"latin1", "text/plain; charset=iso-8859-1", []byte("caf\xe9")},
	} {
		key := docStateKey(t, tc.id, "")
		mustPutDoc(t, s, tenantA, &statements.Document{Key: key, Content: tc.content, ContentType: tc.contentType,
			ETag: statements.DocumentETag(tc.content), Updated: docT0})
		d := mustGetDoc(t, s, tenantA, key)
		if !bytes.Equal(d.Content, tc.content) || d.Content == nil {
			t.Errorf("%s: content got %x, want %x", tc.id, d.Content, tc.content)
		}
		if d.ContentType != tc.contentType {
			t.Errorf("%s: content type got %q, want %q", tc.id, d.ContentType, tc.contentType)
		}
		if want := statements.DocumentETag(tc.content); d.ETag != want {
			t.Errorf("%s: ETag got %s, want %s", tc.id, d.ETag, want)
		}
	}
}

// testDocumentConcurrentCAS runs writers that each add a key to one JSON
// document by read, merge and compare-and-swap: no update is lost.
func testDocumentConcurrentCAS(t *testing.T, s statements.Store) {
	const writers, rounds = 8, 5
	key := docStateKey(t, "counter", "")
	mustPutDoc(t, s, tenantA, docOf(key, `{}`, "application/json", docT0))
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				if err := casMerge(t, s, key, fmt.Sprintf("w%d-%d", w, r)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(mustGetDoc(t, s, tenantA, key).Content, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*rounds {
		t.Fatalf("merged keys: got %d, want %d (lost updates)", len(got), writers*rounds)
	}
}

func casMerge(t *testing.T, s statements.Store, key statements.DocumentKey, add string) error {
	ctx := t.Context()
	for range 10000 {
		d, err := s.Document(ctx, tenantA, key)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(d.Content, &m); err != nil {
			return err
		}
		m[add] = true
		b := mustJSON(m)
		err = s.PutDocument(ctx, tenantA, &statements.Document{Key: key, Content: b, ContentType: "application/json",
			ETag: statements.DocumentETag(b), Updated: time.Now()}, statements.Condition{IfMatch: d.ETag})
		if statements.ErrorCode(err) == statements.EPreconditionFailed {
			continue
		}
		return err
	}
	return fmt.Errorf("%s: no successful compare-and-swap", add)
}
