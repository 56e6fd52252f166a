package oneroster

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/digione/lrs/statements"
)

// The OAuth 2 scopes that allow reading the rostering service's
// collections; a TenantConfig asks for one of them (RosterScope).
const (
	ScopeRosterCore = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
	ScopeRoster     = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
)

// keyRosterStatus is the sink item that keeps a tenant's SyncStatus.
const keyRosterStatus = "roster-status"

// RosterStore is what a Syncer needs of the store: its items (the
// tenants' configuration and sync status) and the rosters.
type RosterStore interface {
	statements.SinkStore
	statements.RosterStore
}

// SyncConfig configures a Syncer.
type SyncConfig struct {
	// Store keeps the configuration, the rosters and the sync status.
	// Required.
	Store RosterStore
	// Log holds the lease that lets one of several LRS processes run the
	// schedule; nil: Run syncs without one.
	Log statements.Log
	// Static configures tenants outside the store, as Config.Static.
	Static map[string]TenantConfig
	// Name is the sink whose items hold the configuration; default
	// "oneroster".
	Name string
	// HTTPClient sends the requests; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives the outcome of scheduled syncs; the zero value logs
	// nothing.
	Logger zerolog.Logger
	// Holder names this process in the schedule's lease; default host
	// name, process id and a random suffix.
	Holder string
	// Interval is how often Run syncs each tenant, plus a jitter of up to
	// a tenth of it per tenant; default 1 hour. A failed sync is tried
	// again after a quarter of it.
	Interval time.Duration
	// PageSize is the limit of each page asked for; default 500.
	PageSize int
	// MaxRecords bounds the records of one tenant's sync, all collections
	// together; default 1,000,000.
	MaxRecords int
	// MaxPages bounds the pages of one tenant's sync; default 10,000.
	MaxPages int
	// MaxBytes bounds the bytes of the answers of one tenant's sync;
	// default 1 GiB.
	MaxBytes int64
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// SyncStatus is how a tenant's roster syncs went, as the store keeps it.
type SyncStatus struct {
	// LastSuccess is when the last sync that replaced the roster ended;
	// nil when none did.
	LastSuccess *time.Time `json:"lastSuccess,omitempty"`
	// LastAttempt is when the last sync, good or failed, ended.
	LastAttempt time.Time `json:"lastAttempt"`
	// LastError is why the last sync failed, and LastErrorAt when; empty
	// when the last sync succeeded.
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	// The counts of the roster the last good sync stored, and the records
	// it left out (tobedeleted, or enrollments of users or classes not in
	// the roster).
	Orgs        int `json:"orgs"`
	Users       int `json:"users"`
	Classes     int `json:"classes"`
	Enrollments int `json:"enrollments"`
	Skipped     int `json:"skipped"`
}

// Failing reports whether the last sync failed.
func (st *SyncStatus) Failing() bool { return st != nil && st.LastError != "" }

// Syncer reads tenants' rosters from their OneRoster rostering service
// into the store: on demand (Sync) and on a schedule (Run).
type Syncer struct {
	cfg Config
	sc  SyncConfig

	mu       sync.Mutex
	status   map[string]SyncStatus // as last read or written, by tenant
	ok, fail uint64
	running  map[string]bool
}

// NewSyncer returns a Syncer for cfg.
func NewSyncer(cfg SyncConfig) (*Syncer, error) {
	if cfg.Store == nil {
		return nil, errors.New("oneroster: SyncConfig.Store is required")
	}
	if cfg.Name == "" {
		cfg.Name = defaultSinkName
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = crand.Read(b[:])
		cfg.Holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 1_000_000
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 10_000
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 30
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Syncer{sc: cfg, status: map[string]SyncStatus{}, running: map[string]bool{}}, nil
}

// config returns the tenant's configuration; nil when it has none.
func (s *Syncer) config(ctx context.Context, tenant string) (*TenantConfig, error) {
	if c, ok := s.sc.Static[tenant]; ok {
		return &c, nil
	}
	return loadConfig(ctx, s.sc.Store, s.sc.Name, tenant)
}

// Sync reads the tenant's roster from its rostering service and replaces
// the stored one with it, when every page of every collection was read
// and the roster is whole; otherwise the stored roster stays. Either way
// it records the outcome in the tenant's SyncStatus. ENotFound when the
// tenant has no rostering URL; EConflict when a sync of the tenant is
// running in this process; EUnavailable when the service failed, with
// its answer in the message. A sync stopped by ctx records nothing.
func (s *Syncer) Sync(ctx context.Context, tenant string) (*SyncStatus, error) {
	cfg, err := s.config(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if cfg == nil || cfg.RosterURL == "" {
		return nil, statements.Errorf(statements.ENotFound, "tenant %q has no OneRoster rostering URL", tenant)
	}
	s.mu.Lock()
	if s.running[tenant] {
		s.mu.Unlock()
		return nil, statements.Errorf(statements.EConflict, "a roster sync of tenant %q is running", tenant)
	}
	s.running[tenant] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, tenant)
		s.mu.Unlock()
	}()

	roster, skipped, ferr := s.fetch(ctx, *cfg)
	if ferr == nil {
		ferr = s.sc.Store.ReplaceRoster(ctx, tenant, roster)
	}
	if ferr != nil && ctx.Err() != nil {
		// Stopped (a shutdown), not failed: the status stays as it was.
		return nil, statements.Internal(ctx.Err(), "the roster sync was stopped")
	}
	now := s.sc.Now().UTC()
	st, err := s.Status(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = &SyncStatus{}
	}
	st.LastAttempt = now
	if ferr != nil {
		st.LastError, st.LastErrorAt = truncate(ferr.Error(), maxResponseKept), &now
	} else {
		st.LastError, st.LastErrorAt, st.LastSuccess = "", nil, &now
		st.Orgs, st.Users, st.Classes, st.Enrollments, st.Skipped =
			len(roster.Orgs), len(roster.Users), len(roster.Classes), len(roster.Enrollments), skipped
	}
	b, _ := json.Marshal(st)
	werr := put(context.WithoutCancel(ctx), s.sc.Store, s.sc.Name, tenant, keyRosterStatus, b)
	s.mu.Lock()
	s.status[tenant] = *st
	if ferr != nil {
		s.fail++
	} else {
		s.ok++
	}
	s.mu.Unlock()
	if ferr != nil {
		var se *statements.Error
		if errors.As(ferr, &se) {
			return st, ferr
		}
		return st, &statements.Error{Code: statements.EUnavailable, Message: "roster sync failed: " + ferr.Error(), Err: ferr}
	}
	return st, werr
}

// Status returns the tenant's SyncStatus as the store keeps it; nil when
// it was never synced.
func (s *Syncer) Status(ctx context.Context, tenant string) (*SyncStatus, error) {
	it, err := s.sc.Store.SinkItem(ctx, s.sc.Name, tenant, keyRosterStatus)
	if statements.ErrorCode(err) == statements.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st SyncStatus
	if err := json.Unmarshal(it.Value, &st); err != nil {
		return nil, statements.Internal(err, "unreadable roster sync status of tenant "+tenant)
	}
	return &st, nil
}

// Tenants returns the tenants with a rostering URL, by ID.
func (s *Syncer) Tenants(ctx context.Context) ([]string, error) {
	var out []string
	for t, c := range s.sc.Static {
		if c.RosterURL != "" {
			out = append(out, t)
		}
	}
	q := statements.SinkQuery{Sink: s.sc.Name, KeyPrefix: keyConfig}
	for {
		items, err := s.sc.Store.SinkItems(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if _, static := s.sc.Static[it.Tenant]; static || it.Key != keyConfig {
				continue
			}
			var c TenantConfig
			if json.Unmarshal(it.Value, &c) == nil && c.RosterURL != "" {
				out = append(out, it.Tenant)
			}
		}
		if len(items) < statements.MaxLimit {
			break
		}
		q.AfterTenant, q.AfterKey = items[len(items)-1].Tenant, items[len(items)-1].Key
	}
	sort.Strings(out)
	return out, nil
}

// Run syncs every tenant with a rostering URL every Interval (each at its
// own jitter), while this process holds the schedule's lease, until ctx
// ends; it returns nil then. In every process it keeps the statuses that
// Failing and WriteMetrics report up to date.
func (s *Syncer) Run(ctx context.Context) error {
	tick := min(max(s.sc.Interval/20, 50*time.Millisecond), time.Minute)
	lease := "roster-sync:" + s.sc.Name
	leader := false
	defer func() {
		if leader && s.sc.Log != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = s.sc.Log.ReleaseLease(rctx, lease, s.sc.Holder)
			cancel()
		}
	}()
	for ctx.Err() == nil {
		leader = true
		if s.sc.Log != nil {
			ok, err := s.sc.Log.AcquireLease(ctx, lease, s.sc.Holder, 3*tick+time.Minute)
			if err != nil && ctx.Err() == nil {
				s.sc.Logger.Warn().Err(err).Msg("cannot take the roster sync lease")
			}
			leader = err == nil && ok
		}
		s.round(ctx, leader)
		t := time.NewTimer(tick)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// round reads every tenant's status and, when sync is true, syncs those
// due.
func (s *Syncer) round(ctx context.Context, sync bool) {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.sc.Logger.Warn().Err(err).Msg("cannot list the tenants with rosters")
		}
		return
	}
	now := s.sc.Now()
	for _, tenant := range tenants {
		st, err := s.Status(ctx, tenant)
		if err != nil {
			continue
		}
		if st != nil {
			s.mu.Lock()
			s.status[tenant] = *st
			s.mu.Unlock()
		}
		if !sync || ctx.Err() != nil {
			continue
		}
		wait := s.sc.Interval + s.jitter(tenant)
		if st.Failing() {
			wait = s.sc.Interval / 4
		}
		if st != nil && now.Sub(st.LastAttempt) < wait {
			continue
		}
		st, err = s.Sync(ctx, tenant)
		switch {
		case err != nil && ctx.Err() == nil:
			s.sc.Logger.Warn().Err(err).Str("tenant", tenant).Msg("roster sync failed: the last good roster stays")
		case err == nil:
			s.sc.Logger.Info().Str("tenant", tenant).Int("users", st.Users).Int("classes", st.Classes).
				Int("enrollments", st.Enrollments).Msg("roster synced")
		}
	}
}

