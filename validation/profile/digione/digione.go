package digione

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/digione/lrs/validation/profile"
)

// ID is the DigiOne profile's id.
const ID = "https://digione.fi/xapi/profiles/digione"

// Context extensions that name the OneRoster line item and class a result
// belongs to; forwarders/oneroster reads the same keys.
const (
	ExtLineItem = "https://digione.fi/xapi/extensions/oneroster/lineitem"
	ExtClass    = "https://digione.fi/xapi/extensions/oneroster/class"
)

// HomePageRuleName names the tenant home page rule in violations.
const HomePageRuleName = ID + "#tenant-home-page"

// Document is the profile document as published.
//
//go:embed digione.jsonld
var Document []byte

var load = sync.OnceValues(func() (*profile.Profile, error) { return profile.Parse(Document) })

// Profile returns the DigiOne profile, parsed once. The embedded document
// is checked by the package's tests, so it does not fail at run time.
func Profile() *profile.Profile {
	p, err := load()
	if err != nil {
		panic("digione: embedded profile: " + err.Error())
	}
	return p
}

// Template returns the id of the DigiOne template of a name: launched,
// progressed, completed, passed, failed, scored or satisfied.
func Template(name string) string { return ID + "/templates/" + name }

// HomePageRule returns the rule that the actor's account.homePage is the
// tenant's identity home page homePage (with or without a trailing
// slash, as the gradebook mapping compares them).
func HomePageRule(homePage string) (*profile.ExtraRule, error) {
	hp := strings.TrimRight(homePage, "/")
	return profile.NewExtraRule(HomePageRuleName, profile.Rule{
		Location: "$.actor.account.homePage",
		Presence: profile.Included,
		Any:      []any{hp, hp + "/"},
	})
}
