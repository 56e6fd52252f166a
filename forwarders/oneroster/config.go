package oneroster

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultStalledAfterDays is TenantConfig.StalledAfterDays when it is 0.
const DefaultStalledAfterDays = 7

// StalledAfter returns how long without a statement makes a student
// stalled.
func (c TenantConfig) StalledAfter() time.Duration {
	days := c.StalledAfterDays
	if days <= 0 {
		days = DefaultStalledAfterDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// TenantConfig connects one tenant to its OneRoster provider. It is kept
// in the store (set through the admin API or the CLI) or given to the
// Sink directly (Config.Static, from the environment).
type TenantConfig struct {
	// BaseURL is the gradebook service, up to and including
	// /ims/oneroster/gradebook/v1p2.
	BaseURL string `json:"baseUrl"`
	// TokenURL is the OAuth 2 token endpoint; ClientID and ClientSecret
	// are the client credentials sent to it.
	TokenURL     string `json:"tokenUrl"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// IdentityHomePage is the account home page whose names identify
	// students; default DefaultIdentityHomePage (MPASSid).
	IdentityHomePage string `json:"identityHomePage,omitempty"`
	// Verbs are the verb IRIs that make results; default DefaultVerbs.
	Verbs []string `json:"verbs,omitempty"`
	// RequireStudentMapping makes a student absent from the tenant's
	// student table unmappable, instead of taking the account name as the
	// OneRoster user sourcedId.
	RequireStudentMapping bool `json:"requireStudentMapping,omitempty"`
	// Disabled stops new results of the tenant; statements stored while
	// disabled are skipped for good.
	Disabled bool `json:"disabled,omitempty"`
	// RetractOnErasure makes the erasure of a learner retract the results
	// written from their erased statements (status "tobedeleted", as a
	// voiding does). Default false: the gradebook keeps them, because a
	// grade is the school's record, which the school keeps or erases
	// under its own rules, not the LRS's copy of the learner's activity.
	RetractOnErasure bool `json:"retractOnErasure,omitempty"`
	// RosterURL is the rostering service, up to and including
	// /ims/oneroster/rostering/v1p2, read with the same client; "" means
	// the tenant's roster is not synced.
	RosterURL string `json:"rosterUrl,omitempty"`
	// RosterScope is the scope asked for to read the roster:
	// ScopeRosterCore (the default) or ScopeRoster.
	RosterScope string `json:"rosterScope,omitempty"`
	// StalledAfterDays is how many days without a statement make a
	// student "stalled" in the people API's class overview; 0 =
	// DefaultStalledAfterDays.
	StalledAfterDays int `json:"stalledAfterDays,omitempty"`
}

// Check returns what is wrong with c, naming the JSON field and the rule;
// nil when c is complete.
func (c TenantConfig) Check() error {
	for _, f := range []struct{ name, v string }{
		{"baseUrl", c.BaseURL}, {"tokenUrl", c.TokenURL},
		{"clientId", c.ClientID}, {"clientSecret", c.ClientSecret},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("%s: required", f.name)
		}
	}
	for _, f := range []struct{ name, v string }{{"baseUrl", c.BaseURL}, {"tokenUrl", c.TokenURL}} {
		u, err := url.Parse(f.v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s: must be an absolute http(s) URL without query or fragment, got %q", f.name, f.v)
		}
	}
	if !strings.HasSuffix(strings.TrimRight(c.BaseURL, "/"), "/ims/oneroster/gradebook/v1p2") {
		return fmt.Errorf("baseUrl: must end with /ims/oneroster/gradebook/v1p2, got %q", c.BaseURL)
	}
	if c.RosterURL != "" {
		u, err := url.Parse(c.RosterURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("rosterUrl: must be an absolute http(s) URL without query or fragment, got %q", c.RosterURL)
		}
		if !strings.HasSuffix(strings.TrimRight(c.RosterURL, "/"), "/ims/oneroster/rostering/v1p2") {
			return fmt.Errorf("rosterUrl: must end with /ims/oneroster/rostering/v1p2, got %q", c.RosterURL)
		}
	}
	if c.StalledAfterDays < 0 || c.StalledAfterDays > 365 {
		return fmt.Errorf("stalledAfterDays: must be between 0 (the default, %d) and 365, got %d", DefaultStalledAfterDays, c.StalledAfterDays)
	}
	switch c.RosterScope {
	case "", ScopeRosterCore, ScopeRoster:
	default:
		return fmt.Errorf("rosterScope: must be %s or %s, got %q", ScopeRosterCore, ScopeRoster, c.RosterScope)
	}
	if c.IdentityHomePage != "" {
		if u, err := url.Parse(c.IdentityHomePage); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("identityHomePage: must be an absolute URL, got %q", c.IdentityHomePage)
		}
	}
	for i, v := range c.Verbs {
		if u, err := url.Parse(v); err != nil || u.Scheme == "" {
			return fmt.Errorf("verbs[%d]: must be an IRI, got %q", i, v)
		}
	}
	return nil
}

// mapper returns the Mapper of c.
func (c TenantConfig) mapper() Mapper {
	m := NewMapper(c.BaseURL, c.IdentityHomePage, c.Verbs)
	m.RequireStudent = c.RequireStudentMapping
	return m
}
