package mongostore_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/storetest"
)

func record(tb testing.TB, s string) *statements.Record {
	tb.Helper()
	return storetest.Record(tb, []byte(s))
}

func stmtOf(actor, activity string) string {
	return `{"actor":{"mbox":"mailto:` + actor + `@example.org"},"verb":{"id":"https://example.org/verbs/completed"},
	"object":{"id":"https://example.org/activities/` + activity + `"}}`
}

// TestStore_ExactExtensions: extension keys full of dots and dollars
// round-trip byte for byte, and the statement stays queryable.
func TestStore_ExactExtensions(t *testing.T) {
	s := MustOpenStore(t, newDatabase())
	raw := `{"actor":{"mbox":"mailto:alice@example.org"},"verb":{"id":"https://example.org/verbs/completed"},
	"object":{"id":"https://example.org/activities/course","definition":{"extensions":{"http://example.org/ext.v1.$x":{"$set":1,"a.b":"c"}}}},
	"result":{"extensions":{"$where":"1","https://w3id.org/xapi/cmi5/result/extensions/progress":100}},
	"context":{"extensions":{"http://id.tincanapi.com/extension/.dotted.":[{"$oid":"x"}]}}}`
	r := record(t, raw)
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statement(t.Context(), "t", r.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Statement, r.Statement) {
		t.Errorf("Statement:\n got %s\nwant %s", got.Statement, r.Statement)
	}
	k, _ := statements.AgentKey([]byte(`{"mbox":"mailto:alice@example.org"}`))
	p, err := s.QueryStatements(t.Context(), "t", statements.Filter{Agent: k, Activity: "https://example.org/activities/course"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 1 || !bytes.Equal(p.Records[0].Statement, r.Statement) {
		t.Errorf("query: got %d records", len(p.Records))
	}
}

// TestStore_TwoProcesses: two Stores on one database, as two LRS
// processes, write concurrently; a pager reading ascending through a third
// sees every statement exactly once, and ConsistentThrough never hides an
// acknowledged one.
func TestStore_TwoProcesses(t *testing.T) {
	db := newDatabase()
	stores := []*mongostore.Store{MustOpenStore(t, db), MustOpenStore(t, db)}
	reader := MustOpenStore(t, db)
	var mu sync.Mutex
	acked := map[string]*statements.Record{}
	var wg sync.WaitGroup
	for w := range 4 {
		s := stores[w%2]
		wg.Go(func() {
			for i := range 12 {
				batch := make([]*statements.Record, 1+i%3)
				for j := range batch {
					batch[j] = record(t, stmtOf(fmt.Sprint("learner", w), fmt.Sprint(w, "-", i, "-", j)))
				}
				if err := s.InsertStatements(t.Context(), "t", batch); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				for _, r := range batch {
					acked[r.ID] = r
				}
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var after int64
	for finished := false; ; {
		if !finished {
			select {
			case <-done:
				finished = true
			default:
			}
		}
		ct, err := reader.ConsistentThrough(t.Context(), "t")
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		var due []*statements.Record
		for _, r := range acked {
			if !r.Stored.After(ct) {
				due = append(due, r)
			}
		}
		mu.Unlock()
		p, err := reader.QueryStatements(t.Context(), "t", statements.Filter{Ascending: true, After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if r.Position <= after {
				t.Fatalf("position %d after cursor %d", r.Position, after)
			}
			after = r.Position
			seen[r.ID]++
		}
		for _, r := range due {
			if seen[r.ID] == 0 && r.Position <= after {
				t.Fatalf("statement %s (position %d, stored %v <= consistent-through %v) skipped", r.ID, r.Position, r.Stored, ct)
			}
		}
		if len(p.Records) == 0 && finished {
			break
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("statement %s seen %d times", id, n)
		}
	}
	if len(seen) != len(acked) {
		t.Fatalf("pager saw %d statements, writers stored %d", len(seen), len(acked))
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Fatalf("statement %s never seen", id)
		}
	}
}

// TestStore_CrashedWriter: a batch whose writer died before committing is
// aborted once its lease expires, one that died after committing is
// finished; until then neither lets the watermark pass.
func TestStore_CrashedWriter(t *testing.T) {
	db := newDatabase()
	lease := 300 * time.Millisecond
	dead := MustOpenStore(t, db, mongostore.WithLease(lease))
	s := MustOpenStore(t, db, mongostore.WithLease(lease))
	before := record(t, stmtOf("alice", "before"))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{before}); err != nil {
		t.Fatal(err)
	}
	aborted := []*statements.Record{record(t, stmtOf("bob", "a")), record(t, stmtOf("bob", "b"))}
	if err := mongostore.CrashBeforeCommit(t.Context(), dead, "t", aborted); err != nil {
		t.Fatal(err)
	}
	committed := []*statements.Record{record(t, stmtOf("carol", "a")), record(t, stmtOf("carol", "b"))}
	if err := mongostore.CrashAfterCommit(t.Context(), dead, "t", committed); err != nil {
		t.Fatal(err)
	}
	after := record(t, stmtOf("dave", "after"))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{after}); err != nil {
		t.Fatal(err)
	}
	ids := func() []string {
		p, err := s.QueryStatements(t.Context(), "t", statements.Filter{Ascending: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range p.Records {
			out = append(out, r.ID)
		}
		return out
	}
	// In flight: the watermark stays below the crashed batches.
	if got, want := strings.Join(ids(), ","), before.ID; got != want {
		t.Fatalf("while the crashed batches hold their lease: got %v, want %v", got, want)
	}
	ct, err := s.ConsistentThrough(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if !ct.Before(after.Stored) {
		t.Errorf("ConsistentThrough %v reaches past the crashed batches (after: %v)", ct, after.Stored)
	}
	time.Sleep(lease + 100*time.Millisecond)
	want := strings.Join([]string{before.ID, committed[0].ID, committed[1].ID, after.ID}, ",")
	if got := strings.Join(ids(), ","); got != want {
		t.Fatalf("after the lease: got %v, want %v", got, want)
	}
	for _, r := range aborted {
		if _, err := s.Statement(t.Context(), "t", r.ID, false); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("aborted statement %s: %v, want not found", r.ID, err)
		}
		// Its id is free again.
		if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
			t.Errorf("storing the aborted statement again: %v", err)
		}
	}
	if _, err := s.Statement(t.Context(), "t", committed[1].ID, false); err != nil {
		t.Errorf("committed statement: %v", err)
	}
}

// TestNew_Unreachable: New fails soon, naming the server and not the
// password.
func TestNew_Unreachable(t *testing.T) {
	start := time.Now()
	_, err := mongostore.New(t.Context(), "mongodb://lrs:hunter2@127.0.0.1:1/", mongostore.WithConnectTimeout(300*time.Millisecond))
	if err == nil {
		t.Fatal("New: no error")
	}
	if msg := statements.ErrorMessage(err); !strings.Contains(msg, "cannot reach MongoDB at 127.0.0.1:1") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("New took %v", d)
	}
}

// TestNew_Idempotent: a second start on a database creates nothing twice
// and sees the statements.
func TestNew_Idempotent(t *testing.T) {
	db := newDatabase()
	s := MustOpenStore(t, db)
	r := record(t, stmtOf("alice", "x"))
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{r}); err != nil {
		t.Fatal(err)
	}
	s2 := MustOpenStore(t, db)
	got, err := s2.Statement(t.Context(), "t", r.ID, false)
	if err != nil || got.Position != r.Position {
		t.Fatalf("Statement after a second New: %v, %+v", err, got)
	}
	r2 := record(t, stmtOf("alice", "y"))
	if err := s2.InsertStatements(t.Context(), "t", []*statements.Record{r2}); err != nil {
		t.Fatal(err)
	}
	if r2.Position <= r.Position {
		t.Errorf("Position: got %d, want > %d", r2.Position, r.Position)
	}
}

// TestInspect_MissingIndex: Inspect names an index a store of an earlier
// version lacks (the agent index of the documents), and New creates it.
func TestInspect_MissingIndex(t *testing.T) {
	db := newDatabase()
	s := MustOpenStore(t, db)
	if err := s.InsertStatements(t.Context(), "t", []*statements.Record{record(t, stmtOf("alice", "x"))}); err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(testURI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.WithoutCancel(t.Context()))
	const index = "tn_agent_kind_act_reg_did_v"
	if err := c.Database(db).Collection("documents").Indexes().DropOne(t.Context(), index); err != nil {
		t.Fatalf("drop index %s: %v", index, err)
	}
	info, err := mongostore.Inspect(t.Context(), testURI, mongostore.WithDatabase(db))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.MissingIndexes, []string{"documents." + index}; !slices.Equal(got, want) {
		t.Errorf("MissingIndexes: got %q, want %q", got, want)
	}
	MustOpenStore(t, db)
	if info, err = mongostore.Inspect(t.Context(), testURI, mongostore.WithDatabase(db)); err != nil || len(info.MissingIndexes) != 0 {
		t.Errorf("MissingIndexes after New: %q, %v; want none", info.MissingIndexes, err)
	}
}
