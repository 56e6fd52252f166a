package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var tenantDeleteTests = []test{
	{"OthersUntouched", testDeleteTenant},
}

// tenantView is what the store answers about one tenant, as bytes.
func tenantView(t *testing.T, s statements.Store, tenant string, keys []statements.DocumentKey, hashes, acts []string) []byte {
	t.Helper()
	ctx := t.Context()
	var b bytes.Buffer
	for _, r := range queryAll(t, s, tenant, statements.Filter{Ascending: true}) {
		fmt.Fprintf(&b, "statement %s %d %v %s %s\n", r.ID, r.Position, r.Voided, r.Fingerprint, r.JSON())
	}
	for _, k := range keys {
		d, err := s.Document(ctx, tenant, k)
		fmt.Fprintf(&b, "document %+v %v", k, statements.ErrorCode(err))
		if err == nil {
			fmt.Fprintf(&b, " %s %s %s", d.Content, d.ContentType, d.ETag)
		}
		b.WriteByte('\n')
	}
	for _, h := range hashes {
		_, _, err := s.Attachment(ctx, tenant, h)
		fmt.Fprintf(&b, "attachment %s %v", h, statements.ErrorCode(err))
		if err == nil {
			fmt.Fprintf(&b, " %s", readAttachment(t, s, tenant, h))
		}
		b.WriteByte('\n')
	}
	for _, a := range acts {
		def, err := s.ActivityDefinition(ctx, tenant, a)
		fmt.Fprintf(&b, "activity %s %v %s\n", a, statements.ErrorCode(err), def)
	}
	tn, err := s.Tenant(ctx, tenant)
	fmt.Fprintf(&b, "tenant %v", statements.ErrorCode(err))
	if err == nil {
		fmt.Fprintf(&b, " %s %v", tn.Name, tn.IdentityValues)
	}
	c, err := s.Credential(ctx, tenant+"-key")
	fmt.Fprintf(&b, "\ncredential %v", statements.ErrorCode(err))
	if err == nil {
		fmt.Fprintf(&b, " %s %v", c.Tenant, c.Scopes)
	}
	st, err := s.RosterStatus(ctx, tenant)
	fmt.Fprintf(&b, "\nroster %+v %v\n", st, err)
	rs, _ := s.Retentions(ctx)
	for _, r := range rs {
		if r.Tenant == tenant {
			fmt.Fprintf(&b, "retention %d\n", r.Days)
		}
	}
	return b.Bytes()
}

// testDeleteTenant fills two tenants alike, deletes one, and checks that
// the other reads byte for byte as before and the deleted one has
// nothing left.
func testDeleteTenant(t *testing.T, s statements.Store) {
	ctx := t.Context()
	var keys []statements.DocumentKey
	var hashes, acts []string
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, tenant := range []string{tenantA, tenantB} {
		if err := s.CreateTenant(ctx, statements.Tenant{ID: tenant, Name: tenant, Created: now, IdentityValues: []string{"oid-" + tenant}}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCredential(ctx, statements.Credential{Key: tenant + "-key", Tenant: tenant, Scopes: []string{"all"}, Created: now}); err != nil {
			t.Fatal(err)
		}
		l, other := agent("learner"), agent("other-"+tenant)
		first := rec(t, stmt(l, "attempted", activity("a")))
		mustInsert(t, s, tenant, first, rec(t, with(stmt(other, "completed", activity("b")), "context", obj{"instructor": l})))
		mustInsert(t, s, tenant, rec(t, voiding(first.ID)), rec(t, stmt(other, "liked", stmtRef(first.ID))))
		keys = []statements.DocumentKey{
			{Kind: statements.KindState, ActivityID: activityID("a"), Agent: agentKey(t, l), ID: "s"},
			{Kind: statements.KindAgentProfile, Agent: agentKey(t, l), ID: "p"},
			{Kind: statements.KindActivityProfile, ActivityID: activityID("a"), ID: "p"},
		}
		for _, k := range keys {
			mustPutDoc(t, s, tenant, docOf(k, `{"t":"`+tenant+`"}`, "application/json", now))
		}
		hashes = []string{mustPutAttachment(t, s, tenant, []byte("shared content")), mustPutAttachment(t, s, tenant, []byte("only "+tenant))}
		acts = []string{activityID("a")}
		mustMerge(t, s, tenant, activityID("a"), obj{"name": obj{"en": tenant}}, true)
		roster := &statements.Roster{Synced: now, Orgs: []statements.RosterOrg{{SourcedID: "s1", Name: "School", Type: "school"}}}
		if err := s.ReplaceRoster(ctx, tenant, roster); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRetention(ctx, tenant, 30); err != nil {
			t.Fatal(err)
		}
		mustErase(t, s, tenant, agent("someone"))
		row := []statements.ReportCount{{Day: "2026-12-01", Kind: statements.ReportAccepted, Count: 1, Example: first.ID}}
		if err := s.AddReport(ctx, tenant, tenant+"-key", row); err != nil {
			t.Fatal(err)
		}
	}
	hashes = append(hashes, sha256Hex([]byte("only "+tenantA)))
	before := tenantView(t, s, tenantB, keys, hashes, acts)

	for steps := 0; ; steps++ {
		done, err := s.DeleteTenant(ctx, tenantA)
		if err != nil {
			t.Fatalf("DeleteTenant: %v", err)
		}
		if done {
			break
		}
		if steps > 10 {
			t.Fatal("DeleteTenant does not end")
		}
	}
	if after := tenantView(t, s, tenantB, keys, hashes, acts); !bytes.Equal(after, before) {
		t.Errorf("the other tenant changed:\nbefore %s\nafter  %s", before, after)
	}
	gone := tenantView(t, s, tenantA, keys, hashes, acts)
	for _, line := range bytes.Split(bytes.TrimSpace(gone), []byte("\n")) {
		kind, _, _ := bytes.Cut(line, []byte(" "))
		switch string(kind) {
		case "document", "attachment", "activity", "tenant", "credential":
			if !bytes.Contains(line, []byte(statements.ENotFound)) {
				t.Errorf("the deleted tenant still answers: %s", line)
			}
		case "roster":
		default:
			t.Errorf("the deleted tenant still answers: %s", line)
		}
	}
	if st, _ := s.RosterStatus(ctx, tenantA); st.Orgs != 0 {
		t.Errorf("the deleted tenant's roster: %+v", st)
	}
	if r, err := s.Report(ctx, tenantA, tenantA+"-key", ""); err != nil || len(r) != 0 {
		t.Errorf("the deleted tenant's credential report: %+v, %v", r, err)
	}
	if r, err := s.Report(ctx, tenantB, tenantB+"-key", ""); err != nil || len(r) != 1 {
		t.Errorf("the other tenant's credential report: %+v, %v; want its one row", r, err)
	}
	if _, err := s.ErasureReceipt(ctx, tenantA, "x"); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("ErasureReceipt: %v", err)
	}
	ts, _ := s.Tenants(ctx)
	if slices.ContainsFunc(ts, func(x statements.Tenant) bool { return x.ID == tenantA }) {
		t.Errorf("Tenants still lists %s", tenantA)
	}
	// The id can be taken again, afresh.
	if err := s.CreateTenant(ctx, statements.Tenant{ID: tenantA, Name: "again", Created: now, IdentityValues: []string{"oid-" + tenantA}}); err != nil {
		t.Errorf("CreateTenant after the deletion: %v", err)
	}
}
