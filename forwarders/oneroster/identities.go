package oneroster

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/digione/lrs/statements"
)

// Identities answers, by the identity rule of the write-back, which agents
// are a roster user and which activities have a line item in a class: the
// people API reads a learner's statements and a class's progress with it.
// The rule (Syncer.RosterUserOf read backwards): an account of the
// tenant's identity home page is the user when the student table maps its
// name to one of the user's identities (their sourcedId and userIds), or,
// when the table does not list the name and the tenant does not require
// it to, when the name is one of those identities.
type Identities struct {
	Admin *Admin
	// Roster gives a user's identities beyond the sourcedId; nil: the
	// sourcedId only.
	Roster statements.RosterStore
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
	accounts  map[string][]string // by identity: the accounts the student table maps to it
	mapped    map[string]bool     // the accounts the student table lists
	lineItems map[string][]string // by class: the activities with a line item in it
}

// Agents returns the agent keys (statements.Actor.Key) of the roster user
// sourcedID of tenant.
func (id *Identities) Agents(ctx context.Context, tenant, sourcedID string) ([]string, error) {
	t, err := id.tables(ctx, tenant)
	if err != nil {
		return nil, err
	}
	identities := []string{sourcedID}
	if id.Roster != nil {
		u, err := id.Roster.RosterUser(ctx, tenant, sourcedID)
		switch {
		case err == nil:
			for _, v := range u.Identities {
				if !slices.Contains(identities, v) {
					identities = append(identities, v)
				}
			}
		case statements.ErrorCode(err) != statements.ENotFound:
			return nil, err
		}
	}
	var names []string
	for _, v := range identities {
		// A name the table maps elsewhere is someone else's account.
		if _, mapped := t.mapped[v]; !t.mapOnly && !mapped && !slices.Contains(names, v) {
			names = append(names, v)
		}
		for _, acct := range t.accounts[v] {
			if !slices.Contains(names, acct) {
				names = append(names, acct)
			}
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
	t = &tenantTables{read: now, accounts: map[string][]string{}, mapped: map[string]bool{}, lineItems: map[string][]string{}}
	var err error
	if t.homePage, t.mapOnly, err = id.Admin.identityRule(ctx, tenant); err != nil {
		return nil, err
	}
	rows := 0
	err = id.each(ctx, tenant, prefixStudent, func(it statements.SinkItem) {
		acct, user := strings.TrimPrefix(it.Key, prefixStudent), string(it.Value)
		t.accounts[user] = append(t.accounts[user], acct)
		t.mapped[acct] = true
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
