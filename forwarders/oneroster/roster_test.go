package oneroster_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// syncFixture is a store, a test OneRoster provider with a roster, and a
// Syncer of tenant t1 configured to read it.
type syncFixture struct {
	syncer *oneroster.Syncer
	admin  *oneroster.Admin
	or     *onerostertest.Server
	store  *sqlitestore.Store
	logs   *bytes.Buffer
}

// MustOpenSyncFixture returns a syncFixture; edit may change the
// SyncConfig.
func MustOpenSyncFixture(tb testing.TB, edit func(*oneroster.SyncConfig)) *syncFixture {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	or := onerostertest.New("lrs-client", "s3cret")
	tb.Cleanup(or.Close)
	or.SetRoster(smallRoster(25))
	f := &syncFixture{or: or, store: store, logs: &bytes.Buffer{}, admin: &oneroster.Admin{Store: store}}
	cfg := oneroster.SyncConfig{Store: store, Log: store, Logger: zerolog.New(f.logs), PageSize: 10,
		HTTPClient: &http.Client{Timeout: 2 * time.Second}}
	if edit != nil {
		edit(&cfg)
	}
	if f.syncer, err = oneroster.NewSyncer(cfg); err != nil {
		tb.Fatal(err)
	}
	tc := tenantConfig(or)
	tc.RosterURL = or.RosterURL()
	if err := f.admin.SetConfig(ctx, "t1", tc); err != nil {
		tb.Fatal(err)
	}
	return f
}

// smallRoster is a school with one teacher and n students in two classes,
// plus a student and a class to be deleted.
func smallRoster(n int) onerostertest.Roster {
	r := onerostertest.Roster{
		Orgs: []map[string]any{onerostertest.Org("school", "School", "school", "district"),
			onerostertest.Org("district", "City", "district", "")},
		Users:   []map[string]any{onerostertest.User("teacher", "Tia", "Teacher", "teacher", "school", "1.2.246.562.24.1")},
		Classes: []map[string]any{onerostertest.Class("c1", "7A", "school"), onerostertest.Class("c2", "7B", "school")},
	}
	r.Enrollments = append(r.Enrollments, onerostertest.Enrollment("e-t1", "c1", "teacher", "teacher"),
		onerostertest.Enrollment("e-t2", "c2", "teacher", "teacher"))
	for i := range n {
		id := fmt.Sprintf("s%03d", i)
		r.Users = append(r.Users, onerostertest.User(id, "Given", "Family", "student", "school", "mpass-"+id))
		r.Enrollments = append(r.Enrollments, onerostertest.Enrollment("e-"+id, []string{"c1", "c2"}[i%2], id, "student"))
	}
	gone := onerostertest.User("gone", "G", "F", "student", "school")
	gone["status"] = "tobedeleted"
	oldClass := onerostertest.Class("c-old", "Old", "school")
	oldClass["status"] = "tobedeleted"
	r.Users = append(r.Users, gone)
	r.Classes = append(r.Classes, oldClass)
	r.Enrollments = append(r.Enrollments, onerostertest.Enrollment("e-gone", "c1", "gone", "student"),
		onerostertest.Enrollment("e-old", "c-old", "s000", "student"))
	return r
}

func memberIDs(tb testing.TB, s statements.RosterStore, class, role string) []string {
	tb.Helper()
	us, err := s.ClassMembers(context.Background(), "t1", class, role)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, u := range us {
		ids = append(ids, u.SourcedID)
	}
	return ids
}

