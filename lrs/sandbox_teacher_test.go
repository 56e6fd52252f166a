package lrs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/statements/sqlitestore"
)

// mustOpenSandboxPeopleServer serves the LRS with the admin API and the
// pages for people, on a sign-in service with no identity provider: the
// only people are a sandbox's test people.
func mustOpenSandboxPeopleServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := signin.New(signin.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	ids := &oneroster.Identities{Admin: &oneroster.Admin{Store: store}, Roster: store}
	api := &lrs.PeopleAPI{Rule: &people.Rule{Roster: store}, Agents: ids, LineItems: ids.LineItems,
		Viewer: func(c *gin.Context) (people.Viewer, bool) {
			p := signin.PersonOf(c)
			if p == nil {
				return people.Viewer{}, false
			}
			return people.Viewer{Tenant: p.Tenant, Person: p.ID, Role: people.Role(p.Role())}, true
		}}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, LoginPause: 10 * time.Millisecond,
		People: svc, PeopleAPI: api}))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// openAs posts the vendor page's "open" form for person with the HTTP
// Basic credential cred ("key:secret") and the given Origin and
// Sec-Fetch-Site ("" for none), on client, which keeps cookies and does
// not follow redirects.
func openAs(tb testing.TB, client *http.Client, srv *httptest.Server, cred, person, origin, site string) (*http.Response, string) {
	tb.Helper()
	form := url.Values{"person": {person}, "lang": {"en"}}
	req, _ := http.NewRequest("POST", srv.URL+"/ui/sandbox/open", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if k, s, ok := strings.Cut(cred, ":"); ok {
		req.SetBasicAuth(k, s)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestSandbox_TeacherView: from the vendor page, the vendor opens the
// teacher view as a test teacher and sees its statements in the test
// class as a teacher does, through the roster rule: the teacher's class
// and no other, in this sandbox only. Only a form of the page itself,
// with the sandbox's credential, may open it; real sign-in is not there
// (no identity provider) and a sandbox takes no identity values.
func TestSandbox_TeacherView(t *testing.T) {
	srv := mustOpenSandboxPeopleServer(t)
	var acme, beta lrs.SandboxJSON
	for _, sb := range []struct {
		v   string
		out *lrs.SandboxJSON
	}{{"acme", &acme}, {"beta", &beta}} {
		if err := json.Unmarshal(mustCall(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"`+sb.v+`"}`, http.StatusCreated), sb.out); err != nil {
			t.Fatal(err)
		}
	}
	cred := acme.Credentials[0].Key + ":" + acme.Credentials[0].Secret
	learner, li := acme.School.Learners[0], acme.School.LineItems[0]
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement("6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f11", learner, li, 7, nil), http.StatusOK)
	betaCred := beta.Credentials[0].Key + ":" + beta.Credentials[0].Secret
	mustCall(t, srv, "POST", "/xapi/statements", betaCred,
		lrstest.SandboxStatement("6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f12", beta.School.Learners[0], beta.School.LineItems[0], 9, nil), http.StatusOK)
	teacher := acme.School.Teachers[0] // teaches Classes[0], learners 1-3
	if teacher.Classes[0] != learner.Classes[0] {
		t.Fatalf("seed: teacher 1 teaches %v, learner 1 is in %v", teacher.Classes, learner.Classes)
	}

	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(t *testing.T, client *http.Client, path string) (int, string) {
		t.Helper()
		res, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	t.Run("PageOffersIt", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?lang=en", cred)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		for _, want := range []string{`<table id="sandbox-teachers">`, teacher.Name, `action="/ui/sandbox/open"`,
			`name="person" value="` + teacher.SourcedID + `"`, "Open the teacher view as " + teacher.Name} {
			if !strings.Contains(body, want) {
				t.Errorf("the vendor page lacks %q", want)
			}
		}
	})

	t.Run("Teacher", func(t *testing.T) {
		client := newClient()
		res, body := openAs(t, client, srv, cred, teacher.SourcedID, srv.URL, "same-origin")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/?lang=en" {
			t.Fatalf("open: %d %q %s, want 303 to /ui/", res.StatusCode, res.Header.Get("Location"), body)
		}
		code, body := get(t, client, "/api/me")
		var me struct{ Tenant, Person, Role string }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil || me.Tenant != acme.Tenant || me.Role != "teacher" || me.Person != teacher.Account.Name {
			t.Fatalf("/api/me: %d %s, want the test teacher in %s", code, body, acme.Tenant)
		}
		code, body = get(t, client, "/ui/classes/"+teacher.Classes[0]+"?lang=en")
		if code != http.StatusOK {
			t.Fatalf("the teacher's class: %d %s", code, body)
		}
		for _, l := range acme.School.Learners {
			in := l.Classes[0] == teacher.Classes[0]
			if strings.Contains(body, l.Name) != in {
				t.Errorf("%s (class %s) shown: %t, want %t", l.Name, l.Classes[0], !in, in)
			}
		}
		var ov struct {
			Students []struct {
				SourcedID  string `json:"sourcedId"`
				Statements int    `json:"statements"`
			} `json:"students"`
		}
		code, body = get(t, client, "/api/classes/"+teacher.Classes[0]+"/overview")
		if code != http.StatusOK || json.Unmarshal([]byte(body), &ov) != nil {
			t.Fatalf("overview: %d %s", code, body)
		}
		found := false
		for _, s := range ov.Students {
			if s.SourcedID == learner.SourcedID {
				found = s.Statements == 1
			}
		}
		if !found {
			t.Errorf("overview: %s, want learner 1 with the vendor's statement", body)
		}
		code, body = get(t, client, "/api/classes/"+teacher.Classes[0]+"/students/"+learner.SourcedID+"/statements")
		if code != http.StatusOK || !strings.Contains(body, "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f11") || strings.Contains(body, "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f12") {
			t.Errorf("learner 1's statements: %d %s, want acme's statement and not beta's", code, body)
		}
		if code, _ := get(t, client, "/ui/classes/"+acme.School.Classes[1].SourcedID); code != http.StatusNotFound {
			t.Errorf("the other class: %d, want 404", code)
		}
	})

	t.Run("Learner", func(t *testing.T) {
		client := newClient()
		res, _ := openAs(t, client, srv, cred, learner.SourcedID, srv.URL, "")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/me?lang=en" {
			t.Fatalf("open: %d %q, want 303 to /ui/me", res.StatusCode, res.Header.Get("Location"))
		}
		code, body := get(t, client, "/api/me/statements")
		if code != http.StatusOK || !strings.Contains(body, "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f11") {
			t.Errorf("/api/me/statements: %d %s", code, body)
		}
		if code, _ := get(t, client, "/ui/classes/"+learner.Classes[0]); code == http.StatusOK {
			t.Errorf("a learner reads the class page")
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, c := range []struct {
			name, cred, person, origin, site string
			status                           int
		}{
			{"NoCredential", "", teacher.SourcedID, srv.URL, "same-origin", http.StatusUnauthorized},
			{"WrongSecret", acme.Credentials[0].Key + ":wrong", teacher.SourcedID, srv.URL, "same-origin", http.StatusUnauthorized},
			{"CrossSite", cred, teacher.SourcedID, "https://evil.example", "cross-site", http.StatusForbidden},
			{"OtherOrigin", cred, teacher.SourcedID, "https://evil.example", "", http.StatusForbidden},
			{"UnknownPerson", cred, "sandbox-teacher-9", srv.URL, "same-origin", http.StatusBadRequest},
		} {
			client := newClient()
			res, body := openAs(t, client, srv, c.cred, c.person, c.origin, c.site)
			if res.StatusCode != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.StatusCode, body, c.status)
			}
			for _, ck := range res.Cookies() {
				if ck.Name == signin.DefaultCookieName {
					t.Errorf("%s: a session cookie was set", c.name)
				}
			}
		}
		mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"koulu"}`, http.StatusCreated)
		other := mustCreateCredential(t, srv, "koulu", `{"scopes":["all"]}`)
		if res, body := openAs(t, newClient(), srv, other, teacher.SourcedID, srv.URL, "same-origin"); res.StatusCode != http.StatusForbidden {
			t.Errorf("a school's credential: %d %s, want 403", res.StatusCode, body)
		}
	})

	t.Run("NoProviderSignIn", func(t *testing.T) {
		code, body := get(t, newClient(), "/auth/login?return=/ui/")
		if code != http.StatusNotFound || !strings.Contains(body, "no identity provider") {
			t.Errorf("/auth/login: %d %s, want 404 saying there is no identity provider", code, body)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer x.y.z")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a bearer token: %d, want 401", res.StatusCode)
		}
	})

	t.Run("NoIdentityValues", func(t *testing.T) {
		body := string(mustCall(t, srv, "PATCH", "/admin/tenants/"+acme.Tenant, bearer, `{"identityValues":["1.2.246.562.10.00000000001"]}`, http.StatusBadRequest))
		if !strings.Contains(body, "identityValues") {
			t.Errorf("%s, want the field named", body)
		}
	})
}