// jitter spreads the tenants' syncs over a tenth of the interval.
func (s *Syncer) jitter(tenant string) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(tenant))
	span := int64(s.sc.Interval / 10)
	if span <= 0 {
		return 0
	}
	return time.Duration(h.Sum64() % uint64(span))
}

// Failing returns, for /readyz, the tenants whose last roster sync failed
// and since when; "" when none did.
func (s *Syncer) Failing() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for tenant, st := range s.status {
		if st.Failing() {
			out = append(out, fmt.Sprintf("roster sync of tenant %s failing since %s (the last good roster stays)",
				tenant, st.LastErrorAt.UTC().Format(time.RFC3339)))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// WriteMetrics writes the syncs' counters and each tenant's last good
// sync time in the Prometheus text format.
func (s *Syncer) WriteMetrics(w io.Writer) error {
	s.mu.Lock()
	ok, fail := s.ok, s.fail
	tenants := make([]string, 0, len(s.status))
	for t := range s.status {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	var b strings.Builder
	b.WriteString("# HELP lrs_roster_sync_total Roster syncs this process ran, by outcome.\n# TYPE lrs_roster_sync_total counter\n")
	fmt.Fprintf(&b, "lrs_roster_sync_total{outcome=\"success\"} %d\nlrs_roster_sync_total{outcome=\"failure\"} %d\n", ok, fail)
	b.WriteString("# HELP lrs_roster_last_success_timestamp_seconds When each tenant's roster was last synced successfully.\n# TYPE lrs_roster_last_success_timestamp_seconds gauge\n")
	for _, t := range tenants {
		if st := s.status[t]; st.LastSuccess != nil {
			fmt.Fprintf(&b, "lrs_roster_last_success_timestamp_seconds{tenant=%q} %d\n", t, st.LastSuccess.Unix())
		}
	}
	b.WriteString("# HELP lrs_roster_sync_failing Whether each tenant's last roster sync failed (1) or not (0).\n# TYPE lrs_roster_sync_failing gauge\n")
	for _, t := range tenants {
		v := 0
		if st := s.status[t]; st.Failing() {
			v = 1
		}
		fmt.Fprintf(&b, "lrs_roster_sync_failing{tenant=%q} %d\n", t, v)
	}
	s.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}

// fetch reads the four collections and builds the roster; it returns how
// many records it left out.
func (s *Syncer) fetch(ctx context.Context, cfg TenantConfig) (*statements.Roster, int, error) {
	scope := cfg.RosterScope
	if scope == "" {
		scope = ScopeRosterCore
	}
	cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: cfg.TokenURL,
		Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInHeader}
	f := &fetcher{s: s, base: strings.TrimRight(cfg.RosterURL, "/"), tokenURL: cfg.TokenURL,
		ts: cc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, s.sc.HTTPClient))}

	r := &statements.Roster{Synced: s.sc.Now().UTC().Truncate(time.Millisecond)}
	skipped := 0
	var orgs []orOrg
	if err := f.collection(ctx, "orgs", func(dec *json.Decoder) (int, error) { return decodeAll(dec, &orgs) }); err != nil {
		return nil, 0, err
	}
	for i, o := range orgs {
		if o.SourcedID == "" {
			return nil, 0, fmt.Errorf("orgs[%d].sourcedId: required", i)
		}
		if o.Status == "tobedeleted" {
			skipped++
			continue
		}
		r.Orgs = append(r.Orgs, statements.RosterOrg{SourcedID: o.SourcedID, Name: o.Name, Type: o.Type,
			Identifier: o.Identifier, Parent: o.Parent.SourcedID})
	}
	var users []orUser
	if err := f.collection(ctx, "users", func(dec *json.Decoder) (int, error) { return decodeAll(dec, &users) }); err != nil {
		return nil, 0, err
	}
	active := map[string]bool{}
	for i, u := range users {
		if u.SourcedID == "" {
			return nil, 0, fmt.Errorf("users[%d].sourcedId: required", i)
		}
		if u.Status == "tobedeleted" {
			skipped++
			continue
		}
		ru := statements.RosterUser{SourcedID: u.SourcedID, GivenName: u.GivenName, FamilyName: u.FamilyName,
			Identities: []string{u.SourcedID}}
		orgSeen := map[string]bool{}
		addOrg := func(o string) {
			if o != "" && !orgSeen[o] {
				orgSeen[o] = true
				ru.Orgs = append(ru.Orgs, o)
			}
		}
		addOrg(u.PrimaryOrg.SourcedID)
		for j, ro := range u.Roles {
			if ro.Role == "" || ro.Org.SourcedID == "" {
				return nil, 0, fmt.Errorf("users[%d].roles[%d]: role and org.sourcedId required", i, j)
			}
			ru.Roles = append(ru.Roles, statements.RosterRole{Role: ro.Role, Org: ro.Org.SourcedID})
			addOrg(ro.Org.SourcedID)
		}
		for _, id := range u.UserIDs {
			if id.Identifier != "" && id.Identifier != u.SourcedID {
				ru.Identities = append(ru.Identities, id.Identifier)
			}
		}
		active[u.SourcedID] = true
		r.Users = append(r.Users, ru)
	}
	users = nil
	var classes []orClass
	if err := f.collection(ctx, "classes", func(dec *json.Decoder) (int, error) { return decodeAll(dec, &classes) }); err != nil {
		return nil, 0, err
	}
	activeClass := map[string]bool{}
	for i, c := range classes {
		if c.SourcedID == "" {
			return nil, 0, fmt.Errorf("classes[%d].sourcedId: required", i)
		}
		if c.Status == "tobedeleted" {
			skipped++
			continue
		}
		activeClass[c.SourcedID] = true
		r.Classes = append(r.Classes, statements.RosterClass{SourcedID: c.SourcedID, Title: c.Title, ClassCode: c.ClassCode,
			School: c.School.SourcedID})
	}
	var enrollments []orEnrollment
	if err := f.collection(ctx, "enrollments", func(dec *json.Decoder) (int, error) { return decodeAll(dec, &enrollments) }); err != nil {
		return nil, 0, err
	}
	for i, e := range enrollments {
		switch {
		case e.SourcedID == "":
			return nil, 0, fmt.Errorf("enrollments[%d].sourcedId: required", i)
		case e.Role == "":
			return nil, 0, fmt.Errorf("enrollments[%d].role: required", i)
		case e.User.SourcedID == "":
			return nil, 0, fmt.Errorf("enrollments[%d].user.sourcedId: required", i)
		case e.Class.SourcedID == "":
			return nil, 0, fmt.Errorf("enrollments[%d].class.sourcedId: required", i)
		}
		if e.Status == "tobedeleted" || !active[e.User.SourcedID] || !activeClass[e.Class.SourcedID] {
			skipped++
			continue
		}
		re := statements.Enrollment{SourcedID: e.SourcedID, Class: e.Class.SourcedID, User: e.User.SourcedID, Role: e.Role,
			Primary: e.Primary.v}
		var err error
		if re.BeginDate, err = parseDate(e.BeginDate); err != nil {
			return nil, 0, fmt.Errorf("enrollments[%d].beginDate: %w", i, err)
		}
		if re.EndDate, err = parseDate(e.EndDate); err != nil {
			return nil, 0, fmt.Errorf("enrollments[%d].endDate: %w", i, err)
		}
		r.Enrollments = append(r.Enrollments, re)
	}
	if err := r.Check(); err != nil {
		return nil, 0, fmt.Errorf("%s", statements.ErrorMessage(err))
	}
	return r, skipped, nil
}

