package browsertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/browsertest"
	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// The xAPI credential of the test LRS's tenant, and MPASSid's account
// home page of learners' statements.
const (
	testKey    = "browser-key"
	testSecret = "browser-secret-browser-secret"
	mpassHome  = "https://mpass-proxy.csc.fi"
)

// Activities with a line item in class 7A: the overview counts them.
const (
	fractions1 = "https://app.test/fractions-1"
	fractions2 = "https://app.test/fractions-2"
)

// testLRS is a real LRS on a loopback port: the embedded store in a
// temporary directory, sign-in through an in-process OpenID Connect
// provider, and the tenant's roster of school s1:
//
//	7A "Matematiikka 7A": teacher k1 (Kaisa Opettaja); students u1 Aino Aaltonen, u2 Bertil Berg, u3 Cecilia Salo
//	7B "Historia 7B":     teacher k2 (Kalle Kivi);     student u4 Ville Virtanen
type testLRS struct {
	URL   string
	OP    *oidctest.Provider
	Store *sqlitestore.Store
}

// users of the roster: sourcedId, given and family name, role, class.
var users = []struct{ id, given, family, role, class string }{
	{"k1", "Kaisa", "Opettaja", "teacher", "7A"},
	{"k2", "Kalle", "Kivi", "teacher", "7B"},
	{"u1", "Aino", "Aaltonen", "student", "7A"},
	{"u2", "Bertil", "Berg", "student", "7A"},
	{"u3", "Cecilia", "Salo", "student", "7A"},
	{"u4", "Ville", "Virtanen", "student", "7B"},
}

// mpassAgents is the identity rule of the test rosters: a roster user is
// the MPASSid accounts named by their sourcedId and their identities.
type mpassAgents struct{ roster statements.RosterStore }

func (m mpassAgents) Agents(ctx context.Context, tenant, sourcedID string) ([]string, error) {
	names := []string{sourcedID}
	if u, err := m.roster.RosterUser(ctx, tenant, sourcedID); err == nil {
		names = append(names, u.Identities...)
	}
	var keys []string
	for _, n := range names {
		a := statements.Actor{Account: &statements.Account{HomePage: mpassHome, Name: n}}
		keys = append(keys, a.Key())
	}
	return keys, nil
}