func TestSyncer_Sync(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := MustOpenSyncFixture(t, nil)
		st, err := f.syncer.Sync(t.Context(), "t1")
		if err != nil {
			t.Fatal(err)
		}
		// 25 students + teacher; 2 classes; 27 enrollments; 4 records left out.
		if st.Users != 26 || st.Classes != 2 || st.Enrollments != 27 || st.Orgs != 2 || st.Skipped != 4 || st.LastSuccess == nil || st.Failing() {
			t.Errorf("status: %+v", st)
		}
		// Users: 3 pages of 10 (27 records); enrollments 3 pages (29): many pages.
		if gets := f.or.RosterGets(); gets != 1+3+1+3 {
			t.Errorf("GETs: got %d, want 8", gets)
		}
		rs, err := f.store.RosterStatus(t.Context(), "t1")
		if err != nil || rs.Users != 26 || rs.Enrollments != 27 {
			t.Errorf("RosterStatus: %+v, %v", rs, err)
		}
		if got := memberIDs(t, f.store, "c1", "teacher"); !slices.Equal(got, []string{"teacher"}) {
			t.Errorf("teachers of c1: %q", got)
		}
		if got := memberIDs(t, f.store, "c1", "student"); len(got) != 13 || got[0] != "s000" {
			t.Errorf("students of c1: %q", got)
		}
		p, err := f.store.RosterPerson(t.Context(), "t1", "mpass-s007")
		if err != nil || p.SourcedID != "s007" || p.GivenName != "Given" || !slices.Equal(p.Orgs, []string{"school"}) ||
			!slices.Equal(p.Roles, []statements.RosterRole{{Role: "student", Org: "school"}}) {
			t.Errorf("RosterPerson(mpass-s007): %+v, %v", p, err)
		}
		for _, gone := range []string{"gone"} {
			if _, err := f.store.RosterUser(t.Context(), "t1", gone); statements.ErrorCode(err) != statements.ENotFound {
				t.Errorf("RosterUser(%s), tobedeleted: %v", gone, err)
			}
		}
		if _, err := f.store.RosterClass(t.Context(), "t1", "c-old"); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("RosterClass(c-old), tobedeleted: %v", err)
		}
		if o, err := f.store.RosterOrg(t.Context(), "t1", "school"); err != nil || o.Parent != "district" || o.Type != "school" {
			t.Errorf("RosterOrg(school): %+v, %v", o, err)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			total, link bool
			gets        int
		}{
			// users 27, enrollments 29 records: pages of 10.
			{"TotalCount", true, false, 1 + 3 + 1 + 3},
			{"LinkOnly", false, true, 1 + 3 + 1 + 3},
			// Without either, a full last page takes one more GET, which
			// answers an empty page.
			{"ShortPage", false, false, 1 + 3 + 1 + 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := MustOpenSyncFixture(t, nil)
				f.or.SetPaging(tc.total, tc.link)
				st, err := f.syncer.Sync(t.Context(), "t1")
				if err != nil || st.Users != 26 || st.Enrollments != 27 {
					t.Fatalf("Sync: %+v, %v", st, err)
				}
				if got := f.or.RosterGets(); got != tc.gets {
					t.Errorf("GETs: %d, want %d", got, tc.gets)
				}
			})
		}
		t.Run("FullLastPage", func(t *testing.T) {
			f := MustOpenSyncFixture(t, nil)
			f.or.SetPaging(false, false)
			f.or.SetRoster(smallRoster(28)) // users: 28, the teacher and one gone: 30, a full last page
			st, err := f.syncer.Sync(t.Context(), "t1")
			if err != nil || st.Users != 29 {
				t.Fatalf("Sync: %+v, %v", st, err)
			}
			// orgs 1, users 3 full pages + an empty one, classes 1,
			// enrollments (32) 4.
			if got := f.or.RosterGets(); got != 1+4+1+4 {
				t.Errorf("GETs: %d, want 10", got)
			}
		})
	})
	t.Run("FailingPageKeepsLastGood", func(t *testing.T) {
		f := MustOpenSyncFixture(t, nil)
		if _, err := f.syncer.Sync(t.Context(), "t1"); err != nil {
			t.Fatal(err)
		}
		f.or.SetRoster(smallRoster(5))
		f.or.FailRosterPage("enrollments", 0, http.StatusInternalServerError)
		st, err := f.syncer.Sync(t.Context(), "t1")
		if statements.ErrorCode(err) != statements.EUnavailable || !strings.Contains(err.Error(), "status 500") {
			t.Fatalf("Sync with a failing page: %v, want %s naming status 500", err, statements.EUnavailable)
		}
		if !st.Failing() || st.LastSuccess == nil || st.Users != 26 {
			t.Errorf("status: %+v", st)
		}
		if rs, _ := f.store.RosterStatus(t.Context(), "t1"); rs.Users != 26 {
			t.Errorf("roster after a failed sync: %+v, want the last good one (26 users)", rs)
		}
		if got := f.syncer.Failing(); !strings.Contains(got, "tenant t1 failing since") {
			t.Errorf("Failing: %q", got)
		}
		var m bytes.Buffer
		f.syncer.WriteMetrics(&m)
		for _, want := range []string{`lrs_roster_sync_total{outcome="success"} 1`, `lrs_roster_sync_total{outcome="failure"} 1`,
			`lrs_roster_last_success_timestamp_seconds{tenant="t1"} `, `lrs_roster_sync_failing{tenant="t1"} 1`} {
			if !strings.Contains(m.String(), want) {
				t.Errorf("metrics lack %q:\n%s", want, m.String())
			}
		}
		// Mended: the next sync replaces the roster and clears the failure.
		f.or.FailRosterPage("enrollments", 0, 0)
		st, err = f.syncer.Sync(t.Context(), "t1")
		if err != nil || st.Failing() || st.Users != 6 {
			t.Errorf("Sync after mending: %+v, %v", st, err)
		}
		if got := f.syncer.Failing(); got != "" {
			t.Errorf("Failing after mending: %q", got)
		}
	})
	t.Run("ErrScope", func(t *testing.T) {
		f := MustOpenSyncFixture(t, nil)
		f.or.AllowScopes(onerostertest.Scope) // gradebook only
		_, err := f.syncer.Sync(t.Context(), "t1")
		if statements.ErrorCode(err) != statements.EUnavailable || !strings.Contains(err.Error(), "invalid_scope") {
			t.Errorf("Sync without the rostering scope: %v", err)
		}
		f.or.AllowScopes(onerostertest.Scope, onerostertest.RosterScope)
		tc := tenantConfig(f.or)
		tc.RosterURL, tc.RosterScope = f.or.RosterURL(), oneroster.ScopeRoster
		if err := f.admin.SetConfig(t.Context(), "t1", tc); err != nil {
			t.Fatal(err)
		}
		if _, err := f.syncer.Sync(t.Context(), "t1"); err != nil {
			t.Errorf("Sync with roster.readonly: %v", err)
		}
	})
	t.Run("ErrInvalidRecord", func(t *testing.T) {
		f := MustOpenSyncFixture(t, nil)
		r := smallRoster(3)
		delete(r.Classes[1], "sourcedId")
		f.or.SetRoster(r)
		_, err := f.syncer.Sync(t.Context(), "t1")
		if err == nil || !strings.Contains(err.Error(), "classes[1].sourcedId: required") {
			t.Errorf("Sync of a class without sourcedId: %v", err)
		}
		if rs, _ := f.store.RosterStatus(t.Context(), "t1"); !rs.Synced.IsZero() {
			t.Errorf("roster stored: %+v", rs)
		}
	})
	t.Run("ErrBounds", func(t *testing.T) {
		for name, edit := range map[string]func(*oneroster.SyncConfig){
			"records": func(c *oneroster.SyncConfig) { c.MaxRecords = 20 },
			"pages":   func(c *oneroster.SyncConfig) { c.MaxPages = 4 },
			"bytes":   func(c *oneroster.SyncConfig) { c.MaxBytes = 4000 },
		} {
			f := MustOpenSyncFixture(t, edit)
			_, err := f.syncer.Sync(t.Context(), "t1")
			if err == nil || !strings.Contains(err.Error(), "over the bounds of a sync") {
				t.Errorf("%s: Sync: %v, want over the bounds", name, err)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		f := MustOpenSyncFixture(t, nil)
		if _, err := f.syncer.Sync(t.Context(), "t2"); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("Sync of a tenant without OneRoster: %v", err)
		}
	})
	t.Run("Static", func(t *testing.T) {
		or := onerostertest.New("lrs-client", "s3cret")
		defer or.Close()
		or.SetRoster(smallRoster(2))
		store, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		tc := tenantConfig(or)
		tc.RosterURL = or.RosterURL() + "/"
		s, err := oneroster.NewSyncer(oneroster.SyncConfig{Store: store, Static: map[string]oneroster.TenantConfig{"env": tc}})
		if err != nil {
			t.Fatal(err)
		}
		if ts, err := s.Tenants(t.Context()); err != nil || !slices.Equal(ts, []string{"env"}) {
			t.Errorf("Tenants: %q, %v", ts, err)
		}
		if st, err := s.Sync(t.Context(), "env"); err != nil || st.Users != 3 {
			t.Errorf("Sync: %+v, %v", st, err)
		}
	})
}

