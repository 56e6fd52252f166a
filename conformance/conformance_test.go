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

// runChecks runs every check, for both xAPI versions, against the LRS base
// reaches.
func runChecks(t *testing.T, base Config) {
	for _, version := range Versions() {
		t.Run(version, func(t *testing.T) {
			cfg := base
			cfg.Version = version
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, chk := range Checks() {
				if !chk.Requirement.AppliesTo(version) {
					continue
				}
				t.Run(chk.Requirement.ID, func(t *testing.T) {
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
