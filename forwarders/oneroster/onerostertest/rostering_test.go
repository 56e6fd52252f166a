package onerostertest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
)

func mustToken(t *testing.T, srv *onerostertest.Server, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("id", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token for %s: %d", scope, resp.StatusCode)
	}
	return body.AccessToken
}

func TestServer_Rostering(t *testing.T) {
	srv := onerostertest.New("id", "secret")
	defer srv.Close()
	var users []map[string]any
	for _, id := range []string{"u1", "u2", "u3", "u4", "u5"} {
		users = append(users, onerostertest.User(id, "G", "F", "student", "school", "x-"+id))
	}
	srv.SetRoster(onerostertest.Roster{Users: users})
	rosterTok := mustToken(t, srv, onerostertest.RosterCoreScope)
	bookTok := mustToken(t, srv, onerostertest.Scope)

	get := func(path, tok string) (*http.Response, map[string][]map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.RosterURL()+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string][]map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	for _, tc := range []struct {
		name, path, tok string
		status          int
		ids             string
		link            bool
	}{
		{"Page", "/users?limit=2&offset=0", rosterTok, 200, "u1,u2", true},
		{"LastPage", "/users?limit=2&offset=4", rosterTok, 200, "u5", false},
		{"PastTheEnd", "/users?limit=2&offset=9", rosterTok, 200, "", false},
		{"DefaultLimit", "/users", rosterTok, 200, "u1,u2,u3,u4,u5", false},
		{"EmptyCollection", "/classes", rosterTok, 200, "", false},
		{"ErrNoToken", "/users", "", 401, "", false},
		{"ErrBadToken", "/users", "nope", 401, "", false},
		{"ErrScope", "/users", bookTok, 403, "", false},
		{"ErrLimit", "/users?limit=-1", rosterTok, 400, "", false},
		{"ErrCollection", "/courses", rosterTok, 404, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(tc.path, tc.tok)
			if resp.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := resp.Header.Get("X-Total-Count"); got != map[bool]string{true: "0", false: "5"}[strings.HasPrefix(tc.path, "/classes")] {
				t.Errorf("X-Total-Count: %q", got)
			}
			coll := strings.TrimPrefix(strings.SplitN(tc.path, "?", 2)[0], "/")
			var ids []string
			for _, u := range body[coll] {
				ids = append(ids, u["sourcedId"].(string))
			}
			if got := strings.Join(ids, ","); got != tc.ids {
				t.Errorf("records: got %q, want %q", got, tc.ids)
			}
			if got := resp.Header.Get("Link") != ""; got != tc.link {
				t.Errorf("Link %q: want next %v", resp.Header.Get("Link"), tc.link)
			}
		})
	}
	t.Run("FailRosterPage", func(t *testing.T) {
		srv.FailRosterPage("users", 2, http.StatusBadGateway)
		if resp, _ := get("/users?limit=2&offset=2", rosterTok); resp.StatusCode != http.StatusBadGateway {
			t.Errorf("forced failure: %d", resp.StatusCode)
		}
		srv.FailRosterPage("users", 2, 0)
		if resp, _ := get("/users?limit=2&offset=2", rosterTok); resp.StatusCode != http.StatusOK {
			t.Errorf("after clearing: %d", resp.StatusCode)
		}
	})
}
