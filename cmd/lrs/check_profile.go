package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation/profile"
	"github.com/digione/lrs/validation/profile/digione"
)

// loadProfile reads and parses an xAPI Profile file.
func loadProfile(path string) (*profile.Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return profile.Parse(data)
}

// homePageRules gives each tenant the DigiOne profile's identity home page
// rule: the actor's account.homePage is the tenant's identity home page,
// from its OneRoster configuration, else MPASSid's. A tenant's home page
// is read again after homePageTTL.
type homePageRules struct {
	admin *oneroster.Admin

	mu      sync.Mutex
	tenants map[string]homePageEntry
	byPage  map[string]*profile.ExtraRule // by home page
}

type homePageEntry struct {
	homePage string
	read     time.Time
}

const homePageTTL = 30 * time.Second

func newHomePageRules(admin *oneroster.Admin) *homePageRules {
	return &homePageRules{admin: admin, tenants: map[string]homePageEntry{}, byPage: map[string]*profile.ExtraRule{}}
}

// rules is lrs.Config.ProfileRules.
func (h *homePageRules) rules(ctx context.Context, tenant string) ([]*profile.ExtraRule, error) {
	now := time.Now()
	h.mu.Lock()
	e, ok := h.tenants[tenant]
	h.mu.Unlock()
	if !ok || now.Sub(e.read) > homePageTTL {
		hp := oneroster.DefaultIdentityHomePage
		if h.admin != nil {
			cfg, err := h.admin.Config(ctx, tenant)
			switch {
			case err == nil && cfg.IdentityHomePage != "":
				hp = cfg.IdentityHomePage
			case err != nil && statements.ErrorCode(err) != statements.ENotFound:
				return nil, err
			}
		}
		e = homePageEntry{homePage: strings.TrimRight(hp, "/"), read: now}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.tenants) > 10000 {
		clear(h.tenants)
	}
	h.tenants[tenant] = e
	r := h.byPage[e.homePage]
	if r == nil {
		var err error
		if r, err = digione.HomePageRule(e.homePage); err != nil {
			return nil, err
		}
		if len(h.byPage) > 1000 {
			clear(h.byPage)
		}
		h.byPage[e.homePage] = r
	}
	return []*profile.ExtraRule{r}, nil
}
