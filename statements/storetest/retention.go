package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var retentionTests = []test{
	{"Settings", testRetentionSettings},
	{"EraseBefore", testEraseBefore},
	{"EraseAuditBefore", testEraseAuditBefore},
	{"Attachments", testEraseBeforeAttachments},
}

// testEraseBeforeAttachments: EraseBefore names the attachments of the
// statements it deleted, and DeleteUnusedAttachments deletes those no
// other statement has.
func testEraseBeforeAttachments(t *testing.T, s statements.Store) {
	only := mustPutAttachment(t, s, tenantA, []byte("an old essay"))
	shared := mustPutAttachment(t, s, tenantA, []byte("a worksheet"))
	att := func(sha2 string) obj {
		return obj{"usageType": "https://example.org/usage", "display": obj{"en-US": "file"},
			"contentType": "text/plain", "length": 3, "sha2": sha2}
	}
	l := agent("learner")
	mustInsert(t, s, tenantA, rec(t, with(stmt(l, "submitted", activity("a")), "attachments", []any{att(only), att(shared)})))
	time.Sleep(5 * time.Millisecond)
	newer := rec(t, with(stmt(l, "submitted", activity("b")), "attachments", []any{att(shared)}))
	mustInsert(t, s, tenantA, newer)
	n, hashes, err := s.EraseBefore(t.Context(), tenantA, newer.Stored, 0)
	if err != nil || n != 1 {
		t.Fatalf("EraseBefore: %d, %v", n, err)
	}
	slices.Sort(hashes)
	want := []string{only, shared}
	slices.Sort(want)
	if !slices.Equal(hashes, want) {
		t.Errorf("EraseBefore's attachments: %v, want %v", hashes, want)
	}
	if n, err := s.DeleteUnusedAttachments(t.Context(), tenantA, hashes); err != nil || n != 1 {
		t.Errorf("DeleteUnusedAttachments: %d, %v; want 1", n, err)
	}
	_, _, err = s.Attachment(t.Context(), tenantA, only)
	wantCode(t, err, statements.ENotFound)
	if got := readAttachment(t, s, tenantA, shared); string(got) != "a worksheet" {
		t.Errorf("the shared attachment: %q", got)
	}
}

// testEraseAuditBefore deletes exactly a tenant's audit entries made
// before a time.
func testEraseAuditBefore(t *testing.T, s statements.Store) {
	ctx := t.Context()
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	for i, e := range []statements.AuditEntry{
		{Tenant: tenantA, Action: "old"}, {Tenant: tenantB, Action: "old"}, {Action: "old"},
		{Tenant: tenantA, Action: "new"},
	} {
		e.Actor, e.Time = "storetest", t0.Add(time.Duration(i/3)*30*time.Minute)
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.EraseAuditBefore(ctx, tenantA, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("EraseAuditBefore: %d, %v; want 1", n, err)
	}
	es, err := s.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Tenant+":"+e.Action)
	}
	slices.Sort(got)
	if want := []string{":old", tenantA + ":new", tenantB + ":old"}; !slices.Equal(got, want) {
		t.Errorf("audit left: %v, want %v", got, want)
	}
	_, err = s.EraseAuditBefore(ctx, "", t0)
	wantCode(t, err, statements.EInvalid)
}

func testRetentionSettings(t *testing.T, s statements.Store) {
	ctx := t.Context()
	for _, r := range []statements.Retention{{Tenant: tenantA, Days: 30}, {Tenant: tenantB, Days: 10}, {Tenant: tenantA, Days: 1095}} {
		if err := s.SetRetention(ctx, r.Tenant, r.Days); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Retentions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []statements.Retention{{Tenant: tenantA, Days: 1095}, {Tenant: tenantB, Days: 10}}; !slices.Equal(got, want) {
		t.Errorf("Retentions: %v, want %v", got, want)
	}
	if err := s.SetRetention(ctx, tenantA, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Retentions(ctx); !slices.Equal(got, []statements.Retention{{Tenant: tenantB, Days: 10}}) {
		t.Errorf("Retentions after 0: %v", got)
	}
	wantCode(t, s.SetRetention(ctx, tenantA, -1), statements.EInvalid)
}

// testEraseBefore deletes exactly the statements stored before a time,
// oldest first, a limit at a time, in one tenant.
func testEraseBefore(t *testing.T, s statements.Store) {
	l := agent("learner")
	var old []*statements.Record
	for i := range 5 {
		r := rec(t, stmt(l, "attempted", activity("a")))
		if i == 4 {
			r = rec(t, with(stmt(agent("other"), "attempted", activity("a")), "context", obj{"instructor": l}))
		}
		mustInsert(t, s, tenantA, r)
		old = append(old, r)
	}
	mustInsert(t, s, tenantB, rec(t, stmt(l, "attempted", activity("a"))))
	time.Sleep(5 * time.Millisecond)
	newer := recs(t, stmt(l, "attempted", activity("b")), voiding(old[0].ID))
	mustInsert(t, s, tenantA, newer...)
	cut := newer[0].Stored
	if !old[len(old)-1].Stored.Before(cut) {
		t.Fatalf("stored %v and %v: no time between them", old[len(old)-1].Stored, cut)
	}

	n, _, err := s.EraseBefore(t.Context(), tenantA, cut, 2)
	if err != nil || n != 2 {
		t.Fatalf("EraseBefore(limit 2): %d, %v", n, err)
	}
	wantAbsent(t, s, tenantA, old[0].ID)
	wantAbsent(t, s, tenantA, old[1].ID)
	mustStatement(t, s, tenantA, old[2].ID, false)
	total := n
	for {
		n, _, err := s.EraseBefore(t.Context(), tenantA, cut, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != len(old) {
		t.Errorf("EraseBefore deleted %d statements, want %d", total, len(old))
	}
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, l), RelatedAgents: true}, sortedIDs(newer...))
	// The voiding statement keeps the terms of the statement it voided.
	wantFound(t, s, tenantA, statements.Filter{Activity: activityID("a")}, sortedIDs(newer[1]))
	if got := queryAll(t, s, tenantB, statements.Filter{}); len(got) != 1 {
		t.Errorf("the other tenant has %d statements, want 1", len(got))
	}
	later := rec(t, stmt(l, "attempted", activity("c")))
	mustInsert(t, s, tenantA, later)
	if later.Position <= newer[len(newer)-1].Position {
		t.Errorf("a later statement got position %d, after %d", later.Position, newer[len(newer)-1].Position)
	}
}
