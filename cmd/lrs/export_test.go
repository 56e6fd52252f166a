package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

func TestCLI_Export(t *testing.T) {
	dir := t.TempDir()
	const learner = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	key, err := statements.AgentKey([]byte(learner))
	if err != nil {
		t.Fatal(err)
	}
	rec := storetest.Record(t, []byte(`{"actor":`+learner+`,"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
		"object":{"id":"https://oppimateriaali.example.fi/t/1"}}`))
	withStore(t, dir, func(s *sqlitestore.Store) {
		if err := s.InsertStatements(t.Context(), "espoo", []*statements.Record{rec}); err != nil {
			t.Fatal(err)
		}
		content := []byte(`{"theme":"dark"}`)
		doc := &statements.Document{Key: statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: key, ID: "settings"},
			Content: content, ContentType: "application/json", ETag: statements.DocumentETag(content), Updated: time.Now()}
		if err := s.PutDocument(t.Context(), "espoo", doc, statements.Condition{}); err != nil {
			t.Fatal(err)
		}
	})

	to := filepath.Join(t.TempDir(), "learner.zip")
	out := mustCLI(t, dir, nil, "export", "--tenant", "espoo", "--agent", learner, "--to", to)
	if !strings.Contains(out, to) {
		t.Errorf("lrs export printed %q", out)
	}
	zr, err := zip.OpenReader(to)
	if err != nil {
		t.Fatalf("%s: %v", to, err)
	}
	defer zr.Close()
	files := map[string]string{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(b)
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if want := []string{"documents/000001", "documents/documents.json", "manifest.json", "oneroster-results.json", "statements.json"}; !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	var sts []struct{ ID string }
	if err := json.Unmarshal([]byte(files["statements.json"]), &sts); err != nil || len(sts) != 1 || sts[0].ID != rec.ID {
		t.Errorf("statements.json: %v %s", err, files["statements.json"])
	}
	if got := files["documents/000001"]; got != `{"theme":"dark"}` {
		t.Errorf("document %s", got)
	}
	var m lrs.ExportManifest
	if err := json.Unmarshal([]byte(files["manifest.json"]), &m); err != nil || m.Tenant != "espoo" || !m.Complete ||
		m.Counts != (lrs.ExportCounts{Statements: 1, Documents: 1}) {
		t.Errorf("manifest: %v %s", err, files["manifest.json"])
	}

	if m.OneRosterStudent != "learner-1" {
		t.Errorf("oneRosterStudent %q, want learner-1", m.OneRosterStudent)
	}
	// The identity rule of a tenant configured from the environment: its
	// home page is another, so the learner is no student there.
	vars := map[string]string{"LRS_ONEROSTER_TENANT": "espoo", "LRS_ONEROSTER_URL": "https://or.test/ims/oneroster/gradebook/v1p2",
		"LRS_ONEROSTER_TOKEN_URL": "https://or.test/token", "LRS_ONEROSTER_CLIENT_ID": "c", "LRS_ONEROSTER_CLIENT_SECRET": "s",
		"LRS_ONEROSTER_IDENTITY_HOME_PAGE": "https://idp.test"}
	zipOut := mustCLI(t, dir, vars, "export", "--tenant", "espoo", "--agent", learner)
	zr2, err := zip.NewReader(strings.NewReader(zipOut), int64(len(zipOut)))
	if err != nil {
		t.Fatal(err)
	}
	m = lrs.ExportManifest{}
	if rc, err := zr2.Open("manifest.json"); err != nil || json.NewDecoder(rc).Decode(&m) != nil || m.OneRosterStudent != "" {
		t.Errorf("manifest with the environment's configuration: %v %+v", err, m)
	}

	// To standard output; and errors write no file.
	if out := mustCLI(t, dir, nil, "export", "--tenant", "espoo", "--agent", learner); !strings.HasPrefix(out, "PK") {
		t.Errorf("to stdout: %.20q", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.zip")
	for _, args := range [][]string{
		{"export", "--tenant", "nowhere", "--agent", learner, "--to", bad},
		{"export", "--tenant", "espoo", "--agent", `{"name":"x"}`, "--to", bad},
		{"export", "--tenant", "espoo", "--to", bad},
	} {
		if _, err := cli(t, dir, nil, args...); err == nil {
			t.Errorf("lrs %s: no error", strings.Join(args, " "))
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(bad)); len(ents) != 0 {
		t.Errorf("failed exports left %d files", len(ents))
	}
	out = mustCLI(t, dir, nil, "audit", "list", "--json")
	if !strings.Contains(out, "learner.export") || strings.Contains(out, "learner-1") {
		t.Errorf("audit: %s", out)
	}
}
