package lrs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

const mpassHome = "https://mpass-proxy.csc.fi"

// stalledAfter is how long a student of peopleServer's class may be quiet
// before they are stalled.
const stalledAfter = 1500 * time.Millisecond

// mpassAgents is the identity rule at its plainest: a roster user is the
// MPASSid account named by their sourcedId; u3 is also "u3-alias".
type mpassAgents struct{}

func (mpassAgents) Agents(_ context.Context, _, sourcedID string) ([]string, error) {
	names := []string{sourcedID}
	if sourcedID == "u3" {
		names = append(names, "u3-alias")
	}
	var keys []string
	for _, n := range names {
		a := statements.Actor{Account: &statements.Account{HomePage: mpassHome, Name: n}}
		keys = append(keys, a.Key())
	}
	return keys, nil
}

// peopleServer serves the people API over a store with one class (7A:
// teacher k1; students u1, u2, u3; and 7B) where a student is stalled
// after stalledAfter, and returns its URL, the store and the test
// provider.
func peopleServer(t *testing.T) (string, *sqlitestore.Store, *oidctest.Provider) {
	t.Helper()
	store := openClassStore(t, map[string][2]string{}, statements.RosterClass{SourcedID: "7B", Title: "7B", School: "s1"})
	api := &lrs.PeopleAPI{
		LineItems: func(_ context.Context, _, class string) ([]string, error) {
			return []string{"https://app.test/fractions-1", "https://app.test/fractions-2"}, nil
		},
		StalledAfter: func(context.Context, string) time.Duration { return stalledAfter },
		Heartbeat:    100 * time.Millisecond,
	}
	base, op := servePeople(t, store, api, func(h http.Handler) http.Handler { return withContract(t, h) })
	return base, store, op
}

// openClassStore returns a store with the default tenant's test
// credential and a roster of school s1: class 7A "Matematiikka 7A"
// (teacher k1; students u1, u2, u3) and the class other (student u4).
// names gives users' given and family names; "Given-ID" and "Family-ID"
// where it has none.
func openClassStore(t *testing.T, names map[string][2]string, other statements.RosterClass) *sqlitestore.Store {
	t.Helper()
	ctx := t.Context()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	roster := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond),
		Orgs:    []statements.RosterOrg{{SourcedID: "s1", Name: "Koulu", Type: "school"}},
		Classes: []statements.RosterClass{{SourcedID: "7A", Title: "Matematiikka 7A", ClassCode: "MA7A", School: "s1"}, other},
	}
	for _, u := range []struct{ id, role string }{{"k1", "teacher"}, {"u1", "student"}, {"u2", "student"}, {"u3", "student"}, {"u4", "student"}} {
		name, ok := names[u.id]
		if !ok {
			name = [2]string{"Given-" + u.id, "Family-" + u.id}
		}
		roster.Users = append(roster.Users, statements.RosterUser{SourcedID: u.id, GivenName: name[0], FamilyName: name[1],
			Roles: []statements.RosterRole{{Role: u.role, Org: "s1"}}, Orgs: []string{"s1"}, Identities: []string{u.id}})
		class := "7A"
		if u.id == "u4" {
			class = other.SourcedID
		}
		roster.Enrollments = append(roster.Enrollments, statements.Enrollment{SourcedID: class + u.id, Class: class, User: u.id, Role: u.role})
	}
	if err := store.ReplaceRoster(ctx, lrs.DefaultTenant, roster); err != nil {
		t.Fatal(err)
	}
	return store
}

// servePeople serves the people API over store, with api's roster rule
// over the store, mpassAgents, and people signed in by a test provider in
// the default tenant; wrap, if set, wraps the server's handler. It returns
// the server's URL and the provider.
func servePeople(tb testing.TB, store *sqlitestore.Store, api *lrs.PeopleAPI, wrap func(http.Handler) http.Handler) (string, *oidctest.Provider) {
	tb.Helper()
	op := oidctest.Start(tb)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	svc, err := signin.New(signin.Config{Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret, PublicURL: srv.URL,
		Tenant: func(context.Context, string) (string, error) { return lrs.DefaultTenant, nil }})
	if err != nil {
		tb.Fatal(err)
	}
	if err := svc.Discover(context.Background()); err != nil {
		tb.Fatal(err)
	}
	api.Rule = &people.Rule{Roster: store}
	api.Agents = mpassAgents{}
	api.Viewer = func(c *gin.Context) (people.Viewer, bool) {
		p := signin.PersonOf(c)
		if p == nil {
			return people.Viewer{}, false
		}
		return people.Viewer{Tenant: p.Tenant, Person: p.ID, Role: people.Role(p.Role())}, true
	}
	h = lrs.New(lrs.Config{Store: store, Admin: store, People: svc, PeopleAPI: api})
	if wrap != nil {
		h = wrap(h)
	}
	return srv.URL, op
}

