package lrs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

// syncer is the lrs.RosterSync of a oneroster.Syncer.
type syncer struct{ s *oneroster.Syncer }

func (y syncer) SyncRoster(ctx context.Context, tenant string) error {
	_, err := y.s.Sync(ctx, tenant)
	return err
}

func (y syncer) RosterSyncFailure(ctx context.Context, tenant string) (string, time.Time, error) {
	st, err := y.s.Status(ctx, tenant)
	if err != nil || !st.Failing() {
		return "", time.Time{}, err
	}
	return st.LastError, *st.LastErrorAt, nil
}

// rosterOf returns a roster of n students in one class of school.
func rosterOf(n int) onerostertest.Roster {
	r := onerostertest.Roster{
		Orgs:    []map[string]any{onerostertest.Org("school", "School", "school", "")},
		Users:   []map[string]any{onerostertest.User("t", "T", "T", "teacher", "school")},
		Classes: []map[string]any{onerostertest.Class("c", "7A", "school")},
	}
	r.Enrollments = append(r.Enrollments, onerostertest.Enrollment("e-t", "c", "t", "teacher"))
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		r.Users = append(r.Users, onerostertest.User(id, "G", "F", "student", "school"))
		r.Enrollments = append(r.Enrollments, onerostertest.Enrollment("e-"+id, "c", id, "student"))
	}
	return r
}

