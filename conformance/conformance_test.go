package conformance

import (
	"errors"
	"testing"
)

// TestConformance runs every check, for both xAPI versions, against the LRS
// that startLRS provides; each check is a subtest named after its requirement.
func TestConformance(t *testing.T) {
	runChecks(t, startLRS(t))
}

// runChecks runs the preflight and then every check, for both xAPI
// versions, against the LRS base reaches. A check the credential's scopes
// cannot run is skipped.
func runChecks(t *testing.T, base Config) {
	caps, err := Preflight(t.Context(), base)
	if err != nil {
		t.Fatalf("preflight: %v", err)
	}
	for _, version := range Versions() {
		t.Run(version, func(t *testing.T) {
			cfg := base
			cfg.Version = version
			c, err := newClient(cfg, caps, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, chk := range Checks() {
				if !chk.Requirement.AppliesTo(version) {
					continue
				}
				t.Run(chk.Requirement.ID, func(t *testing.T) {
					if missing := caps.Missing(chk.Needs); len(missing) > 0 {
						t.Skip(needsReason(missing))
					}
					err := runCheck(t.Context(), c, chk)
					if se, ok := errors.AsType[*SkipError](err); ok {
						t.Skip(se.Reason)
					}
					if err != nil {
						t.Errorf("%s\n%v", chk.Requirement.Text, err)
					}
				})
			}
		})
	}
}