// walkIDs follows the more links from path and returns the ids of the
// statements of every page.
func walkIDs(t *testing.T, base, path, token string) []string {
	t.Helper()
	var ids []string
	for pages := 0; path != "" && pages < 20; pages++ {
		var page struct {
			Statements []struct{ ID string }
			More       string
		}
		if code := getJSON(t, base+path, token, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		for _, s := range page.Statements {
			ids = append(ids, s.ID)
		}
		path = page.More
	}
	return ids
}

// personToken returns a bearer ID token of person with the MPASSid role
// code.
func personToken(t *testing.T, op *oidctest.Provider, person, role string) string {
	return op.Token(t, map[string]any{"urn:mpass.id:uid": person, "urn:mpass.id:role": "Espoo;00001;7A;" + role,
		"urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
}

func postAs(t *testing.T, base, actor, verb, object string, scaled float64) string {
	t.Helper()
	body := fmt.Sprintf(`{"actor":{"account":{"homePage":%q,"name":%q}},"verb":{"id":"http://adlnet.gov/expapi/verbs/%s"},
		"object":{"id":%q},"result":{"score":{"scaled":%g}}}`, mpassHome, actor, verb, object, scaled)
	req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(body))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ids []string
	if err := json.NewDecoder(res.Body).Decode(&ids); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %v", res.StatusCode, err)
	}
	return ids[0]
}

func putDoc(t *testing.T, base, path, contentType, body string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", base+path, strings.NewReader(body))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("If-None-Match", "*")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT %s: %d", path, res.StatusCode)
	}
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return res.StatusCode
}

