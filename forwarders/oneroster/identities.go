package oneroster

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/digione/lrs/statements"
)

// Identities answers, by the identity rule of the write-back, which agents
// are a roster user and which activities have a line item in a class: the
// people API reads a learner's statements and a class's progress with it.
// The rule: a user is the account of the tenant's identity home page named
// by their sourcedId, and each account the tenant's student table maps to
// them.
type Identities struct {
	Admin *Admin
	// TTL is how long a tenant's tables are kept before they are read
	// again; default 1 minute.
	TTL time.Duration

	mu      sync.Mutex
	tenants map[string]*tenantTables
}

// maxTableRows bounds the rows of a table Identities holds per tenant.
const maxTableRows = 1 << 20

type tenantTables struct {
	read      time.Time
	homePage  string
	mapOnly   bool                // RequireStudentMapping: only mapped accounts are users
	accounts  map[string][]string // by sourcedId: the accounts mapped to it
	lineItems map[string][]string // by class: the activities with a line item in it
}

// Agents returns the agent keys (statements.Actor.Key) of the roster user
// sourcedID of tenant.
func (id *Identities) Agents(ctx context.Context, tenant, sourcedID string) ([]string, error) {
	t, err := id.tables(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var names []string
	if !t.mapOnly {
		names = append(names, sourcedID)
	}
	for _, acct := range t.accounts[sourcedID] {
		if t.mapOnly || acct != sourcedID {
			names = append(names, acct)
		}
	}
	// The write-back takes the home page with or without a trailing
	// slash; so does the reading.
	keys := make([]string, 0, 2*len(names))
	for _, n := range names {
		keys = append(keys, agentKey(t.homePage, n), agentKey(t.homePage+"/", n))
	}
	return keys, nil
}

// LineItems returns the activities whose results go to a line item of
// class, by the tenant's activity table.
func (id *Identities) LineItems(ctx context.Context, tenant, class string) ([]string, error) {
	t, err := id.tables(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return t.lineItems[class], nil
}

// Forget drops what is kept of tenant's tables.
func (id *Identities) Forget(tenant string) {
	id.mu.Lock()
	delete(id.tenants, tenant)
	id.mu.Unlock()
}

func agentKey(homePage, name string) string {
	a := statements.Actor{Account: &statements.Account{HomePage: homePage, Name: name}}
	return a.Key()
}

func (id *Identities) tables(ctx context.Context, tenant string) (*tenantTables, error) {
	ttl := id.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	now := id.Admin.now()
	id.mu.Lock()
	t := id.tenants[tenant]
	id.mu.Unlock()
	if t != nil && now.Sub(t.read) < ttl {
		return t, nil
	}
	t = &tenantTables{read: now, homePage: DefaultIdentityHomePage, accounts: map[string][]string{}, lineItems: map[string][]string{}}
	cfg, err := id.Admin.Config(ctx, tenant)
	switch {
	case err == nil:
		t.mapOnly = cfg.RequireStudentMapping
		if cfg.IdentityHomePage != "" {
			t.homePage = strings.TrimRight(cfg.IdentityHomePage, "/")
		}
	case err != nil && statements.ErrorCode(err) != statements.ENotFound:
		return nil, err
	}
	rows := 0
	err = id.each(ctx, tenant, prefixStudent, func(it statements.SinkItem) {
		acct, user := strings.TrimPrefix(it.Key, prefixStudent), string(it.Value)
		t.accounts[user] = append(t.accounts[user], acct)
		rows++
	}, &rows)
	if err != nil {
		return nil, err
	}
	err = id.each(ctx, tenant, prefixActivity, func(it statements.SinkItem) {
		var tg Target
		if json.Unmarshal(it.Value, &tg) == nil && tg.Class != "" {
			t.lineItems[tg.Class] = append(t.lineItems[tg.Class], strings.TrimPrefix(it.Key, prefixActivity))
		}
		rows++
	}, &rows)
	if err != nil {
		return nil, err
	}
	id.mu.Lock()
	if id.tenants == nil {
		id.tenants = map[string]*tenantTables{}
	}
	id.tenants[tenant] = t
	id.mu.Unlock()
	return t, nil
}

// each calls f for every item of tenant's table prefix, while *rows stays
// under maxTableRows.
func (id *Identities) each(ctx context.Context, tenant, prefix string, f func(statements.SinkItem), rows *int) error {
	after := ""
	for *rows < maxTableRows {
		items, err := id.Admin.list(ctx, tenant, prefix, "", after, statements.MaxLimit)
		if err != nil {
			return err
		}
		for _, it := range items {
			f(it)
		}
		if len(items) < statements.MaxLimit {
			return nil
		}
		after = strings.TrimPrefix(items[len(items)-1].Key, prefix)
	}
	return nil
}
