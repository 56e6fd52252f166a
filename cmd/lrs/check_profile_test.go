package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/validation/profile"
	"github.com/digione/lrs/validation/profile/digione"
)

// TestParseServeConfig_XAPIProfile: --xapi-profile (LRS_XAPI_PROFILE)
// loads another profile; a broken one stops the start, naming the flag and
// the problem.
func TestParseServeConfig_XAPIProfile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonld")
	if err := os.WriteFile(good, digione.Document, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseServeConfig([]string{"--xapi-profile", good}, env(nil), io.Discard)
	if err != nil || cfg.xapiProfile == nil || cfg.xapiProfile.ID != digione.ID {
		t.Fatalf("--xapi-profile good: %v, %+v", err, cfg.xapiProfile)
	}
	bad := filepath.Join(dir, "bad.jsonld")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(digione.Document), `"$.timestamp"`, `"$..timestamp"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = parseServeConfig(nil, env(map[string]string{"LRS_XAPI_PROFILE": bad}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--xapi-profile") || !strings.Contains(err.Error(), "recursive descent") {
		t.Fatalf("LRS_XAPI_PROFILE broken: %v, want an error naming the flag and the rule", err)
	}
	if cfg, err := parseServeConfig(nil, env(nil), io.Discard); err != nil || cfg.xapiProfile != nil {
		t.Fatalf("no --xapi-profile: %v, %+v; want the default (nil)", err, cfg.xapiProfile)
	}
}

// TestHomePageRules: a tenant's rule is its OneRoster identity home page,
// else MPASSid's.
func TestHomePageRules(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := newHomePageRules(&oneroster.Admin{Store: store, Static: map[string]oneroster.TenantConfig{
		"espoo": {IdentityHomePage: "https://idp.espoo.example/"}}})
	p := digione.Profile()
	stmt := func(homePage string) map[string]any {
		return map[string]any{
			"actor":     map[string]any{"account": map[string]any{"homePage": homePage, "name": "x"}},
			"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/launched"},
			"timestamp": "2026-12-01T08:00:00Z", "context": map[string]any{"registration": "ec231277-b27b-4c15-8291-d29225b2b8f7"},
		}
	}
	for _, tt := range []struct {
		tenant, homePage string
		want             profile.Outcome
	}{
		{"espoo", "https://idp.espoo.example", profile.Matched},
		{"espoo", oneroster.DefaultIdentityHomePage, profile.Invalid},
		{"vantaa", oneroster.DefaultIdentityHomePage, profile.Matched},
		{"vantaa", "https://idp.espoo.example", profile.Invalid},
	} {
		rules, err := h.rules(t.Context(), tt.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Check(stmt(tt.homePage), &profile.Options{Extra: rules}); got.Outcome != tt.want {
			t.Errorf("%s, %s: %v %v, want %v", tt.tenant, tt.homePage, got.Outcome, got.Violations, tt.want)
		}
	}
}

// TestDigiOneProfile_MatchesGradebook: the DigiOne profile asks for the
// line item and class extensions that the OneRoster write-back reads, on
// the templates of exactly the verbs it writes results for.
func TestDigiOneProfile_MatchesGradebook(t *testing.T) {
	if digione.ExtLineItem != oneroster.ExtLineItem || digione.ExtClass != oneroster.ExtClass {
		t.Fatalf("extensions %s, %s; the write-back reads %s, %s", digione.ExtLineItem, digione.ExtClass, oneroster.ExtLineItem, oneroster.ExtClass)
	}
	gradebook := map[string]bool{}
	for _, v := range oneroster.DefaultVerbs {
		gradebook[v] = true
	}
	p := digione.Profile()
	for _, tm := range p.Templates {
		wants := map[string]bool{}
		for _, r := range tm.Rules {
			if r.Presence == profile.Included {
				wants[r.Location] = true
			}
		}
		for _, ext := range []string{oneroster.ExtLineItem, oneroster.ExtClass} {
			loc := "$.context.extensions['" + ext + "']"
			if wants[loc] != gradebook[tm.Verb] {
				t.Errorf("template %s (verb %s): includes %s: %v, gradebook verb: %v", tm.ID, tm.Verb, ext, wants[loc], gradebook[tm.Verb])
			}
		}
		delete(gradebook, tm.Verb)
	}
	for v := range gradebook {
		t.Errorf("the write-back maps verb %s, which has no template in the DigiOne profile", v)
	}
}