// TestServer_PeopleAPI checks what the people API answers: a class's
// overview with its counts and statuses, a student's statements paged and
// filtered, a learner's own, the class stream, and the refusals.
func TestServer_PeopleAPI(t *testing.T) {
	base, store, op := peopleServer(t)
	teacher := personToken(t, op, "k1", "2")
	learner := personToken(t, op, "u1", "1")

	// u1 completes both line items; u2 passes one and goes quiet; u3
	// does nothing. k1's statement names no student.
	postAs(t, base, "u1", "completed", "https://app.test/fractions-1", 0.9)
	postAs(t, base, "u1", "passed", "https://app.test/fractions-2", 0.7)
	postAs(t, base, "u2", "failed", "https://app.test/fractions-1", 0.2)
	postAs(t, base, "k1", "completed", "https://app.test/fractions-1", 1)
	time.Sleep(stalledAfter + 100*time.Millisecond)
	before := time.Now()
	newest := postAs(t, base, "u1", "experienced", "https://app.test/video", 0.5)

	t.Run("Overview", func(t *testing.T) {
		var ov struct {
			Class    struct{ SourcedID, Title string }
			Students []people.Row
		}
		if code := getJSON(t, base+"/api/classes/7A/overview", teacher, &ov); code != http.StatusOK {
			t.Fatalf("overview: %d", code)
		}
		if ov.Class.Title != "Matematiikka 7A" || len(ov.Students) != 3 {
			t.Fatalf("overview: %+v", ov)
		}
		want := map[string]struct {
			n, completed, passed, failed int
			mean                         float64
			status                       string
		}{
			"u1": {3, 1, 1, 0, (0.9 + 0.7 + 0.5) / 3, people.StatusCompleted},
			"u2": {1, 0, 0, 1, 0.2, people.StatusStalled},
			"u3": {0, 0, 0, 0, 0, people.StatusNotStarted},
		}
		for _, r := range ov.Students {
			w := want[r.SourcedID]
			mean := 0.0
			if r.MeanScaled != nil {
				mean = *r.MeanScaled
			}
			if r.Statements != w.n || r.Completed != w.completed || r.Passed != w.passed || r.Failed != w.failed ||
				fmt.Sprintf("%.3f", mean) != fmt.Sprintf("%.3f", w.mean) || r.Status != w.status || r.GivenName != "Given-"+r.SourcedID {
				t.Errorf("row %s: %+v, want %+v", r.SourcedID, r, w)
			}
		}
		var since struct{ Students []people.Row }
		getJSON(t, base+"/api/classes/7A/overview?since="+before.Add(-5*time.Millisecond).UTC().Format(time.RFC3339Nano), teacher, &since)
		for _, r := range since.Students {
			if r.SourcedID == "u1" && (r.Statements != 1 || r.Status != people.StatusActive) {
				t.Errorf("since: %+v, want 1 statement, active", r)
			}
		}
	})

	t.Run("StudentStatements", func(t *testing.T) {
		ids := walkIDs(t, base, "/api/classes/7A/students/u1/statements?limit=1", teacher)
		if len(ids) != 3 || ids[0] != newest {
			t.Errorf("u1's statements by pages of 1: %v, want 3, newest %s first", ids, newest)
		}
		var page struct{ Statements []json.RawMessage }
		getJSON(t, base+"/api/classes/7A/students/u1/statements?verb="+"http://adlnet.gov/expapi/verbs/passed", teacher, &page)
		if len(page.Statements) != 1 {
			t.Errorf("u1's passed statements: %d, want 1", len(page.Statements))
		}
	})

	t.Run("Mine", func(t *testing.T) {
		var page struct{ Statements []json.RawMessage }
		if code := getJSON(t, base+"/api/me/statements", learner, &page); code != http.StatusOK || len(page.Statements) != 3 {
			t.Errorf("u1's own statements: %d, %d of them, want 3", code, len(page.Statements))
		}
		if code := getJSON(t, base+"/api/me/statements", teacher, nil); code != http.StatusForbidden {
			t.Errorf("a teacher's own statements: %d, want 403", code)
		}
		agentOf := func(name string) string {
			return url.QueryEscape(fmt.Sprintf(`{"account":{"homePage":%q,"name":%q}}`, mpassHome, name))
		}
		putDoc(t, base, "/xapi/activities/state?activityId=https%3A%2F%2Fapp.test%2Fa&stateId=progress&agent="+agentOf("u1"), "application/json", `{"page":3}`)
		putDoc(t, base, "/xapi/agents/profile?profileId=settings&agent="+agentOf("u1"), "text/plain", "dark mode")
		putDoc(t, base, "/xapi/activities/state?activityId=https%3A%2F%2Fapp.test%2Fa&stateId=progress&agent="+agentOf("u2"), "application/json", `{"page":9}`)
		var export struct {
			SourcedID  string
			Statements []struct {
				Actor struct{ Account struct{ Name string } }
			}
			Documents []struct {
				Kind, ID string
				JSON     json.RawMessage
				Base64   []byte
			}
		}
		if code := getJSON(t, base+"/api/me/export", learner, &export); code != http.StatusOK || export.SourcedID != "u1" || len(export.Statements) != 3 {
			t.Errorf("u1's export: %d %+v, want u1's 3 statements", code, export)
		}
		if d := export.Documents; len(d) != 2 || string(d[0].Base64) != "dark mode" || string(d[1].JSON) != `{"page":3}` {
			t.Errorf("u1's exported documents: %+v, want the agent profile and the state", d)
		}
		for _, st := range export.Statements {
			if st.Actor.Account.Name != "u1" {
				t.Errorf("u1's export holds a statement of %q", st.Actor.Account.Name)
			}
		}
		if code := getJSON(t, base+"/api/me/export", teacher, nil); code != http.StatusForbidden {
			t.Errorf("a teacher's export: %d, want 403", code)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, tt := range []struct {
			path, token string
			want        int
		}{
			{"/api/classes/7B/overview", teacher, http.StatusNotFound},                        // not k1's class
			{"/api/classes/7A/students/u4/statements", teacher, http.StatusNotFound},          // not in 7A
			{"/api/classes/7A/students/k1/statements", teacher, http.StatusNotFound},          // no student
			{"/api/classes/7A/overview", learner, http.StatusNotFound},                        // learners see no classes
			{"/api/classes/7A/students/u1/statements", learner, http.StatusNotFound},          // not even their own
			{"/api/classes/7A/overview?since=yesterday", teacher, http.StatusBadRequest},      // names the parameter
			{"/api/classes/7A/students/u1/statements?more=x", teacher, http.StatusBadRequest}, // not a token
			{"/api/classes/7A/students/u1/statements?verb=passed", teacher, http.StatusBadRequest},
			{"/api/classes/7A/overview", "", http.StatusUnauthorized},
		} {
			if code := getJSON(t, base+tt.path, tt.token, nil); code != tt.want {
				t.Errorf("GET %s: %d, want %d", tt.path, code, tt.want)
			}
		}
		var classes struct{ Classes []struct{ SourcedID string } }
		getJSON(t, base+"/api/classes", teacher, &classes)
		if len(classes.Classes) != 1 || classes.Classes[0].SourcedID != "7A" {
			t.Errorf("k1's classes: %+v, want 7A", classes)
		}
	})

	t.Run("SeveralAccounts", func(t *testing.T) {
		// Pages of one merge the statements of all of a student's accounts,
		// newest first, each once.
		var want []string
		for i := range 5 {
			want = append([]string{postAs(t, base, []string{"u3", "u3-alias"}[i%2], "experienced", "https://app.test/x", 0)}, want...)
		}
		got := walkIDs(t, base, "/api/classes/7A/students/u3/statements?limit=2", teacher)
		if !slices.Equal(got, want) {
			t.Errorf("u3's statements: %v, want %v", got, want)
		}
	})

	t.Run("Stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/classes/7A/stream", nil)
		req.Header.Set("Authorization", "Bearer "+teacher)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(res.Body)
		sc.Scan()                                                   // the opening comment
		postAs(t, base, "u4", "completed", "https://app.test/x", 1) // 7B: not k1's
		id := postAs(t, base, "u2", "completed", "https://app.test/x", 1)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				if !strings.Contains(data, id) {
					t.Errorf("first statement streamed: %s, want %s", data, id)
				}
				break
			}
		}
		// A roster change ends the stream with a reset.
		roster := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond),
			Orgs:        []statements.RosterOrg{{SourcedID: "s1", Type: "school"}},
			Users:       []statements.RosterUser{{SourcedID: "k1", Identities: []string{"k1"}}, {SourcedID: "u1", Identities: []string{"u1"}}},
			Classes:     []statements.RosterClass{{SourcedID: "7A", School: "s1"}},
			Enrollments: []statements.Enrollment{{SourcedID: "e1", Class: "7A", User: "k1", Role: "teacher"}, {SourcedID: "e2", Class: "7A", User: "u1", Role: "student"}}}
		if err := store.ReplaceRoster(ctx, lrs.DefaultTenant, roster); err != nil {
			t.Fatal(err)
		}
		reset := false
		for sc.Scan() {
			if sc.Text() == "event: reset" {
				reset = true
				break
			}
		}
		if !reset {
			t.Error("the stream did not reset after the class's roster changed")
		}
	})

	t.Run("TooManyStreams", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		open := func() int {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/classes/7A/stream", nil)
			req.Header.Set("Authorization", "Bearer "+teacher)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { res.Body.Close() })
			return res.StatusCode
		}
		for i := range 4 {
			if code := open(); code != http.StatusOK {
				t.Fatalf("stream %d: %d", i+1, code)
			}
		}
		if code := open(); code != http.StatusTooManyRequests {
			t.Errorf("a fifth stream of one teacher: %d, want 429", code)
		}
		if code := getJSON(t, base+"/api/classes", teacher, nil); code != http.StatusOK {
			t.Errorf("a read beside four streams: %d, want 200", code)
		}
	})

	t.Run("DisabledTenant", func(t *testing.T) {
		tn, err := store.Tenant(t.Context(), lrs.DefaultTenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.Disabled = true
		if err := store.UpdateTenant(t.Context(), *tn); err != nil {
			t.Fatal(err)
		}
		if code := getJSON(t, base+"/api/classes", teacher, nil); code != http.StatusForbidden {
			t.Errorf("a disabled tenant's teacher: %d, want 403", code)
		}
	})
}