// decodeAll appends the array dec holds to *out and returns its length.
func decodeAll[T any](dec *json.Decoder, out *[]T) (int, error) {
	var page []T
	if err := dec.Decode(&page); err != nil {
		return 0, err
	}
	*out = append(*out, page...)
	return len(page), nil
}

// parseDate reads a OneRoster date (YYYY-MM-DD) or date-time; zero for "".
func parseDate(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("want a date (YYYY-MM-DD), got %q", v)
}

// fetcher reads the pages of one sync, within its bounds.
type fetcher struct {
	s        *Syncer
	base     string
	tokenURL string
	ts       oauth2.TokenSource
	pages    int
	records  int
	bytes    int64
}

// collection reads every page of the collection name, handing each page's
// array to add, until a page is empty, the X-Total-Count is reached, or,
// without a count, a page is short and has no Link to a next page.
func (f *fetcher) collection(ctx context.Context, name string, add func(*json.Decoder) (int, error)) error {
	sc := f.s.sc
	for offset := 0; ; {
		if f.pages >= sc.MaxPages {
			return fmt.Errorf("%s: more than %d pages in all: the roster is over the bounds of a sync", name, sc.MaxPages)
		}
		f.pages++
		target := fmt.Sprintf("%s/%s?limit=%d&offset=%d", f.base, name, sc.PageSize, offset)
		n, total, next, err := f.page(ctx, target, name, add)
		if err != nil {
			return err
		}
		f.records += n
		if f.records > sc.MaxRecords {
			return fmt.Errorf("%s: more than %d records in all: the roster is over the bounds of a sync", name, sc.MaxRecords)
		}
		offset += n
		switch {
		case n == 0:
			return nil
		case total >= 0:
			if offset >= total {
				return nil
			}
		case !next && n < sc.PageSize:
			return nil
		}
	}
}

