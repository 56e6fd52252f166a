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
