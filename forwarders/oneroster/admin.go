package oneroster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/digione/lrs/statements"
)

// Admin is what operators do with a tenant's OneRoster write-back: its
// configuration, its mapping tables, and its results (dead letters among
// them). The admin API and the CLI both use it; it needs only the store.
type Admin struct {
	// Store keeps the items. Required.
	Store statements.SinkStore
	// Static is Config.Static of the running sinks: those tenants'
	// configuration cannot be changed here.
	Static map[string]TenantConfig
	// Name is Config.Name of the sink; default "oneroster".
	Name string
	// Changed, if set, is called after a tenant's configuration or tables
	// change (Sink.Forget), and after a replay (Sink.Notify is then due).
	Changed func(tenant string)
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

func (a *Admin) name() string {
	if a.Name == "" {
		return defaultSinkName
	}
	return a.Name
}

func (a *Admin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a *Admin) changed(tenant string) {
	if a.Changed != nil {
		a.Changed(tenant)
	}
}

// ConfigView is a tenant's configuration as shown: without the secret.
type ConfigView struct {
	TenantConfig
	// ClientSecretSet is true when a secret is configured; the secret
	// itself is never shown.
	ClientSecretSet bool `json:"clientSecretSet"`
	// Source is "store" or "environment".
	Source string `json:"source"`
	// Updated is when the stored configuration was last written.
	Updated *time.Time `json:"updated,omitempty"`
}

// Config returns tenant's configuration; ENotFound when it has none.
func (a *Admin) Config(ctx context.Context, tenant string) (*ConfigView, error) {
	if c, ok := a.Static[tenant]; ok {
		v := &ConfigView{TenantConfig: c, ClientSecretSet: c.ClientSecret != "", Source: "environment"}
		v.ClientSecret = ""
		return v, nil
	}
	it, err := a.Store.SinkItem(ctx, a.name(), tenant, keyConfig)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, statements.Errorf(statements.ENotFound, "tenant %q has no OneRoster configuration", tenant)
	}
	if err != nil {
		return nil, err
	}
	var c TenantConfig
	if err := json.Unmarshal(it.Value, &c); err != nil {
		return nil, statements.Internal(err, "unreadable OneRoster configuration")
	}
	up := it.Updated
	v := &ConfigView{TenantConfig: c, ClientSecretSet: c.ClientSecret != "", Source: "store", Updated: &up}
	v.ClientSecret = ""
	return v, nil
}

// SetConfig stores tenant's configuration. An empty ClientSecret keeps the
// stored one. EInvalid, naming the field, when c is incomplete; EConflict
// when the tenant is configured from the environment.
func (a *Admin) SetConfig(ctx context.Context, tenant string, c TenantConfig) error {
	if _, ok := a.Static[tenant]; ok {
		return statements.Errorf(statements.EConflict, "tenant %q is configured from the environment (LRS_ONEROSTER_*)", tenant)
	}
	err := update(ctx, a.Store, a.name(), tenant, keyConfig, func(it *statements.SinkItem) (*statements.SinkItem, bool, error) {
		if c.ClientSecret == "" && it != nil {
			var old TenantConfig
			if json.Unmarshal(it.Value, &old) == nil {
				c.ClientSecret = old.ClientSecret
			}
		}
		if err := c.Check(); err != nil {
			return nil, false, statements.Errorf(statements.EInvalid, "%v", err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, false, statements.Internal(err, "cannot encode the configuration")
		}
		return &statements.SinkItem{Value: b}, false, nil
	})
	if err == nil {
		a.changed(tenant)
	}
	return err
}

// DeleteConfig removes tenant's configuration: its statements make no
// results from then on. Results not yet written stay, and are written if
// the tenant is configured again.
func (a *Admin) DeleteConfig(ctx context.Context, tenant string) error {
	if _, ok := a.Static[tenant]; ok {
		return statements.Errorf(statements.EConflict, "tenant %q is configured from the environment (LRS_ONEROSTER_*)", tenant)
	}
	if err := a.Store.DeleteSinkItem(ctx, a.name(), tenant, keyConfig, 0); err != nil {
		return err
	}
	a.changed(tenant)
	return nil
}

// StudentMapping maps an identity account name to a OneRoster user.
type StudentMapping struct {
	Account string `json:"account"`
	// SourcedID is the user's sourcedId; "" removes the mapping.
	SourcedID string `json:"sourcedId"`
}

// ActivityMapping maps an activity id to the line item of its results.
type ActivityMapping struct {
	ActivityID string `json:"activityId"`
	// Target is where results go; an empty LineItem removes the mapping.
	Target
}

// SetStudents writes student mappings of tenant; it returns how many.
func (a *Admin) SetStudents(ctx context.Context, tenant string, ms []StudentMapping) (int, error) {
	for i, m := range ms {
		if strings.TrimSpace(m.Account) == "" {
			return 0, statements.Errorf(statements.EInvalid, "students[%d].account: required", i)
		}
	}
	for _, m := range ms {
		var err error
		if m.SourcedID == "" {
			err = a.Store.DeleteSinkItem(ctx, a.name(), tenant, prefixStudent+m.Account, 0)
		} else {
			err = put(ctx, a.Store, a.name(), tenant, prefixStudent+m.Account, []byte(m.SourcedID))
		}
		if err != nil {
			return 0, err
		}
	}
	a.changed(tenant)
	return len(ms), nil
}

// SetActivities writes activity mappings of tenant; it returns how many.
func (a *Admin) SetActivities(ctx context.Context, tenant string, ms []ActivityMapping) (int, error) {
	for i, m := range ms {
		if strings.TrimSpace(m.ActivityID) == "" {
			return 0, statements.Errorf(statements.EInvalid, "activities[%d].activityId: required", i)
		}
		if s := m.Scale; s != nil && !(s.Max > s.Min) {
			return 0, statements.Errorf(statements.EInvalid, "activities[%d].scale: max must be above min", i)
		}
	}
	for _, m := range ms {
		var err error
		if m.LineItem == "" {
			err = a.Store.DeleteSinkItem(ctx, a.name(), tenant, prefixActivity+m.ActivityID, 0)
		} else {
			b, _ := json.Marshal(m.Target)
			err = put(ctx, a.Store, a.name(), tenant, prefixActivity+m.ActivityID, b)
		}
		if err != nil {
			return 0, err
		}
	}
	a.changed(tenant)
	return len(ms), nil
}

// put writes value at key, whatever was there.
func put(ctx context.Context, store statements.SinkStore, sink, tenant, key string, value []byte) error {
	return update(ctx, store, sink, tenant, key, func(*statements.SinkItem) (*statements.SinkItem, bool, error) {
		return &statements.SinkItem{Value: value}, false, nil
	})
}

// Students returns up to limit student mappings of tenant, by account,
// after the account after.
func (a *Admin) Students(ctx context.Context, tenant, after string, limit int) ([]StudentMapping, error) {
	items, err := a.list(ctx, tenant, prefixStudent, "", after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]StudentMapping, 0, len(items))
	for _, it := range items {
		out = append(out, StudentMapping{Account: strings.TrimPrefix(it.Key, prefixStudent), SourcedID: string(it.Value)})
	}
	return out, nil
}