// page reads one page: the number of records, the X-Total-Count (-1 when
// absent) and whether a Link names a next page.
func (f *fetcher) page(ctx context.Context, target, name string, add func(*json.Decoder) (int, error)) (n, total int, next bool, err error) {
	tok, err := f.ts.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return 0, 0, false, fmt.Errorf("token endpoint %s: status %d: %s", f.tokenURL, re.Response.StatusCode,
				truncate(strings.TrimSpace(string(re.Body)), 512))
		}
		return 0, 0, false, fmt.Errorf("token endpoint %s: %w", f.tokenURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, 0, false, err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	resp, err := f.s.sc.HTTPClient.Do(req)
	if err != nil {
		return 0, 0, false, fmt.Errorf("GET %s: %w", redactQuery(target), err)
	}
	defer resp.Body.Close()
	left := f.s.sc.MaxBytes - f.bytes
	body := &countingReader{r: io.LimitReader(resp.Body, left+1)}
	defer func() { f.bytes += body.n }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(body, maxResponseKept))
		return 0, 0, false, fmt.Errorf("GET %s: status %d: %s", redactQuery(target), resp.StatusCode, truncate(strings.TrimSpace(string(b)), 512))
	}
	total = -1
	if v := resp.Header.Get("X-Total-Count"); v != "" {
		if t, err := strconv.Atoi(v); err == nil && t >= 0 {
			total = t
		}
	}
	next = hasNextLink(resp.Header.Values("Link"))
	dec := json.NewDecoder(body)
	tk, err := dec.Token()
	if d, ok := tk.(json.Delim); err != nil || !ok || d != '{' {
		return 0, 0, false, f.bodyErr(name, body, fmt.Errorf("want a JSON object"))
	}
	found := false
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return 0, 0, false, f.bodyErr(name, body, err)
		}
		if k != name {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, 0, false, f.bodyErr(name, body, err)
			}
			continue
		}
		if found {
			return 0, 0, false, fmt.Errorf("%s: the answer has %q twice", name, name)
		}
		found = true
		if n, err = add(dec); err != nil {
			return 0, 0, false, f.bodyErr(name, body, err)
		}
	}
	if !found {
		return 0, 0, false, fmt.Errorf("%s: the answer has no %q array", name, name)
	}
	return n, total, next, nil
}

