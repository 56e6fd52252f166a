package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

func TestCLI_Erase(t *testing.T) {
	dir := t.TempDir()
	const learner = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	key, err := statements.AgentKey([]byte(learner))
	if err != nil {
		t.Fatal(err)
	}
	own := storetest.Record(t, []byte(`{"actor":`+learner+`,"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
		"object":{"id":"https://oppimateriaali.example.fi/t/1"}}`))
	taught := storetest.Record(t, []byte(`{"actor":{"mbox":"mailto:other@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
		"object":{"id":"https://oppimateriaali.example.fi/t/1"},"context":{"instructor":`+learner+`}}`))
	withStore(t, dir, func(s *sqlitestore.Store) {
		if err := s.InsertStatements(t.Context(), "espoo", []*statements.Record{own, taught}); err != nil {
			t.Fatal(err)
		}
		content := []byte(`{"theme":"dark"}`)
		doc := &statements.Document{Key: statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: key, ID: "settings"},
			Content: content, ContentType: "application/json", ETag: statements.DocumentETag(content), Updated: time.Now()}
		if err := s.PutDocument(t.Context(), "espoo", doc, statements.Condition{}); err != nil {
			t.Fatal(err)
		}
	})

	out := mustCLI(t, dir, nil, "erase", "--tenant", "espoo", "--agent", learner)
	if !strings.Contains(out, "1 statements deleted, 1 pseudonymised, 1 documents") || strings.Contains(out, "learner-1") {
		t.Errorf("lrs erase printed %q", out)
	}
	var rc statements.ErasureReceipt
	if err := json.Unmarshal([]byte(mustCLI(t, dir, nil, "erase", "--tenant", "espoo", "--agent", learner, "--json")), &rc); err != nil {
		t.Fatal(err)
	}
	if rc.Runs != 2 || rc.RequestedBy != "cli" || rc.StatementsDeleted != 1 || rc.Status != statements.ErasureCompleted {
		t.Errorf("receipt of the second run: %+v", rc)
	}
	withStore(t, dir, func(s *sqlitestore.Store) {
		if _, err := s.Statement(t.Context(), "espoo", own.ID, false); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("the learner's statement: %v", err)
		}
		r, err := s.Statement(t.Context(), "espoo", taught.ID, false)
		if err != nil || strings.Contains(string(r.Statement), "learner-1") {
			t.Errorf("the statement the learner taught: %v", err)
		}
	})
	for _, args := range [][]string{
		{"erase", "--tenant", "nowhere", "--agent", learner},
		{"erase", "--tenant", "espoo", "--agent", `{"name":"x"}`},
		{"erase", "--tenant", "espoo"},
		{"erase", "--agent", learner},
	} {
		if _, err := cli(t, dir, nil, args...); err == nil {
			t.Errorf("lrs %s: no error", strings.Join(args, " "))
		}
	}
}

func TestCLI_Retention(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	if out := mustCLI(t, dir, nil, "retention", "--tenant", "espoo"); !strings.Contains(out, "for ever") {
		t.Errorf("lrs retention before it is set: %q", out)
	}
	if out := mustCLI(t, dir, nil, "retention", "--tenant", "espoo", "--days", "1095"); !strings.Contains(out, "1095 days") {
		t.Errorf("lrs retention --days 1095: %q", out)
	}
	if out := mustCLI(t, dir, nil, "retention", "--tenant", "espoo", "--json"); !strings.Contains(out, `"statementsDays": 1095`) {
		t.Errorf("lrs retention --json: %q", out)
	}
	for _, args := range [][]string{
		{"retention", "--tenant", "nowhere", "--days", "3"},
		{"retention", "--days", "3"},
	} {
		if _, err := cli(t, dir, nil, args...); err == nil {
			t.Errorf("lrs %s: no error", strings.Join(args, " "))
		}
	}
}

func TestParseServeConfig_RetentionInterval(t *testing.T) {
	cfg, err := parseServeConfig(nil, env(map[string]string{"LRS_RETENTION_INTERVAL": "10m"}), io.Discard)
	if err != nil || cfg.RetentionInterval != 10*time.Minute {
		t.Errorf("LRS_RETENTION_INTERVAL=10m: %v, %v", cfg.RetentionInterval, err)
	}
	for _, bad := range []string{"soon", "10ms", "-1h"} {
		if _, err := parseServeConfig([]string{"--retention-interval", bad}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--retention-interval") {
			t.Errorf("--retention-interval %s: %v", bad, err)
		}
	}
}

func TestCLI_TenantDelete(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	mustCLI(t, dir, nil, "tenant", "create", "vantaa")
	mustCLI(t, dir, nil, "credential", "create", "--tenant", "espoo", "--scopes", "all")
	withStore(t, dir, func(s *sqlitestore.Store) {
		for _, tenant := range []string{"espoo", "vantaa"} {
			r := storetest.Record(t, []byte(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`))
			if err := s.InsertStatements(t.Context(), tenant, []*statements.Record{r}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if out := mustCLI(t, dir, nil, "tenant", "delete", "espoo"); !strings.Contains(out, "deleted tenant espoo") {
		t.Errorf("lrs tenant delete: %q", out)
	}
	if out := mustCLI(t, dir, nil, "tenant", "list"); strings.Contains(out, "espoo") || !strings.Contains(out, "vantaa") {
		t.Errorf("lrs tenant list after the deletion: %q", out)
	}
	withStore(t, dir, func(s *sqlitestore.Store) {
		for tenant, want := range map[string]int{"espoo": 0, "vantaa": 1} {
			p, err := s.QueryStatements(t.Context(), tenant, statements.Filter{})
			if err != nil || len(p.Records) != want {
				t.Errorf("%s: %d statements, %v; want %d", tenant, len(p.Records), err, want)
			}
		}
		if cs, _ := s.Credentials(t.Context(), "espoo"); len(cs) != 0 {
			t.Errorf("espoo's credentials: %d", len(cs))
		}
	})
	if _, err := cli(t, dir, nil, "tenant", "delete", "nowhere"); err == nil {
		t.Error("lrs tenant delete nowhere: no error")
	}
}

func TestCLI_OneRosterRetractOnErasure(t *testing.T) {
	dir := t.TempDir()
	book := onerostertest.New("lrs-client", "or-secret-7c1")
	defer book.Close()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	vars := map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1"}
	mustCLI(t, dir, vars, "oneroster", "set", "--tenant", "espoo", "--url", book.BaseURL(), "--token-url", book.TokenURL(),
		"--client-id", "lrs-client", "--retract-on-erasure")
	if out := mustCLI(t, dir, nil, "oneroster", "show", "--tenant", "espoo", "--json"); !strings.Contains(out, `"retractOnErasure": true`) {
		t.Errorf("oneroster show after --retract-on-erasure: %s", out)
	}
	mustCLI(t, dir, vars, "oneroster", "set", "--tenant", "espoo", "--url", book.BaseURL(), "--token-url", book.TokenURL(), "--client-id", "lrs-client")
	if out := mustCLI(t, dir, nil, "oneroster", "show", "--tenant", "espoo", "--json"); strings.Contains(out, `retractOnErasure`) {
		t.Errorf("oneroster show without --retract-on-erasure: %s", out)
	}
}