// Activities returns up to limit activity mappings of tenant, by activity
// id, after the id after.
func (a *Admin) Activities(ctx context.Context, tenant, after string, limit int) ([]ActivityMapping, error) {
	items, err := a.list(ctx, tenant, prefixActivity, "", after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ActivityMapping, 0, len(items))
	for _, it := range items {
		m := ActivityMapping{ActivityID: strings.TrimPrefix(it.Key, prefixActivity)}
		if err := json.Unmarshal(it.Value, &m.Target); err != nil {
			return nil, statements.Internal(err, "unreadable activity mapping")
		}
		out = append(out, m)
	}
	return out, nil
}

func (a *Admin) list(ctx context.Context, tenant, prefix, state, after string, limit int) ([]statements.SinkItem, error) {
	q := statements.SinkQuery{Sink: a.name(), Tenant: tenant, KeyPrefix: prefix, State: state, Limit: limit}
	if after != "" {
		q.AfterTenant, q.AfterKey = tenant, prefix+after
	}
	return a.Store.SinkItems(ctx, q)
}

// ResultView is a result as the LRS keeps it: what it writes, and how its
// delivery went.
type ResultView struct {
	SourcedID string `json:"sourcedId"`
	// State is StatePending, StateSent or StateDead.
	State string `json:"state"`
	// Statement is the id of the statement whose result is written; ""
	// when every statement of the result was voided.
	Statement string `json:"statement,omitempty"`
	// Result is what is (or was last) to be written.
	Result *Result `json:"result,omitempty"`
	// Attempts, Status and Response tell the last failed delivery: the
	// HTTP status (0 for none) and the answer's body or the error.
	Attempts int    `json:"attempts,omitempty"`
	Status   int    `json:"status,omitempty"`
	Response string `json:"response,omitempty"`
	// Due is when a pending result is next tried.
	Due     *time.Time `json:"due,omitempty"`
	Updated time.Time  `json:"updated"`
}

// Results returns up to limit results of tenant in state ("" for any), by
// sourcedId, after the sourcedId after. Dead letters are the results in
// StateDead.
func (a *Admin) Results(ctx context.Context, tenant, state, after string, limit int) ([]ResultView, error) {
	switch state {
	case "", StatePending, StateSent, StateDead:
	default:
		return nil, statements.Errorf(statements.EInvalid, "state: must be %s, %s or %s, got %q", StatePending, StateSent, StateDead, state)
	}
	items, err := a.list(ctx, tenant, prefixResult, state, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ResultView, 0, len(items))
	for _, it := range items {
		st, err := decodeState(&it)
		if err != nil {
			return nil, err
		}
		v := ResultView{SourcedID: strings.TrimPrefix(it.Key, prefixResult), State: it.State, Result: st.next(),
			Attempts: st.Attempts, Status: st.LastStatus, Response: st.LastError, Updated: it.Updated}
		if v.Result == nil {
			v.Result = st.Written
		}
		if len(st.Candidates) > 0 {
			v.Statement = st.Candidates[0].Statement
		}
		if it.State == StatePending && !it.Due.IsZero() {
			d := it.Due
			v.Due = &d
		}
		out = append(out, v)
	}
	return out, nil
}