// TestSyncer_Run: the schedule syncs each tenant with a rostering URL, and
// again after the interval.
func TestSyncer_Run(t *testing.T) {
	f := MustOpenSyncFixture(t, func(c *oneroster.SyncConfig) { c.Interval = 300 * time.Millisecond })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.syncer.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	first := time.Time{}
	for time.Now().Before(deadline) {
		st, err := f.syncer.Status(t.Context(), "t1")
		if err != nil {
			t.Fatal(err)
		}
		if st != nil && st.LastSuccess != nil {
			if first.IsZero() {
				first = *st.LastSuccess
				f.or.SetRoster(smallRoster(4))
			} else if st.LastSuccess.After(first) && st.Users == 5 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no second scheduled sync within 5 s (first %v); logs:\n%s", first, f.logs)
}

func TestTenantConfig_CheckRosterURL(t *testing.T) {
	for _, tc := range []struct {
		url, scope, want string
	}{
		{"https://sis.example/ims/oneroster/rostering/v1p2", "", ""},
		{"https://sis.example/ims/oneroster/rostering/v1p2/", oneroster.ScopeRoster, ""},
		{"https://sis.example/ims/oneroster/gradebook/v1p2", "", "rosterUrl: must end with /ims/oneroster/rostering/v1p2"},
		{"ftp://sis.example/ims/oneroster/rostering/v1p2", "", "rosterUrl: must be an absolute http(s) URL"},
		{"https://sis.example/ims/oneroster/rostering/v1p2", "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly", "rosterScope: must be"},
	} {
		c := oneroster.TenantConfig{BaseURL: "https://sis.example/ims/oneroster/gradebook/v1p2", TokenURL: "https://sis.example/token",
			ClientID: "id", ClientSecret: "s", RosterURL: tc.url, RosterScope: tc.scope}
		err := c.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("Check(%s, %q): %v, want %q", tc.url, tc.scope, err, tc.want)
		}
	}
}

func TestSyncer_RosterUserOf(t *testing.T) {
	f := MustOpenSyncFixture(t, nil)
	if _, err := f.syncer.Sync(t.Context(), "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.SetStudents(t.Context(), "t1", []oneroster.StudentMapping{{Account: "opaque-42", SourcedID: "s004"}}); err != nil {
		t.Fatal(err)
	}
	mpass := oneroster.DefaultIdentityHomePage
	for _, tc := range []struct {
		name    string
		account statements.Account
		want    string // sourcedId, or an error code
	}{
		{"SourcedID", statements.Account{HomePage: mpass, Name: "s001"}, "s001"},
		{"UserID", statements.Account{HomePage: mpass + "/", Name: "mpass-s002"}, "s002"},
		{"StudentTable", statements.Account{HomePage: mpass, Name: "opaque-42"}, "s004"},
		{"ErrNotFoundName", statements.Account{HomePage: mpass, Name: "nobody"}, statements.ENotFound},
		{"ErrNotFoundHomePage", statements.Account{HomePage: "https://other.example", Name: "s001"}, statements.ENotFound},
		{"ErrNotFoundTobedeleted", statements.Account{HomePage: mpass, Name: "gone"}, statements.ENotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.syncer.RosterUserOf(t.Context(), "t1", tc.account)
			switch {
			case err != nil && statements.ErrorCode(err) != tc.want:
				t.Errorf("got %v, want %s", err, tc.want)
			case err == nil && u.SourcedID != tc.want:
				t.Errorf("got %s, want %s", u.SourcedID, tc.want)
			}
		})
	}
	if _, err := f.syncer.RosterUserOf(t.Context(), "t2", statements.Account{HomePage: mpass, Name: "s001"}); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("tenant without OneRoster: %v", err)
	}
}

// TestSyncer_SyncStopped: a sync stopped by its context (a shutdown)
// records no failure and keeps the roster.
func TestSyncer_SyncStopped(t *testing.T) {
	f := MustOpenSyncFixture(t, nil)
	if _, err := f.syncer.Sync(t.Context(), "t1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.syncer.Sync(ctx, "t1"); err == nil {
		t.Fatal("Sync with a stopped context: no error")
	}
	st, err := f.syncer.Status(t.Context(), "t1")
	if err != nil || st.Failing() || st.Users != 26 {
		t.Errorf("status after a stopped sync: %+v, %v", st, err)
	}
	if got := f.syncer.Failing(); got != "" {
		t.Errorf("Failing: %q", got)
	}
}