// bodyErr names what went wrong reading an answer's body.
func (f *fetcher) bodyErr(name string, body *countingReader, err error) error {
	if f.bytes+body.n > f.s.sc.MaxBytes {
		return fmt.Errorf("%s: more than %d bytes in all: the roster is over the bounds of a sync", name, f.s.sc.MaxBytes)
	}
	return fmt.Errorf("%s: unreadable answer: %v", name, err)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// hasNextLink reports whether Link headers name a rel="next" page.
func hasNextLink(links []string) bool {
	for _, l := range links {
		for _, part := range strings.Split(l, ",") {
			for _, p := range strings.Split(part, ";")[1:] {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "rel="); ok && strings.Contains(" "+strings.Trim(v, `"`)+" ", " next ") {
					return true
				}
			}
		}
	}
	return false
}

// redactQuery returns target without its query, for messages.
func redactQuery(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	u.RawQuery = ""
	return u.String()
}

// The records of the rostering collections, as the OneRoster 1.2 REST
// binding writes them: the fields the roster keeps.
type (
	orRef struct {
		SourcedID string `json:"sourcedId"`
	}
	orOrg struct {
		SourcedID  string `json:"sourcedId"`
		Status     string `json:"status"`
		Name       string `json:"name"`
		Type       string `json:"type"`
		Identifier string `json:"identifier"`
		Parent     orRef  `json:"parent"`
	}
	orUser struct {
		SourcedID  string `json:"sourcedId"`
		Status     string `json:"status"`
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
		Roles      []struct {
			RoleType string `json:"roleType"`
			Role     string `json:"role"`
			Org      orRef  `json:"org"`
		} `json:"roles"`
		UserIDs []struct {
			Type       string `json:"type"`
			Identifier string `json:"identifier"`
		} `json:"userIds"`
		PrimaryOrg orRef `json:"primaryOrg"`
	}
	orClass struct {
		SourcedID string `json:"sourcedId"`
		Status    string `json:"status"`
		Title     string `json:"title"`
		ClassCode string `json:"classCode"`
		School    orRef  `json:"school"`
	}
	orEnrollment struct {
		SourcedID string `json:"sourcedId"`
		Status    string `json:"status"`
		Role      string `json:"role"`
		User      orRef  `json:"user"`
		Class     orRef  `json:"class"`
		Primary   orBool `json:"primary"`
		BeginDate string `json:"beginDate"`
		EndDate   string `json:"endDate"`
	}
)