// Replay makes tenant's dead letter sourcedID, or all its dead letters
// when sourcedID is "", due again now; it returns how many. ENotFound
// when sourcedID is not a dead letter.
func (a *Admin) Replay(ctx context.Context, tenant, sourcedID string) (int, error) {
	var keys []string
	if sourcedID != "" {
		keys = []string{prefixResult + sourcedID}
	} else {
		after := ""
		for {
			items, err := a.list(ctx, tenant, prefixResult, StateDead, after, statements.MaxLimit)
			if err != nil {
				return 0, err
			}
			for _, it := range items {
				keys = append(keys, it.Key)
			}
			if len(items) < statements.MaxLimit {
				break
			}
			after = strings.TrimPrefix(items[len(items)-1].Key, prefixResult)
		}
	}
	n := 0
	for _, key := range keys {
		replayed := false
		err := update(ctx, a.Store, a.name(), tenant, key, func(it *statements.SinkItem) (*statements.SinkItem, bool, error) {
			replayed = false
			if it == nil || it.State != StateDead {
				return nil, false, nil
			}
			st, err := decodeState(it)
			if err != nil {
				return nil, false, err
			}
			st.Attempts = 0
			replayed = true
			return &statements.SinkItem{State: StatePending, Due: a.now(), Value: st.encode()}, false, nil
		})
		if err != nil {
			return n, err
		}
		if replayed {
			n++
		}
	}
	if sourcedID != "" && n == 0 {
		return 0, statements.Errorf(statements.ENotFound, "result %q of tenant %q is not a dead letter", sourcedID, tenant)
	}
	if n > 0 {
		a.changed(tenant)
	}
	return n, nil
}

// String returns a one-line summary of v, for the CLI.
func (v ResultView) String() string {
	s := fmt.Sprintf("%s  %-7s  statement %s", v.SourcedID, v.State, v.Statement)
	if v.Status != 0 || v.Response != "" {
		s += fmt.Sprintf("  last answer %d: %s", v.Status, v.Response)
	}
	return s
}

// identityRule returns the account home page whose names are tenant's
// students (without a trailing slash), and whether only the names its
// student table lists are: the tenant's IdentityHomePage and
// RequireStudentMapping, or their defaults when it has no configuration.
func (a *Admin) identityRule(ctx context.Context, tenant string) (homePage string, mapOnly bool, err error) {
	homePage = DefaultIdentityHomePage
	cfg, err := a.Config(ctx, tenant)
	switch {
	case err == nil:
		mapOnly = cfg.RequireStudentMapping
		if cfg.IdentityHomePage != "" {
			homePage = strings.TrimRight(cfg.IdentityHomePage, "/")
		}
	case statements.ErrorCode(err) != statements.ENotFound:
		return "", false, err
	}
	return homePage, mapOnly, nil
}

// StudentOf returns the student sourcedId under which the write-back
// writes the results of agent in tenant, by its identity rule (see
// Syncer.RosterUserOf): the name of an account of the tenant's identity
// home page, through the student table. ok is false when the agent names
// no student: not such an account, or not in the student table of a
// tenant that requires one.
func (a *Admin) StudentOf(ctx context.Context, tenant string, agent statements.Actor) (student string, ok bool, err error) {
	homePage, mapOnly, err := a.identityRule(ctx, tenant)
	if err != nil {
		return "", false, err
	}
	acct := agent.Account
	if acct == nil || acct.Name == "" || strings.TrimRight(acct.HomePage, "/") != homePage {
		return "", false, nil
	}
	id, mapped, err := tables{store: a.Store, sink: a.name(), tenant: tenant}.Student(ctx, acct.Name)
	switch {
	case err != nil:
		return "", false, err
	case mapped:
		return id, true, nil
	case mapOnly:
		return "", false, nil
	}
	return acct.Name, true, nil
}

// StudentResults calls each with every result of tenant written (or to be
// written) for the student sourcedId, in the order of the results'
// sourcedIds, reading the tenant's results a page at a time. Results are
// keyed by line item and student together, so it reads all of the
// tenant's results: its cost grows with them.
func (a *Admin) StudentResults(ctx context.Context, tenant, student string, each func(ResultView) error) error {
	after := ""
	for {
		page, err := a.Results(ctx, tenant, "", after, statements.MaxLimit)
		if err != nil {
			return err
		}
		for _, v := range page {
			if v.Result != nil && v.Result.Student.SourcedID == student {
				if err := each(v); err != nil {
					return err
				}
			}
		}
		if len(page) < statements.MaxLimit {
			return nil
		}
		after = page[len(page)-1].SourcedID
	}
}