// startLRS starts the test LRS; it stops when the test ends.
func startLRS(t *testing.T) *testLRS {
	t.Helper()
	browsertest.Start(t)
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
		Orgs: []statements.RosterOrg{{SourcedID: "s1", Name: "Koulu", Type: "school"}},
		Classes: []statements.RosterClass{
			{SourcedID: "7A", Title: "Matematiikka 7A", ClassCode: "MA7A", School: "s1"},
			{SourcedID: "7B", Title: "Historia 7B", ClassCode: "HI7B", School: "s1"},
		},
	}
	for _, u := range users {
		roster.Users = append(roster.Users, statements.RosterUser{SourcedID: u.id, GivenName: u.given, FamilyName: u.family,
			Roles: []statements.RosterRole{{Role: u.role, Org: "s1"}}, Orgs: []string{"s1"}, Identities: []string{u.id}})
		roster.Enrollments = append(roster.Enrollments, statements.Enrollment{SourcedID: u.class + u.id, Class: u.class, User: u.id, Role: u.role})
	}
	if err := store.ReplaceRoster(ctx, lrs.DefaultTenant, roster); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	op := oidctest.Start(t)
	svc, err := signin.New(signin.Config{Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret, PublicURL: base,
		Tenant: func(context.Context, string) (string, error) { return lrs.DefaultTenant, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	api := &lrs.PeopleAPI{
		Rule:   &people.Rule{Roster: store},
		Agents: mpassAgents{roster: store},
		LineItems: func(_ context.Context, _, class string) ([]string, error) {
			if class == "7A" {
				return []string{fractions1, fractions2}, nil
			}
			return nil, nil
		},
		Heartbeat: 200 * time.Millisecond,
		Viewer: func(c *gin.Context) (people.Viewer, bool) {
			p := signin.PersonOf(c)
			if p == nil {
				return people.Viewer{}, false
			}
			return people.Viewer{Tenant: p.Tenant, Person: p.ID, Role: people.Role(p.Role())}, true
		},
	}
	srv := &http.Server{Handler: lrs.New(lrs.Config{Store: store, Admin: store, People: svc, PeopleAPI: api}),
		ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
	})
	return &testLRS{URL: base, OP: op, Store: store}
}

// signInAs makes the provider's next sign-ins those of person with the
// MPASSid role code ("1" learner, "2" teacher).
func (l *testLRS) signInAs(person, role string) {
	l.OP.SignInAs(map[string]any{"sub": person, "urn:mpass.id:uid": person, "urn:mpass.id:role": "Espoo;00001;7A;" + role,
		"urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
}

// Verbs of the test statements, with their display in fi, sv and en.
var verbs = map[string]map[string]string{
	"completed":   {"fi-FI": "suoritti", "sv-FI": "slutförde", "en-US": "completed"},
	"passed":      {"fi-FI": "läpäisi", "sv-FI": "klarade", "en-US": "passed"},
	"failed":      {"fi-FI": "ei läpäissyt", "sv-FI": "klarade inte", "en-US": "failed"},
	"experienced": {"fi-FI": "tutustui", "sv-FI": "bekantade sig med", "en-US": "experienced"},
}

// names of the test activities in fi, sv and en.
var names = map[string]map[string]string{
	fractions1:                   {"fi-FI": "Murtoluvut 1", "sv-FI": "Bråk 1", "en-US": "Fractions 1"},
	fractions2:                   {"fi-FI": "Murtoluvut 2", "sv-FI": "Bråk 2", "en-US": "Fractions 2"},
	"https://app.test/history-1": {"fi-FI": "Keskiaika", "sv-FI": "Medeltiden", "en-US": "The Middle Ages"},
	readingEnglish:               {"en-US": "Reading in English"},
}

// readingEnglish is an activity named in English only.
const readingEnglish = "https://app.test/reading-en"

// post stores a statement of learner through the xAPI with the tenant's
// credential: verb (a key of verbs) on activity, with a scaled score
// unless it is negative, and a duration in minutes unless 0.
func (l *testLRS) post(t *testing.T, learner, verb, activity string, scaled float64, minutes int) {
	t.Helper()
	s := map[string]any{
		"actor":  map[string]any{"objectType": "Agent", "account": map[string]string{"homePage": mpassHome, "name": learner}},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": verbs[verb]},
		"object": map[string]any{"id": activity, "definition": map[string]any{"name": names[activity]}},
	}
	result := map[string]any{}
	if scaled >= 0 {
		result["score"] = map[string]float64{"scaled": scaled}
	}
	if minutes > 0 {
		result["duration"] = fmt.Sprintf("PT%dM", minutes)
	}
	if verb == "passed" || verb == "failed" {
		result["success"] = verb == "passed"
	}
	if len(result) > 0 {
		s["result"] = result
	}
	body, _ := json.Marshal(s)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", l.URL+"/xapi/statements", strings.NewReader(string(body)))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST statement: %d", res.StatusCode)
	}
}

// seed posts the statements the page tests read: in 7A, Aino completed
// and passed, Bertil failed, Cecilia did nothing yet; in 7B, Ville
// completed.
func (l *testLRS) seed(t *testing.T) {
	t.Helper()
	l.post(t, "u1", "completed", fractions1, 0.9, 12)
	l.post(t, "u1", "passed", fractions2, 0.7, 20)
	l.post(t, "u2", "failed", fractions1, 0.2, 8)
	l.post(t, "u4", "completed", "https://app.test/history-1", 1, 30)
}