// orBool is a boolean written as JSON true/false or as "true"/"false"
// (as OneRoster 1.1 and the CSV binding do).
type orBool struct{ v bool }

func (b *orBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		b.v = true
	case "false", "", "null":
		b.v = false
	default:
		return fmt.Errorf("want true or false, got %s", data)
	}
	return nil
}

// RosterUserOf returns the roster user an xAPI account names, by the
// write-back's identity rule: the account's home page is the tenant's
// identity home page (DefaultIdentityHomePage unless configured), and its
// name goes through the tenant's student table, else is taken as it is
// (unless RequireStudentMapping); the user is the one whose Identities
// hold the result (statements.RosterStore.RosterPerson). ENotFound when
// the account names no roster user or the tenant has no OneRoster
// configuration; EConflict when two users share the identity.
func (s *Syncer) RosterUserOf(ctx context.Context, tenant string, a statements.Account) (*statements.RosterUser, error) {
	cfg, err := s.config(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, statements.Errorf(statements.ENotFound, "tenant %q has no OneRoster configuration", tenant)
	}
	admin := &Admin{Store: s.sc.Store, Static: s.sc.Static, Name: s.sc.Name}
	identity, ok, err := admin.StudentOf(ctx, tenant, statements.Actor{Account: &a})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, statements.Errorf(statements.ENotFound, "the account is not of the tenant's identity home page, or not in its student table")
	}
	return s.sc.Store.RosterPerson(ctx, tenant, identity)
}