func TestAdminAPI_RosterSync(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	or := onerostertest.New("lrs-client", "s3cret")
	or.SetRoster(rosterOf(3))
	s, err := oneroster.NewSyncer(oneroster.SyncConfig{Store: store, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken,
		OneRoster: &oneroster.Admin{Store: store}, RosterSync: syncer{s}, ReadyNotes: s.Failing})))
	t.Cleanup(func() { srv.Close(); or.Close(); store.Close() })
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)

	roster := func(t *testing.T, path string, want int) lrs.RosterJSON {
		t.Helper()
		method := "GET"
		if strings.HasSuffix(path, "/sync") {
			method = "POST"
		}
		var v lrs.RosterJSON
		if b := mustCall(t, srv, method, path, bearer, "", want); want == http.StatusOK {
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	t.Run("ErrUnauthorized", func(t *testing.T) {
		if got, _, _ := call(t, srv, "POST", "/admin/tenants/espoo/oneroster/sync", "", ""); got != http.StatusUnauthorized {
			t.Errorf("POST sync without the token: %d, want 401", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		roster(t, "/admin/tenants/espoo/oneroster/sync", http.StatusNotFound) // no rostering URL
		roster(t, "/admin/tenants/nobody/oneroster/sync", http.StatusNotFound)
		roster(t, "/admin/tenants/nobody/oneroster/roster", http.StatusNotFound)
	})
	t.Run("NoRosterYet", func(t *testing.T) {
		if v := roster(t, "/admin/tenants/espoo/oneroster/roster", http.StatusOK); v.Synced != nil || v.Users != 0 {
			t.Errorf("roster before a sync: %+v", v)
		}
	})
	cfg := fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client","clientSecret":"s3cret","rosterUrl":%q}`,
		or.BaseURL(), or.TokenURL(), or.RosterURL())
	mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer, cfg, http.StatusOK)
	t.Run("OK", func(t *testing.T) {
		v := roster(t, "/admin/tenants/espoo/oneroster/sync", http.StatusOK)
		if v.Synced == nil || v.Users != 4 || v.Classes != 1 || v.Enrollments != 4 || v.Orgs != 1 || v.Tenant != "espoo" {
			t.Errorf("POST sync: %+v", v)
		}
		if got := roster(t, "/admin/tenants/espoo/oneroster/roster", http.StatusOK); got.Users != 4 || got.LastError != "" {
			t.Errorf("GET roster after a sync: %+v", got)
		}
		if code, _, b := call(t, srv, "GET", "/readyz", "", ""); code != http.StatusOK || string(b) != "ready\n" {
			t.Errorf("/readyz after a good sync: %d %s", code, b)
		}
	})
	t.Run("ErrUnavailableKeepsLastGood", func(t *testing.T) {
		or.SetRoster(rosterOf(9))
		or.FailRosterPage("users", 0, http.StatusServiceUnavailable)
		defer or.FailRosterPage("users", 0, 0)
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/sync", bearer, "", http.StatusServiceUnavailable)
		if !strings.Contains(string(b), "status 503") {
			t.Errorf("failed sync's message: %s", b)
		}
		if got := roster(t, "/admin/tenants/espoo/oneroster/roster", http.StatusOK); got.Users != 4 ||
			!strings.Contains(got.LastError, "status 503") || got.LastErrorAt == nil || got.Synced == nil {
			t.Errorf("roster after a failed sync: %+v, want the last good one and the failure", got)
		}
		code, _, body := call(t, srv, "GET", "/readyz", "", "")
		if code != http.StatusOK || !strings.Contains(string(body), "roster sync of tenant espoo failing since") {
			t.Errorf("/readyz after a failed sync: %d %s; want 200 naming the failing roster sync", code, body)
		}
		audit := mustCall(t, srv, "GET", "/admin/audit?limit=1", bearer, "", http.StatusOK)
		if !strings.Contains(string(audit), `"oneroster.roster.sync"`) || !strings.Contains(string(audit), "failed") {
			t.Errorf("audit: %s", audit)
		}
	})
}

func TestAdminAPI_TenantIdentityValues(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	b := mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo","identityValues":["1.2.246.562.10.1","1.2.246.562.10.2"]}`, http.StatusCreated)
	if !strings.Contains(string(b), `"identityValues":["1.2.246.562.10.1","1.2.246.562.10.2"]`) {
		t.Errorf("created: %s", b)
	}
	if b := mustCall(t, srv, "GET", "/admin/tenants/espoo", bearer, "", http.StatusOK); !strings.Contains(string(b), `"1.2.246.562.10.2"`) {
		t.Errorf("GET: %s", b)
	}
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"vantaa"}`, http.StatusCreated)
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"ErrConflictUpdate", "PATCH", "/admin/tenants/vantaa", `{"identityValues":["1.2.246.562.10.2"]}`, http.StatusConflict},
		{"ErrConflictCreate", "POST", "/admin/tenants", `{"id":"kauniainen","identityValues":["1.2.246.562.10.1"]}`, http.StatusConflict},
		{"ErrInvalidEmpty", "PATCH", "/admin/tenants/vantaa", `{"identityValues":[""]}`, http.StatusBadRequest},
		{"ErrInvalidTwice", "PATCH", "/admin/tenants/vantaa", `{"identityValues":["a","a"]}`, http.StatusBadRequest},
		{"ErrInvalidSpace", "PATCH", "/admin/tenants/vantaa", `{"identityValues":[" a"]}`, http.StatusBadRequest},
		{"ErrInvalidType", "PATCH", "/admin/tenants/vantaa", `{"identityValues":"a"}`, http.StatusBadRequest},
		{"Move", "PATCH", "/admin/tenants/espoo", `{"identityValues":["1.2.246.562.10.1"]}`, http.StatusOK},
		{"Take", "PATCH", "/admin/tenants/vantaa", `{"identityValues":["1.2.246.562.10.2"]}`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) { mustCall(t, srv, tc.method, tc.path, bearer, tc.body, tc.want) })
	}
	if b := mustCall(t, srv, "GET", "/admin/tenants/vantaa", bearer, "", http.StatusOK); !strings.Contains(string(b), `"identityValues":["1.2.246.562.10.2"]`) {
		t.Errorf("vantaa after taking the value: %s", b)
	}
	b = mustCall(t, srv, "PATCH", "/admin/tenants/vantaa", bearer, `{"identityValues":[]}`, http.StatusOK)
	if strings.Contains(string(b), "identityValues") {
		t.Errorf("cleared: %s", b)
	}
}
