package lrs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

const (
	rosteringV1p2 = "/sandbox/oneroster/ims/oneroster/rostering/v1p2"
	gradebookV1p2 = "/sandbox/oneroster/ims/oneroster/gradebook/v1p2"
)

// sandboxORServer is an LRS with the admin API on a fresh SQLite store,
// its clock settable.
type sandboxORServer struct {
	*httptest.Server
	store *sqlitestore.Store
	mu    sync.Mutex
	now   time.Time
}

func (s *sandboxORServer) setNow(t time.Time) { s.mu.Lock(); s.now = t; s.mu.Unlock() }

func mustOpenSandboxORServer(tb testing.TB) *sandboxORServer {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	s := &sandboxORServer{store: store, now: time.Now()}
	h := lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, LoginPause: time.Millisecond,
		Now: func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }})
	s.Server = httptest.NewServer(withContract(tb, h))
	tb.Cleanup(func() { s.Close(); store.Close() })
	return s
}

// mustCreateSandbox creates vendor's sandbox and returns it with its
// credential's secret.
func mustCreateSandbox(tb testing.TB, srv *httptest.Server, vendor string) lrs.SandboxJSON {
	tb.Helper()
	var sb lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(tb, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"`+vendor+`"}`, http.StatusCreated), &sb); err != nil {
		tb.Fatal(err)
	}
	return sb
}

// orToken gets a token of the provider with client_secret_basic; scope ""
// asks for the default.
func orToken(tb testing.TB, srv *httptest.Server, key, secret, scope string) (int, map[string]any) {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/sandbox/oneroster/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(key), url.QueryEscape(secret))
	return doJSON(tb, req)
}

func doJSON(tb testing.TB, req *http.Request) (int, map[string]any) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("%s %s: %d, not JSON: %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func mustORToken(tb testing.TB, srv *httptest.Server, sb lrs.SandboxJSON, scope string) string {
	tb.Helper()
	code, m := orToken(tb, srv, sb.Credentials[0].Key, sb.Credentials[0].Secret, scope)
	tok, _ := m["access_token"].(string)
	if code != http.StatusOK || tok == "" {
		tb.Fatalf("token: %d %v", code, m)
	}
	return tok
}

// orGet reads path of the provider with token.
func orGet(tb testing.TB, srv *httptest.Server, token, path string) (int, http.Header, map[string]any) {
	tb.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("GET %s: %d, not JSON: %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, m
}

// imsxMinor returns the code minor of an imsx status report, "" if m is
// none.
func imsxMinor(m map[string]any) string {
	cm, _ := m["imsx_CodeMinor"].(map[string]any)
	fs, _ := cm["imsx_codeMinorField"].([]any)
	if m["imsx_codeMajor"] != "failure" || len(fs) != 1 {
		return ""
	}
	v, _ := fs[0].(map[string]any)["imsx_codeMinorFieldValue"].(string)
	return v
}

func sourcedIDs(m map[string]any, key string) []string {
	var out []string
	list, _ := m[key].([]any)
	for _, r := range list {
		id, _ := r.(map[string]any)["sourcedId"].(string)
		out = append(out, id)
	}
	return out
}

// TestSandboxOneRoster_Sync: the production rostering sync of the
// OneRoster write-back (oneroster.Syncer), pointed at the sandbox's
// provider with the sandbox's credential, reads the sandbox's test school
// into another tenant, page by page, and gets the seed back: the same
// users with the same identities, classes, orgs and enrollments as the
// sandbox's own roster.
func TestSandboxOneRoster_Sync(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	or := sb.OneRoster
	if or == nil || or.TokenURL != srv.URL+"/sandbox/oneroster/token" || or.RosteringURL != srv.URL+rosteringV1p2 || or.GradebookURL != srv.URL+gradebookV1p2 {
		t.Fatalf("oneRoster %+v, want the provider's URLs under %s", or, srv.URL)
	}
	var got lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(t, srv.Server, "GET", "/admin/sandboxes/acme", bearer, "", http.StatusOK), &got); err != nil || got.OneRoster == nil || *got.OneRoster != *or {
		t.Errorf("GET sandbox: oneRoster %+v, %v; want %+v", got.OneRoster, err, or)
	}
	ctx := t.Context()
	if err := srv.store.CreateTenant(ctx, statements.Tenant{ID: "espoo", Name: "Espoo", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []string{"", oneroster.ScopeRoster} {
		t.Run("scope "+scope, func(t *testing.T) {
			syncer, err := oneroster.NewSyncer(oneroster.SyncConfig{Store: srv.store, PageSize: 3,
				Static: map[string]oneroster.TenantConfig{"espoo": {BaseURL: or.GradebookURL, TokenURL: or.TokenURL,
					ClientID: sb.Credentials[0].Key, ClientSecret: sb.Credentials[0].Secret, RosterURL: or.RosteringURL, RosterScope: scope}}})
			if err != nil {
				t.Fatal(err)
			}
			st, err := syncer.Sync(ctx, "espoo")
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if st.Orgs != 1 || st.Users != 8 || st.Classes != 2 || st.Enrollments != 8 || st.Skipped != 0 {
				t.Errorf("sync status %+v, want 1 org, 8 users, 2 classes, 8 enrollments, none skipped", st)
			}
			want, err := srv.store.RosterStatus(ctx, sb.Tenant)
			if err != nil {
				t.Fatal(err)
			}
			have, err := srv.store.RosterStatus(ctx, "espoo")
			if err != nil {
				t.Fatal(err)
			}
			have.Synced, want.Synced = time.Time{}, time.Time{}
			if have != want {
				t.Errorf("synced roster %+v, want the sandbox's %+v", have, want)
			}
			school := sb.School
			for _, p := range append(append([]lrs.SandboxPerson{}, school.Teachers...), school.Learners...) {
				w, err := srv.store.RosterUser(ctx, sb.Tenant, p.SourcedID)
				if err != nil {
					t.Fatal(err)
				}
				h, err := srv.store.RosterUser(ctx, "espoo", p.SourcedID)
				if err != nil {
					t.Fatalf("user %s not synced: %v", p.SourcedID, err)
				}
				if !reflect.DeepEqual(h, w) {
					t.Errorf("user %s synced as %+v, want %+v", p.SourcedID, h, w)
				}
				// The synced roster knows the learner by the actor's account
				// name, as the sandbox gradebook does.
				if u, err := srv.store.RosterPerson(ctx, "espoo", p.Account.Name); err != nil || u.SourcedID != p.SourcedID {
					t.Errorf("person of account %s: %+v, %v; want %s", p.Account.Name, u, err, p.SourcedID)
				}
			}
			for _, c := range school.Classes {
				w, _ := srv.store.RosterClass(ctx, sb.Tenant, c.SourcedID)
				h, err := srv.store.RosterClass(ctx, "espoo", c.SourcedID)
				if err != nil || !reflect.DeepEqual(h, w) {
					t.Errorf("class %s synced as %+v, %v; want %+v", c.SourcedID, h, err, w)
				}
				for _, role := range []string{statements.RoleStudent, statements.RoleTeacher} {
					w, _ := srv.store.ClassMembers(ctx, sb.Tenant, c.SourcedID, role)
					h, err := srv.store.ClassMembers(ctx, "espoo", c.SourcedID, role)
					if err != nil || !reflect.DeepEqual(h, w) || len(h) == 0 {
						t.Errorf("%ss of %s synced as %+v, %v; want %+v", role, c.SourcedID, h, err, w)
					}
				}
			}
			w, _ := srv.store.RosterOrg(ctx, sb.Tenant, school.SourcedID)
			if h, err := srv.store.RosterOrg(ctx, "espoo", school.SourcedID); err != nil || !reflect.DeepEqual(h, w) {
				t.Errorf("org synced as %+v, %v; want %+v", h, err, w)
			}
		})
	}
}

// TestSandboxOneRoster_Results: a statement posted with the sandbox's
// credential appears in the provider's results with its score, line item,
// student and class; line items and results by class; unknown ids are
// 404 as OneRoster reports them.
func TestSandboxOneRoster_Results(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
	learner, li := sb.School.Learners[4], sb.School.LineItems[3] // of the second class
	tok := mustORToken(t, srv.Server, sb, oneroster.ScopeRosterCore+" "+lrs.ScopeGradebookRead)

	code, h, m := orGet(t, srv.Server, tok, gradebookV1p2+"/results")
	if code != http.StatusOK || len(m["results"].([]any)) != 0 || h.Get("X-Total-Count") != "0" {
		t.Fatalf("results of a new sandbox: %d %v %v, want none", code, h, m)
	}
	const id = "7f7b5c1e-2d3a-4c5b-8e9f-0a1b2c3d4e51"
	mustCall(t, srv.Server, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(id, learner, li, 17, nil), http.StatusOK)

	code, _, m = orGet(t, srv.Server, tok, gradebookV1p2+"/results")
	results, _ := m["results"].([]any)
	if code != http.StatusOK || len(results) != 1 {
		t.Fatalf("results: %d %v, want one", code, m)
	}
	r := results[0].(map[string]any)
	ref := func(k string) (string, string) {
		g, _ := r[k].(map[string]any)
		id, _ := g["sourcedId"].(string)
		href, _ := g["href"].(string)
		return id, href
	}
	liID, liHref := ref("lineItem")
	student, studentHref := ref("student")
	class, _ := ref("class")
	if r["score"] != 17.0 || r["scoreStatus"] != "fully graded" || r["status"] != "active" || liID != li.SourcedID ||
		student != learner.SourcedID || class != li.Class || r["metadata"].(map[string]any)["xapiStatementId"] != id {
		t.Errorf("result %v, want %s on %s of %s scored 17 from %s", r, learner.SourcedID, li.SourcedID, li.Class, id)
	}
	if liHref != srv.URL+gradebookV1p2+"/lineItems/"+li.SourcedID || studentHref != srv.URL+rosteringV1p2+"/users/"+learner.SourcedID {
		t.Errorf("hrefs %s, %s: want the provider's line item and user", liHref, studentHref)
	}
	if d, _ := r["dateLastModified"].(string); !strings.HasSuffix(d, "Z") {
		t.Errorf("dateLastModified %q, want a UTC date-time", d)
	}
	rid := r["sourcedId"].(string)
	if rid != oneroster.ResultID(sb.Tenant, li.SourcedID, learner.SourcedID) {
		t.Errorf("result sourcedId %s, want the write-back's", rid)
	}
	if code, _, m := orGet(t, srv.Server, tok, gradebookV1p2+"/results/"+rid); code != http.StatusOK || m["result"].(map[string]any)["score"] != 17.0 {
		t.Errorf("GET results/%s: %d %v", rid, code, m)
	}
	if _, _, m := orGet(t, srv.Server, tok, gradebookV1p2+"/classes/"+li.Class+"/results"); len(sourcedIDs(m, "results")) != 1 {
		t.Errorf("results of %s: %v, want the one", li.Class, m)
	}
	if _, _, m := orGet(t, srv.Server, tok, gradebookV1p2+"/classes/"+sb.School.Classes[0].SourcedID+"/results"); len(sourcedIDs(m, "results")) != 0 {
		t.Errorf("results of the other class: %v, want none", m)
	}

	// A newer statement on the same line item replaces the score.
	mustCall(t, srv.Server, "POST", "/xapi/statements", cred, lrstest.SandboxStatement("7f7b5c1e-2d3a-4c5b-8e9f-0a1b2c3d4e52", learner, li, 19,
		func(s string) string { return strings.Replace(s, "08:15:00", "08:16:00", 1) }), http.StatusOK)
	if _, _, m := orGet(t, srv.Server, tok, gradebookV1p2+"/results/"+rid); m["result"].(map[string]any)["score"] != 19.0 {
		t.Errorf("after a newer statement: %v, want score 19", m)
	}

	_, h, m = orGet(t, srv.Server, tok, gradebookV1p2+"/lineItems")
	if ids := sourcedIDs(m, "lineItems"); len(ids) != len(sb.School.LineItems) || h.Get("X-Total-Count") != fmt.Sprint(len(sb.School.LineItems)) {
		t.Errorf("lineItems %v, want the %d of the seed", ids, len(sb.School.LineItems))
	}
	_, _, m = orGet(t, srv.Server, tok, gradebookV1p2+"/lineItems/"+li.SourcedID)
	item, _ := m["lineItem"].(map[string]any)
	if item["title"] != li.Title || item["resultValueMax"] != li.Max || item["metadata"].(map[string]any)["xapiActivityId"] != li.Activity ||
		item["class"].(map[string]any)["sourcedId"] != li.Class {
		t.Errorf("lineItem %v, want %+v", item, li)
	}
	if _, _, m := orGet(t, srv.Server, tok, gradebookV1p2+"/classes/"+li.Class+"/lineItems"); len(sourcedIDs(m, "lineItems")) != 2 {
		t.Errorf("lineItems of %s: %v, want 2", li.Class, m)
	}

	for _, path := range []string{gradebookV1p2 + "/results/nope", gradebookV1p2 + "/lineItems/nope", gradebookV1p2 + "/classes/nope/lineItems",
		gradebookV1p2 + "/classes/nope/results", rosteringV1p2 + "/users/nope", rosteringV1p2 + "/classes/nope",
		rosteringV1p2 + "/classes/nope/students", rosteringV1p2 + "/classes/nope/teachers", rosteringV1p2 + "/orgs/nope",
		rosteringV1p2 + "/schools/nope", rosteringV1p2 + "/enrollments/nope",
		rosteringV1p2 + "/students/" + sb.School.Teachers[0].SourcedID, rosteringV1p2 + "/teachers/" + learner.SourcedID} {
		if code, _, m := orGet(t, srv.Server, tok, path); code != http.StatusNotFound || imsxMinor(m) != "unknownobject" || !strings.Contains(m["imsx_description"].(string), "sourcedId") {
			t.Errorf("GET %s: %d %v, want 404 unknownobject naming the sourcedId", path, code, m)
		}
	}
}

// TestSandboxOneRoster_Rostering: every rostering collection and record
// is the seed's, in the OneRoster 1.2 shapes.
func TestSandboxOneRoster_Rostering(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	tok := mustORToken(t, srv.Server, sb, "")
	school := sb.School
	learner, teacher, class := school.Learners[0], school.Teachers[1], school.Classes[1]
	for _, tc := range []struct {
		path, key string
		want      []string
	}{
		{"/orgs", "orgs", []string{school.SourcedID}},
		{"/schools", "orgs", []string{school.SourcedID}},
		{"/classes", "classes", []string{school.Classes[0].SourcedID, class.SourcedID}},
		{"/users", "users", []string{"sandbox-teacher-1", "sandbox-teacher-2", "sandbox-learner-1", "sandbox-learner-2", "sandbox-learner-3",
			"sandbox-learner-4", "sandbox-learner-5", "sandbox-learner-6"}},
		{"/students", "users", []string{"sandbox-learner-1", "sandbox-learner-2", "sandbox-learner-3", "sandbox-learner-4", "sandbox-learner-5", "sandbox-learner-6"}},
		{"/teachers", "users", []string{"sandbox-teacher-1", "sandbox-teacher-2"}},
		{"/classes/" + class.SourcedID + "/students", "users", []string{"sandbox-learner-4", "sandbox-learner-5", "sandbox-learner-6"}},
		{"/classes/" + class.SourcedID + "/teachers", "users", []string{"sandbox-teacher-2"}},
		{"/enrollments?limit=2", "enrollments", []string{"enr-sandbox-class-7a-sandbox-teacher-1", "enr-sandbox-class-8b-sandbox-teacher-2"}},
	} {
		code, _, m := orGet(t, srv.Server, tok, rosteringV1p2+tc.path)
		if got := sourcedIDs(m, tc.key); code != http.StatusOK || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GET %s: %d %v, want %s %v", tc.path, code, m, tc.key, tc.want)
		}
	}
	one := func(path, key string) map[string]any {
		t.Helper()
		code, _, m := orGet(t, srv.Server, tok, rosteringV1p2+path)
		r, _ := m[key].(map[string]any)
		if code != http.StatusOK || r == nil {
			t.Fatalf("GET %s: %d %v, want {%q: ...}", path, code, m, key)
		}
		return r
	}
	u := one("/users/"+learner.SourcedID, "user")
	ids, _ := json.Marshal(u["userIds"])
	roles, _ := json.Marshal(u["roles"])
	if u["givenName"] != "Testi" || u["enabledUser"] != true || u["status"] != "active" ||
		string(ids) != fmt.Sprintf(`[{"identifier":%q,"type":"MPASSid"},{"identifier":%q,"type":"LearnerNumber"}]`, learner.Account.Name, learner.LearnerNumber) ||
		!strings.Contains(string(roles), `"role":"student","roleType":"primary"`) {
		t.Errorf("user %v, want the learner with the account and the learner number", u)
	}
	if d, err := time.Parse(time.RFC3339, u["dateLastModified"].(string)); err != nil || !d.Equal(sb.Created) {
		t.Errorf("dateLastModified %v, want the sandbox's creation %v", u["dateLastModified"], sb.Created)
	}
	if r := one("/students/"+learner.SourcedID, "user"); r["sourcedId"] != learner.SourcedID {
		t.Errorf("students/%s: %v", learner.SourcedID, r)
	}
	if r := one("/teachers/"+teacher.SourcedID, "user"); r["sourcedId"] != teacher.SourcedID {
		t.Errorf("teachers/%s: %v", teacher.SourcedID, r)
	}
	c := one("/classes/"+class.SourcedID, "class")
	if c["title"] != class.Title || c["school"].(map[string]any)["href"] != srv.URL+rosteringV1p2+"/orgs/"+school.SourcedID {
		t.Errorf("class %v, want %+v of the school", c, class)
	}
	if o := one("/orgs/"+school.SourcedID, "org"); o["identifier"] != school.OID || o["type"] != "school" {
		t.Errorf("org %v, want the school with its test OID", o)
	}
	if o := one("/schools/"+school.SourcedID, "org"); o["name"] != school.Name {
		t.Errorf("school %v", o)
	}
	if term := one("/academicSessions/sandbox-term", "academicSession"); term["type"] != "term" || term["startDate"] != sb.Created.UTC().Format(time.DateOnly) ||
		term["endDate"] != sb.Expires.UTC().Format(time.DateOnly) {
		t.Errorf("term %v, want the sandbox's life", term)
	}
	e := one("/enrollments/enr-sandbox-class-8b-sandbox-learner-4", "enrollment")
	if e["role"] != "student" || e["primary"] != false || e["class"].(map[string]any)["sourcedId"] != class.SourcedID {
		t.Errorf("enrollment %v", e)
	}
}

// TestSandboxOneRoster_Paging: limit and offset page every collection,
// X-Total-Count counts it whole, Link names the other pages; a bad limit
// or offset is 400 naming it.
func TestSandboxOneRoster_Paging(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	tok := mustORToken(t, srv.Server, sb, oneroster.ScopeRoster)
	var all []string
	for offset := 0; offset < 10; offset += 3 {
		code, h, m := orGet(t, srv.Server, tok, fmt.Sprintf("%s/users?limit=3&offset=%d", rosteringV1p2, offset))
		if code != http.StatusOK || h.Get("X-Total-Count") != "8" {
			t.Fatalf("page at %d: %d %v %v, want X-Total-Count 8", offset, code, h, m)
		}
		ids := sourcedIDs(m, "users")
		all = append(all, ids...)
		link := h.Get("Link")
		next := fmt.Sprintf(`<%s%s/users?limit=3&offset=%d>; rel="next"`, srv.URL, rosteringV1p2, offset+3)
		if hasNext := strings.Contains(link, next); hasNext != (offset+3 < 8) {
			t.Errorf("page at %d: Link %s, next page %v", offset, link, offset+3 < 8)
		}
		if !strings.Contains(link, `offset=6>; rel="last"`) || !strings.Contains(link, `offset=0>; rel="first"`) || strings.Contains(link, `rel="prev"`) != (offset > 0) {
			t.Errorf("page at %d: Link %s, want first, last and prev when past the first", offset, link)
		}
		if want := min(3, max(0, 8-offset)); len(ids) != want {
			t.Errorf("page at %d: %v, want %d users", offset, ids, want)
		}
	}
	if len(all) != 8 || all[0] != "sandbox-teacher-1" || all[7] != "sandbox-learner-6" {
		t.Errorf("paged users %v, want the 8 in order", all)
	}
	if _, h, m := orGet(t, srv.Server, tok, rosteringV1p2+"/users"); len(sourcedIDs(m, "users")) != 8 || strings.Contains(h.Get("Link"), "next") {
		t.Errorf("default page: %v %v, want all 8 and no next", h, m)
	}
	for _, tc := range []struct{ query, name string }{
		{"limit=0", "limit"}, {"limit=-1", "limit"}, {"limit=ten", "limit"}, {"offset=-1", "offset"}, {"offset=x", "offset"}, {"limit=", "limit"},
	} {
		code, _, m := orGet(t, srv.Server, tok, rosteringV1p2+"/users?"+tc.query)
		if desc, _ := m["imsx_description"].(string); code != http.StatusBadRequest || !strings.HasPrefix(desc, tc.name+":") || imsxMinor(m) != "invaliddata" {
			t.Errorf("?%s: %d %v, want 400 naming %s", tc.query, code, m, tc.name)
		}
	}
}

// TestSandboxOneRoster_Auth: the token endpoint takes the sandbox's
// credential in HTTP Basic or in the body, refuses a wrong one with
// invalid_client and slows repeated failures down; the rostering and
// gradebook need their scopes; a token ends with its hour, with a
// rotated secret and with its sandbox.
func TestSandboxOneRoster_Auth(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	key, secret := sb.Credentials[0].Key, sb.Credentials[0].Secret
	token := func(form url.Values, basic bool, ct string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/sandbox/oneroster/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", ct)
		if basic {
			req.SetBasicAuth(key, secret)
		}
		return doJSON(t, req)
	}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	const formType = "application/x-www-form-urlencoded"
	// client_secret_post, through the oauth2 library as a client sends it.
	cc := clientcredentials.Config{ClientID: key, ClientSecret: secret, TokenURL: sb.OneRoster.TokenURL,
		Scopes: []string{lrs.ScopeGradebookRead}, AuthStyle: oauth2.AuthStyleInParams}
	tk, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, http.DefaultClient))
	if err != nil || tk.Extra("scope") != lrs.ScopeGradebookRead || time.Until(tk.Expiry) < 59*time.Minute {
		t.Fatalf("client_secret_post: %+v, %v; want a token for gradebook.readonly valid for an hour", tk, err)
	}
	gradebookOnly := tk.AccessToken
	if code, _, _ := orGet(t, srv.Server, gradebookOnly, gradebookV1p2+"/lineItems"); code != http.StatusOK {
		t.Errorf("gradebook with its scope: %d", code)
	}
	if code, h, m := orGet(t, srv.Server, gradebookOnly, rosteringV1p2+"/users"); code != http.StatusForbidden || imsxMinor(m) != "forbidden" ||
		!strings.Contains(h.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("rostering with a gradebook token: %d %v %v, want 403 insufficient_scope", code, h, m)
	}
	rosterOnly := mustORToken(t, srv.Server, sb, oneroster.ScopeRosterCore)
	if code, _, _ := orGet(t, srv.Server, rosterOnly, gradebookV1p2+"/results"); code != http.StatusForbidden {
		t.Errorf("gradebook with a rostering token: %d, want 403", code)
	}

	for _, tc := range []struct {
		name       string
		form       url.Values
		basic      bool
		ct         string
		want       int
		err, names string
	}{
		{"no client", form("grant_type", "client_credentials"), false, formType, 401, "invalid_client", "client_secret_basic"},
		{"wrong secret in body", form("grant_type", "client_credentials", "client_id", key, "client_secret", "nope"), false, formType, 401, "invalid_client", "client_secret"},
		{"unknown client", form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", secret), false, formType, 401, "invalid_client", "client_id"},
		{"both ways", form("grant_type", "client_credentials", "client_id", key, "client_secret", secret), true, formType, 400, "invalid_request", "client_secret"},
		{"no grant_type", form("scope", lrs.ScopeGradebookRead), true, formType, 400, "invalid_request", "grant_type"},
		{"password grant", form("grant_type", "password"), true, formType, 400, "unsupported_grant_type", "grant_type"},
		{"write scope", form("grant_type", "client_credentials", "scope", oneroster.Scope), true, formType, 400, "invalid_scope", "gradebook.createput"},
		{"repeated scope", form("grant_type", "client_credentials", "scope", lrs.ScopeGradebookRead, "scope", lrs.ScopeGradebookRead), true, formType, 400, "invalid_request", "scope"},
		{"JSON body", form("grant_type", "client_credentials"), true, "application/json", 400, "invalid_request", "Content-Type"},
	} {
		code, m := token(tc.form, tc.basic, tc.ct)
		if desc, _ := m["error_description"].(string); code != tc.want || m["error"] != tc.err || !strings.Contains(desc, tc.names) {
			t.Errorf("%s: %d %v, want %d %s naming %s", tc.name, code, m, tc.want, tc.err, tc.names)
		}
	}
	if code, m := orToken(t, srv.Server, key, "wrong", ""); code != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Errorf("wrong secret in Basic: %d %v, want 401 invalid_client", code, m)
	}

	for _, tc := range []struct{ name, auth string }{
		{"no token", ""}, {"Basic", "Basic " + key}, {"not a token", "Bearer abc"},
		{"tampered", "Bearer " + strings.Replace(gradebookOnly, ".4.", ".7.", 1)},
	} {
		req, _ := http.NewRequest("GET", srv.URL+gradebookV1p2+"/lineItems", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		code, m := doJSON(t, req)
		if code != http.StatusUnauthorized || imsxMinor(m) != "unauthorisedrequest" {
			t.Errorf("%s: %d %v, want 401 unauthorisedrequest", tc.name, code, m)
		}
	}
	if !strings.Contains(gradebookOnly, ".4.") {
		t.Fatalf("token %s: want scope bits 4 for the tampering case", gradebookOnly)
	}

	// A token lives an hour.
	srv.setNow(time.Now().Add(lrs.SandboxTokenTTL + time.Minute))
	if code, _, m := orGet(t, srv.Server, gradebookOnly, gradebookV1p2+"/lineItems"); code != http.StatusUnauthorized || !strings.Contains(m["imsx_description"].(string), "expired") {
		t.Errorf("an expired token: %d %v, want 401 naming the expiry", code, m)
	}
	srv.setNow(time.Now())

	// Rotating the secret ends the tokens of the old one.
	tok := mustORToken(t, srv.Server, sb, "")
	var rotated lrs.CredentialJSON
	if err := json.Unmarshal(mustCall(t, srv.Server, "POST", "/admin/credentials/"+key+"/rotate", bearer, "", http.StatusOK), &rotated); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := orGet(t, srv.Server, tok, rosteringV1p2+"/users"); code != http.StatusUnauthorized {
		t.Errorf("a token of the secret before rotation: %d, want 401", code)
	}
	secret = rotated.Secret
	sb.Credentials[0].Secret = secret
	tok = mustORToken(t, srv.Server, sb, "")
	if code, _, _ := orGet(t, srv.Server, tok, rosteringV1p2+"/users"); code != http.StatusOK {
		t.Errorf("a token of the new secret: %d, want 200", code)
	}

	// Repeated failures are slowed down as the xAPI API's are; the
	// holder of the secret still gets in.
	var last int
	for range 8 {
		last, _ = orToken(t, srv.Server, key, "guess", "")
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after 8 wrong secrets: %d, want 429", last)
	}
	if code, _ := orToken(t, srv.Server, key, secret, ""); code != http.StatusOK {
		t.Errorf("the right secret after others' failures: %d, want 200", code)
	}

	// Deleting the sandbox ends its tokens.
	mustCall(t, srv.Server, "DELETE", "/admin/sandboxes/acme", bearer, "", http.StatusNoContent)
	if code, _, _ := orGet(t, srv.Server, tok, rosteringV1p2+"/users"); code != http.StatusUnauthorized {
		t.Errorf("a token of a deleted sandbox: %d, want 401", code)
	}
}

// TestSandboxOneRoster_Isolation: a sandbox's token reads its own
// sandbox only (its learners, its results), never another's; a credential
// of a tenant that is no sandbox gets no token.
func TestSandboxOneRoster_Isolation(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	acme, beta := mustCreateSandbox(t, srv.Server, "acme"), mustCreateSandbox(t, srv.Server, "beta")
	acmeTok, betaTok := mustORToken(t, srv.Server, acme, ""), mustORToken(t, srv.Server, beta, "")
	learner, li := beta.School.Learners[0], beta.School.LineItems[0]
	mustCall(t, srv.Server, "POST", "/xapi/statements", beta.Credentials[0].Key+":"+beta.Credentials[0].Secret,
		lrstest.SandboxStatement("0a8d3c4e-5f60-4718-92a3-b4c5d6e7f809", learner, li, 6, nil), http.StatusOK)
	// The same statement posted to acme with beta's learner makes no
	// result there: beta's learner is no learner of acme's school.
	mustCall(t, srv.Server, "POST", "/xapi/statements", acme.Credentials[0].Key+":"+acme.Credentials[0].Secret,
		lrstest.SandboxStatement("0a8d3c4e-5f60-4718-92a3-b4c5d6e7f80a", learner, li, 6, nil), http.StatusOK)

	accounts := func(tok string) map[string]bool {
		out := map[string]bool{}
		_, _, m := orGet(t, srv.Server, tok, rosteringV1p2+"/users")
		for _, u := range m["users"].([]any) {
			for _, id := range u.(map[string]any)["userIds"].([]any) {
				out[id.(map[string]any)["identifier"].(string)] = true
			}
		}
		return out
	}
	a, b := accounts(acmeTok), accounts(betaTok)
	for _, l := range acme.School.Learners {
		if !a[l.Account.Name] || b[l.Account.Name] {
			t.Errorf("acme's learner %s: in acme's users %v, in beta's %v; want only acme's", l.SourcedID, a[l.Account.Name], b[l.Account.Name])
		}
	}
	if a[learner.Account.Name] || !b[learner.Account.Name] {
		t.Errorf("beta's learner seen by acme's token")
	}
	if _, _, m := orGet(t, srv.Server, acmeTok, gradebookV1p2+"/results"); len(sourcedIDs(m, "results")) != 0 {
		t.Errorf("acme's results %v, want none", m)
	}
	_, _, m := orGet(t, srv.Server, betaTok, gradebookV1p2+"/results")
	ids := sourcedIDs(m, "results")
	if len(ids) != 1 {
		t.Fatalf("beta's results %v, want one", m)
	}
	if code, _, _ := orGet(t, srv.Server, acmeTok, gradebookV1p2+"/results/"+ids[0]); code != http.StatusNotFound {
		t.Errorf("beta's result by id with acme's token: %d, want 404", code)
	}

	// Revoking beta's credential ends beta's tokens, not acme's.
	mustCall(t, srv.Server, "POST", "/admin/credentials/"+beta.Credentials[0].Key+"/revoke", bearer, "", http.StatusOK)
	if code, _, _ := orGet(t, srv.Server, betaTok, rosteringV1p2+"/users"); code != http.StatusUnauthorized {
		t.Errorf("a token of a revoked credential: %d, want 401", code)
	}
	if code, _, _ := orGet(t, srv.Server, acmeTok, rosteringV1p2+"/users"); code != http.StatusOK {
		t.Errorf("acme's token after beta's revocation: %d, want 200", code)
	}

	// A credential of an ordinary tenant gets no token, and its tenant's
	// roster stays unread.
	mustCall(t, srv.Server, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	k, s, _ := strings.Cut(mustCreateCredential(t, srv.Server, "espoo", `{"scopes":["all"]}`), ":")
	if code, m := orToken(t, srv.Server, k, s, ""); code != http.StatusBadRequest || m["error"] != "unauthorized_client" ||
		!strings.Contains(m["error_description"].(string), "sandbox") {
		t.Errorf("token of a non-sandbox credential: %d %v, want 400 unauthorized_client", code, m)
	}
}

// TestSandboxOneRoster_Query: filter, sort and orderBy, and fields, as
// the OneRoster binding has them; X-Total-Count counts what the filter
// keeps and Link keeps the filter; a bad one is 400 naming the parameter
// with OneRoster's code.
func TestSandboxOneRoster_Query(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	tok := mustORToken(t, srv.Server, sb, "")
	cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
	for i, l := range sb.School.Learners[:3] {
		mustCall(t, srv.Server, "POST", "/xapi/statements", cred,
			lrstest.SandboxStatement(fmt.Sprintf("1b2c3d4e-5f60-4718-92a3-b4c5d6e7f80%d", i), l, sb.School.LineItems[0], float64(4+i), nil), http.StatusOK)
	}
	get := func(path string, q url.Values) (int, http.Header, map[string]any) {
		t.Helper()
		return orGet(t, srv.Server, tok, path+"?"+q.Encode())
	}
	for _, tc := range []struct {
		name, path string
		q          url.Values
		key        string
		want       []string
	}{
		{"nested role", rosteringV1p2 + "/users", url.Values{"filter": {"roles.role='teacher'"}}, "users", []string{"sandbox-teacher-1", "sandbox-teacher-2"}},
		{"contains, any case", rosteringV1p2 + "/users", url.Values{"filter": {"familyName~'OPETTAJA'"}}, "users", []string{"sandbox-teacher-1", "sandbox-teacher-2"}},
		{"AND", rosteringV1p2 + "/enrollments", url.Values{"filter": {"role='student' AND class.sourcedId='sandbox-class-8b'"}}, "enrollments",
			[]string{"enr-sandbox-class-8b-sandbox-learner-4", "enr-sandbox-class-8b-sandbox-learner-5", "enr-sandbox-class-8b-sandbox-learner-6"}},
		{"OR", rosteringV1p2 + "/users", url.Values{"filter": {"sourcedId='sandbox-learner-2' OR sourcedId='sandbox-teacher-1'"}}, "users", []string{"sandbox-teacher-1", "sandbox-learner-2"}},
		{"not equal", rosteringV1p2 + "/classes", url.Values{"filter": {"sourcedId!='sandbox-class-7a'"}}, "classes", []string{"sandbox-class-8b"}},
		{"a userId", rosteringV1p2 + "/users", url.Values{"filter": {"userIds.identifier='" + sb.School.Learners[5].LearnerNumber + "'"}}, "users", []string{"sandbox-learner-6"}},
		{"numbers", gradebookV1p2 + "/results", url.Values{"filter": {"score>='5'"}, "sort": {"score"}, "orderBy": {"desc"}}, "results", nil},
		{"numbers, below", gradebookV1p2 + "/lineItems", url.Values{"filter": {"resultValueMax<'15'"}}, "lineItems", []string{"sandbox-class-7a-lineitem-1", "sandbox-class-8b-lineitem-1"}},
		{"sort desc", rosteringV1p2 + "/users", url.Values{"sort": {"sourcedId"}, "orderBy": {"desc"}, "limit": {"3"}}, "users", []string{"sandbox-teacher-2", "sandbox-teacher-1", "sandbox-learner-6"}},
		{"sort asc", rosteringV1p2 + "/classes", url.Values{"sort": {"title"}}, "classes", []string{"sandbox-class-7a", "sandbox-class-8b"}},
	} {
		code, h, m := get(tc.path, tc.q)
		got := sourcedIDs(m, tc.key)
		if tc.want == nil { // the results scored 5 and 6, highest first
			var scores []float64
			for _, r := range m["results"].([]any) {
				scores = append(scores, r.(map[string]any)["score"].(float64))
			}
			if code != http.StatusOK || !reflect.DeepEqual(scores, []float64{6, 5}) || h.Get("X-Total-Count") != "2" {
				t.Errorf("%s: %d %v %v, want scores [6 5]", tc.name, code, h, m)
			}
			continue
		}
		if code != http.StatusOK || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %d %v, want %v", tc.name, code, m, tc.want)
		}
	}
	// The count is of what the filter keeps; the links keep the filter.
	code, h, m := get(rosteringV1p2+"/users", url.Values{"filter": {"roles.role='student'"}, "limit": {"4"}})
	if code != http.StatusOK || h.Get("X-Total-Count") != "6" || len(sourcedIDs(m, "users")) != 4 ||
		!strings.Contains(h.Get("Link"), "filter=roles.role%3D%27student%27&limit=4&offset=4>; rel=\"next\"") {
		t.Errorf("filtered page: %d %v %v, want 4 of 6 and a next link with the filter", code, h, m)
	}
	// fields selects, in lists and single records.
	_, _, m = get(rosteringV1p2+"/users", url.Values{"fields": {"sourcedId, givenName"}, "limit": {"1"}})
	if u := m["users"].([]any)[0].(map[string]any); len(u) != 2 || u["sourcedId"] != "sandbox-teacher-1" || u["givenName"] != "Testi" {
		t.Errorf("fields=sourcedId,givenName: %v", u)
	}
	_, _, m = get(rosteringV1p2+"/classes/sandbox-class-7a", url.Values{"fields": {"title"}})
	if c := m["class"].(map[string]any); len(c) != 1 || c["title"] != sb.School.Classes[0].Title {
		t.Errorf("a class with fields=title: %v", c)
	}

	for _, tc := range []struct {
		name  string
		q     url.Values
		param string
		minor string
	}{
		{"unknown filter field", url.Values{"filter": {"shoeSize='42'"}}, "filter", "invalid_filter_field"},
		{"no operator", url.Values{"filter": {"givenName 'Testi'"}}, "filter", "invalid_filter_field"},
		{"no quotes", url.Values{"filter": {"givenName=Testi"}}, "filter", "invalid_filter_field"},
		{"no closing quote", url.Values{"filter": {"givenName='Testi"}}, "filter", "invalid_filter_field"},
		{"AND and OR", url.Values{"filter": {"givenName='a' AND givenName='b' OR givenName='c'"}}, "filter", "invalid_filter_field"},
		{"not a logical operator", url.Values{"filter": {"givenName='a' XOR givenName='b'"}}, "filter", "invalid_filter_field"},
		{"too many", url.Values{"filter": {strings.Repeat("givenName='a' OR ", 8) + "givenName='a'"}}, "filter", "invalid_filter_field"},
		{"unknown sort", url.Values{"sort": {"shoeSize"}}, "sort", "invalid_sort_field"},
		{"orderBy", url.Values{"sort": {"givenName"}, "orderBy": {"up"}}, "orderBy", "invaliddata"},
		{"orderBy alone", url.Values{"orderBy": {"asc"}}, "orderBy", "invalid_sort_field"},
		{"unknown field", url.Values{"fields": {"sourcedId,shoeSize"}}, "fields", "invalid_selection_field"},
		{"blank field", url.Values{"fields": {"sourcedId,,givenName"}}, "fields", "invalid_blank_selection_field"},
		{"long", url.Values{"filter": {"givenName='" + strings.Repeat("a", 1100) + "'"}}, "filter", "invaliddata"},
	} {
		code, _, m := get(rosteringV1p2+"/users", tc.q)
		if desc, _ := m["imsx_description"].(string); code != http.StatusBadRequest || !strings.HasPrefix(desc, tc.param+":") || imsxMinor(m) != tc.minor {
			t.Errorf("%s: %d %v, want 400 %s naming %s", tc.name, code, m, tc.minor, tc.param)
		}
	}
}

// TestSandboxOneRoster_Hrefs: every reference (GUIDRef) in every record
// the provider serves leads, with the same token, to the record it names.
func TestSandboxOneRoster_Hrefs(t *testing.T) {
	srv := mustOpenSandboxORServer(t)
	sb := mustCreateSandbox(t, srv.Server, "acme")
	tok := mustORToken(t, srv.Server, sb, "")
	mustCall(t, srv.Server, "POST", "/xapi/statements", sb.Credentials[0].Key+":"+sb.Credentials[0].Secret,
		lrstest.SandboxStatement("2c3d4e5f-6071-4829-a3b4-c5d6e7f8091a", sb.School.Learners[0], sb.School.LineItems[1], 12, nil), http.StatusOK)
	var refs []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["href"]; ok && len(x) == 3 {
				refs = append(refs, x)
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, path := range []string{rosteringV1p2 + "/orgs", rosteringV1p2 + "/classes", rosteringV1p2 + "/users", rosteringV1p2 + "/enrollments",
		rosteringV1p2 + "/courses", rosteringV1p2 + "/academicSessions", rosteringV1p2 + "/terms",
		gradebookV1p2 + "/lineItems", gradebookV1p2 + "/categories", gradebookV1p2 + "/results"} {
		code, _, m := orGet(t, srv.Server, tok, path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, m)
		}
		walk(m)
	}
	seen := map[string]bool{}
	for _, r := range refs {
		href := r["href"].(string)
		if seen[href] {
			continue
		}
		seen[href] = true
		path, ok := strings.CutPrefix(href, srv.URL)
		if !ok {
			t.Errorf("href %s is not the provider's", href)
			continue
		}
		code, _, m := orGet(t, srv.Server, tok, path)
		rec, _ := m[r["type"].(string)].(map[string]any)
		if code != http.StatusOK || rec == nil || rec["sourcedId"] != r["sourcedId"] {
			t.Errorf("GET %s (a %s): %d %v, want {%q: {sourcedId %q}}", href, r["type"], code, m, r["type"], r["sourcedId"])
		}
	}
	for _, typ := range []string{"org", "class", "user", "course", "academicSession", "lineItem", "category"} {
		n := 0
		for _, r := range refs {
			if r["type"] == typ {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no reference to a %s followed", typ)
		}
	}
}

// BenchmarkSandboxOneRoster measures a read of the provider: a page of
// users (the token's check, the seed) and the results of a sandbox with
// 1,000 gradebook-bound statements (the sandbox gradebook read whole).
func BenchmarkSandboxOneRoster(b *testing.B) {
	srv := mustOpenSandboxORServer(b)
	sb := mustCreateSandbox(b, srv.Server, "acme")
	cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
	for batch := range 10 {
		var stmts []string
		for i := range 100 {
			n := batch*100 + i
			stmts = append(stmts, lrstest.SandboxStatement(fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
				sb.School.Learners[n%6], sb.School.LineItems[(n/6)%4], float64(n%10), nil))
		}
		mustCall(b, srv.Server, "POST", "/xapi/statements", cred, "["+strings.Join(stmts, ",")+"]", http.StatusOK)
	}
	tok := mustORToken(b, srv.Server, sb, "")
	for _, bc := range []struct{ name, path string }{
		{"users", rosteringV1p2 + "/users"},
		{"results", gradebookV1p2 + "/results"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if code, _, _ := orGet(b, srv.Server, tok, bc.path); code != http.StatusOK {
					b.Fatalf("GET %s: %d", bc.path, code)
				}
			}
		})
	}
}
