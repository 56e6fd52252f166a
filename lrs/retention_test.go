package lrs_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

func TestAdminAPI_Retention(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	if b := mustCall(t, srv, "GET", "/admin/tenants/espoo/retention", bearer, "", http.StatusOK); string(b) != `{"statementsDays":0}` {
		t.Errorf("retention before it is set: %s", b)
	}
	mustCall(t, srv, "PUT", "/admin/tenants/espoo/retention", bearer, `{"statementsDays":1095}`, http.StatusOK)
	if b := mustCall(t, srv, "GET", "/admin/tenants/espoo/retention", bearer, "", http.StatusOK); string(b) != `{"statementsDays":1095}` {
		t.Errorf("retention: %s", b)
	}
	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/admin/tenants/espoo/retention", `{}`, http.StatusBadRequest, "statementsDays"},
		{"/admin/tenants/espoo/retention", `{"statementsDays":-1}`, http.StatusBadRequest, "statementsDays"},
		{"/admin/tenants/espoo/retention", `{"days":3}`, http.StatusBadRequest, "days"},
		{"/admin/tenants/nowhere/retention", `{"statementsDays":3}`, http.StatusNotFound, "nowhere"},
	} {
		status, _, b := call(t, srv, "PUT", c.path, bearer, c.body)
		if status != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("PUT %s %s: %d %s; want %d naming %s", c.path, c.body, status, b, c.status, c.want)
		}
	}
}

// TestRetentionJob: a run erases exactly the statements older than their
// tenant's retention, over several batches, and counts them.
func TestRetentionJob(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	insert := func(tenant string, n int) []*statements.Record {
		var rs []*statements.Record
		for i := range n {
			rs = append(rs, storetest.Record(t, fmt.Appendf(nil, `{"actor":{"mbox":"mailto:a%d@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`, i)))
		}
		if err := store.InsertStatements(t.Context(), tenant, rs); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	insert("espoo", statements.ErasureBatch+5)
	insert("vantaa", 3)
	insert("turku", 2)
	for tenant, days := range map[string]int{"espoo": 30, "turku": 400} {
		if err := store.SetRetention(t.Context(), tenant, days); err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range []time.Time{time.Now().Add(-time.Minute), time.Now().Add(40 * 24 * time.Hour)} {
		if err := store.AppendAudit(t.Context(), statements.AuditEntry{Time: at, Actor: "test", Action: "x", Tenant: "espoo"}); err != nil {
			t.Fatal(err)
		}
	}
	// A month and a day later.
	j := &lrs.RetentionJob{Store: store, Now: func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }, Pause: time.Millisecond}
	n, err := j.RunOnce(t.Context())
	if err != nil || n != statements.ErasureBatch+5 {
		t.Fatalf("RunOnce: %d, %v; want %d", n, err, statements.ErasureBatch+5)
	}
	for tenant, want := range map[string]int{"espoo": 0, "vantaa": 3, "turku": 2} {
		p, err := store.QueryStatements(t.Context(), tenant, statements.Filter{})
		if err != nil || len(p.Records) != want {
			t.Errorf("%s: %d statements (%v), want %d", tenant, len(p.Records), err, want)
		}
	}
	var b strings.Builder
	if err := j.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf(`lrs_retention_erased_statements_total{tenant="espoo"} %d`, statements.ErasureBatch+5),
		"lrs_retention_runs_total 1", "lrs_retention_failures_total 0", "lrs_retention_erased_audit_entries_total 1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
	if n, err := j.RunOnce(t.Context()); err != nil || n != 0 {
		t.Errorf("a second run: %d, %v", n, err)
	}
}
