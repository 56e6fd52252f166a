package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestCLI_CredentialProfileMode: `lrs credential update KEY --profile-mode`
// sets a credential's profile mode, and bad values are refused naming the
// field.
func TestCLI_CredentialProfileMode(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	var c struct{ Key, ProfileMode string }
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "create", "--tenant", "espoo", "--scopes", "all", "--profile-mode", "flag", "--json")), &c)
	if c.ProfileMode != "flag" {
		t.Errorf("credential create --profile-mode flag: %q", c.ProfileMode)
	}
	out := mustCLI(t, dir, nil, "credential", "update", c.Key, "--profile-mode", "strict")
	if !strings.Contains(out, "profile mode strict") {
		t.Errorf("credential update --profile-mode strict: %s", out)
	}
	if _, err := cli(t, dir, nil, "credential", "update", c.Key, "--profile-mode", "loud"); err == nil || !strings.Contains(err.Error(), "profileMode") {
		t.Errorf("--profile-mode loud: %v, want an error naming profileMode", err)
	}
	if _, err := cli(t, dir, nil, "credential", "update", c.Key); err == nil || !strings.Contains(err.Error(), "--profile-mode") {
		t.Errorf("update without flags: %v, want an error naming --profile-mode", err)
	}
	withStore(t, dir, func(s *sqlitestore.Store) {
		got, err := s.Credential(t.Context(), c.Key)
		if err != nil || got.ProfileMode != statements.ProfileStrict {
			t.Errorf("stored credential: %+v, %v; want profile mode strict", got, err)
		}
	})
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "update", c.Key, "--profile-mode", "off", "--json")), &c)
	if c.ProfileMode != "off" {
		t.Errorf("credential update --profile-mode off: %q", c.ProfileMode)
	}
}

// TestCLI_CredentialReport: `lrs credential report` prints the stored
// report of a credential.
func TestCLI_CredentialReport(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	var c struct{ Key string }
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "create", "--tenant", "espoo", "--scopes", "all", "--profile-mode", "flag", "--json")), &c)
	withStore(t, dir, func(s *sqlitestore.Store) {
		if err := s.AddReport(t.Context(), "espoo", c.Key, []statements.ReportCount{
			{Day: "2026-12-01", Kind: statements.ReportAccepted, Count: 9},
			{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 5},
			{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: "https://digione.fi/xapi/profiles/digione/templates/scored", Rule: 8, Count: 2, Example: "ex-1"},
		}); err != nil {
			t.Fatal(err)
		}
	})
	out := mustCLI(t, dir, nil, "credential", "report", c.Key, "--tenant", "espoo", "--since", "2026-12-02")
	if !strings.Contains(out, "profile mode flag") || !strings.Contains(out, "https://digione.fi/xapi/profiles/digione/templates/scored  8     2      ex-1") ||
		strings.Contains(out, "2026-12-01") {
		t.Errorf("credential report:\n%s", out)
	}
	var rep struct {
		Days []struct {
			Day      string
			Accepted int64
		}
	}
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "report", c.Key, "--tenant", "espoo", "--json")), &rep)
	if len(rep.Days) != 2 || rep.Days[0].Accepted != 9 || rep.Days[1].Accepted != 5 {
		t.Errorf("credential report --json: %+v", rep)
	}
	if _, err := cli(t, dir, nil, "credential", "report", c.Key, "--tenant", "vantaa"); err == nil {
		t.Error("report of another tenant's credential: no error")
	}
	if _, err := cli(t, dir, nil, "credential", "report", c.Key, "--tenant", "espoo", "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), "since") {
		t.Errorf("--since yesterday: %v, want an error naming since", err)
	}
}
