package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/sqlitestore"
)

// ownerExt is the context extension of the isolation test's statements:
// the tenant and the learner that made them.
const ownerExt = "https://lrs.test.digione.fi/extensions/owner"

// TestPeople_Isolation proves the roster rule through the people API, on
// both stores: two tenants with the same user, class and school ids but
// different rosters; learners, teachers and principals of both, a person
// the roster does not know and a learner claiming to be a teacher. Every
// person asks every class's overview, every student's statements (paged)
// and their own, and two watch a class's stream while statements arrive:
// each must see exactly what the rule, written out again here over the
// test's own model, allows. LRS_ISOLATION_SEED repeats a run.
func TestPeople_Isolation(t *testing.T) {
	for _, st := range []string{"sqlite", "mongo"} {
		t.Run(st, func(t *testing.T) {
			w := newPeopleWorld(t)
			store := openTestStore(t, st)
			base, op := w.serve(t, store, store)
			for _, v := range w.check(t, base, op) {
				t.Error(v)
			}
		})
	}
}

// TestPeople_IsolationCatchesBrokenRule shows the isolation test fails
// when the rule is given a wrong roster: one that puts every teacher in
// every class, and one that answers with the other tenant's enrollments.
func TestPeople_IsolationCatchesBrokenRule(t *testing.T) {
	for name, broken := range map[string]func(statements.Store) statements.RosterStore{
		"every teacher in every class": func(s statements.Store) statements.RosterStore { return teachesAll{s} },
		"other tenant's enrollments":   func(s statements.Store) statements.RosterStore { return otherTenant{s} },
	} {
		t.Run(name, func(t *testing.T) {
			w := newPeopleWorld(t)
			store := openTestStore(t, "sqlite")
			base, op := w.serve(t, store, broken(store))
			if v := w.check(t, base, op); len(v) == 0 {
				t.Error("the isolation test found nothing wrong with a broken rule")
			} else {
				t.Logf("%d violations, e.g. %s", len(v), v[0])
			}
		})
	}
}

type teachesAll struct{ statements.Store }

func (b teachesAll) ClassesOf(ctx context.Context, tenant, user, role string) ([]statements.RosterClass, error) {
	if role != statements.RoleTeacher {
		return b.Store.ClassesOf(ctx, tenant, user, role)
	}
	var all []statements.RosterClass
	for _, school := range []string{"s1", "s2"} {
		cs, err := b.Store.SchoolClasses(ctx, tenant, school)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

type otherTenant struct{ statements.Store }

func (b otherTenant) other(tenant string) string {
	return map[string]string{"t1": "t2", "t2": "t1"}[tenant]
}

func (b otherTenant) ClassesOf(ctx context.Context, tenant, user, role string) ([]statements.RosterClass, error) {
	return b.Store.ClassesOf(ctx, b.other(tenant), user, role)
}

func (b otherTenant) ClassMembers(ctx context.Context, tenant, class, role string) ([]statements.RosterUser, error) {
	return b.Store.ClassMembers(ctx, b.other(tenant), class, role)
}

func openTestStore(t *testing.T, kind string) statements.Store {
	t.Helper()
	var store statements.Store
	var err error
	if kind == "mongo" {
		store, err = mongostore.New(t.Context(), testMongoURI(t), mongostore.WithDatabase("people_"+strings.ReplaceAll(uuid.NewString(), "-", "")))
	} else {
		store, err = sqlitestore.New(t.Context(), t.TempDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// peopleWorld is the test's model: who is who in each tenant, and who
// made which statements.
type peopleWorld struct {
	rng     *rand.Rand
	tenants []*peopleTenant
}

type peopleTenant struct {
	id, value   string
	key, secret string
	users       map[string]string   // sourcedId: learner, teacher or principal
	schools     map[string][]string // sourcedId: the schools a user is a student (or principal) of
	classes     map[string]*peopleClass
	made        map[string][]string // sourcedId: the ids of the statements the user made
}

type peopleClass struct {
	id, school         string
	teachers, students []string
}

var (
	peopleLearners   = []string{"u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10"}
	peopleTeachers   = []string{"k1", "k2", "k3"}
	peoplePrincipals = map[string]string{"p1": "s1", "p2": "s2"}
	peopleClasses    = []string{"c1", "c2", "c3", "c4"}
)

func newPeopleWorld(t *testing.T) *peopleWorld {
	seed := lrstest.Seed(t)
	w := &peopleWorld{rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))}
	for i, id := range []string{"t1", "t2"} {
		pt := &peopleTenant{id: id, value: "1.2.246.562.10." + strconv.Itoa(i+1), users: map[string]string{},
			schools: map[string][]string{}, classes: map[string]*peopleClass{}, made: map[string][]string{}}
		for _, l := range peopleLearners {
			pt.users[l] = "learner"
		}
		for _, k := range peopleTeachers {
			pt.users[k] = "teacher"
		}
		for p, school := range peoplePrincipals {
			pt.users[p] = "principal"
			pt.schools[p] = []string{school}
		}
		for _, c := range peopleClasses {
			cl := &peopleClass{id: c, school: []string{"s1", "s2"}[w.rng.IntN(2)]}
			cl.teachers = pick(w.rng, peopleTeachers, 1+w.rng.IntN(2))
			cl.students = pick(w.rng, peopleLearners, 2+w.rng.IntN(4))
			for _, s := range cl.students {
				if !slices.Contains(pt.schools[s], cl.school) {
					pt.schools[s] = append(pt.schools[s], cl.school)
				}
			}
			pt.classes[c] = cl
		}
		for _, l := range peopleLearners {
			if len(pt.schools[l]) == 0 && w.rng.IntN(2) == 0 {
				// A student of a school in no class: the principal's only.
				pt.schools[l] = []string{[]string{"s1", "s2"}[w.rng.IntN(2)]}
			}
		}
		w.tenants = append(w.tenants, pt)
	}
	return w
}

// pick returns n of from, in from's order.
func pick(rng *rand.Rand, from []string, n int) []string {
	idx := rng.Perm(len(from))[:min(n, len(from))]
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

// roster is the tenant's roster as the store keeps it.
func (pt *peopleTenant) roster() *statements.Roster {
	r := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond)}
	for _, s := range []string{"s1", "s2"} {
		r.Orgs = append(r.Orgs, statements.RosterOrg{SourcedID: s, Name: "School " + s, Type: "school"})
	}
	for _, id := range slices.Sorted(mapKeys(pt.users)) {
		u := statements.RosterUser{SourcedID: id, GivenName: "Given " + id, FamilyName: "Family " + id, Identities: []string{id}}
		switch pt.users[id] {
		case "learner":
			for _, s := range pt.schools[id] {
				u.Roles = append(u.Roles, statements.RosterRole{Role: statements.RoleStudent, Org: s})
			}
		case "principal":
			u.Roles = append(u.Roles, statements.RosterRole{Role: statements.RolePrincipal, Org: pt.schools[id][0]})
		case "teacher":
			u.Roles = append(u.Roles, statements.RosterRole{Role: statements.RoleTeacher, Org: "s1"})
		}
		for _, ro := range u.Roles {
			u.Orgs = append(u.Orgs, ro.Org)
		}
		r.Users = append(r.Users, u)
	}
	for _, c := range peopleClasses {
		cl := pt.classes[c]
		r.Classes = append(r.Classes, statements.RosterClass{SourcedID: c, Title: "Class " + c, School: cl.school})
		for _, k := range cl.teachers {
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: c + "-" + k, Class: c, User: k, Role: statements.RoleTeacher})
		}
		for _, s := range cl.students {
			r.Enrollments = append(r.Enrollments, statements.Enrollment{SourcedID: c + "-" + s, Class: c, User: s, Role: statements.RoleStudent})
		}
	}
	return r
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// serve starts the LRS over store, with rule's roster, sign-in through a
// test provider and the world's tenants, rosters and statements in it.
func (w *peopleWorld) serve(t *testing.T, store statements.Store, rule statements.RosterStore) (string, *oidctest.Provider) {
	t.Helper()
	ctx := t.Context()
	op := oidctest.Start(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	svc, err := signin.New(signin.Config{Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret, PublicURL: srv.URL,
		SessionKeys: [][]byte{make([]byte, signin.SessionKeySize)},
		Tenant: func(ctx context.Context, v string) (string, error) {
			tn, err := store.TenantByIdentity(ctx, v)
			if err != nil {
				return "", err
			}
			return tn.ID, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	ids := &oneroster.Identities{Admin: &oneroster.Admin{Store: store}, Roster: store}
	api := newPeopleAPI(store, ids)
	api.Rule.Roster = rule
	api.Heartbeat = 200 * time.Millisecond
	h = lrs.New(lrs.Config{Store: store, Admin: store, People: svc, PeopleAPI: api})
	for _, pt := range w.tenants {
		if err := store.CreateTenant(ctx, statements.Tenant{ID: pt.id, Name: pt.id, Created: time.Now(), IdentityValues: []string{pt.value}}); err != nil {
			t.Fatal(err)
		}
		pt.key, pt.secret = "app-"+pt.id, "secret-of-"+pt.id
		hash, _ := lrs.HashSecret(pt.secret)
		if err := store.CreateCredential(ctx, statements.Credential{Key: pt.key, Tenant: pt.id, SecretHash: hash,
			Scopes: []string{"all"}, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := store.ReplaceRoster(ctx, pt.id, pt.roster()); err != nil {
			t.Fatal(err)
		}
		var batch []map[string]any
		var makers []string
		for _, l := range peopleLearners {
			for range w.rng.IntN(4) {
				batch = append(batch, w.statement(pt, l, ""))
				makers = append(makers, l)
			}
		}
		for _, k := range peopleTeachers {
			// A teacher's statement about a learner is not the learner's.
			batch = append(batch, w.statement(pt, k, peopleLearners[w.rng.IntN(len(peopleLearners))]))
			makers = append(makers, k)
		}
		got := postStatements(t, srv.URL, pt, batch)
		for i, id := range got {
			pt.made[makers[i]] = append(pt.made[makers[i]], id)
		}
	}
	return srv.URL, op
}

// statement returns a statement made by the user by, about the learner
// about when not "".
func (w *peopleWorld) statement(pt *peopleTenant, by, about string) map[string]any {
	verb := []string{"completed", "passed", "failed", "experienced"}[w.rng.IntN(4)]
	s := map[string]any{
		"actor":   map[string]any{"account": map[string]any{"homePage": oneroster.DefaultIdentityHomePage, "name": by}},
		"verb":    map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb},
		"object":  map[string]any{"id": "https://app.test.digione.fi/activities/" + strconv.Itoa(w.rng.IntN(5))},
		"result":  map[string]any{"score": map[string]any{"scaled": float64(w.rng.IntN(101)) / 100}},
		"context": map[string]any{"extensions": map[string]any{ownerExt: pt.id + "/" + by}},
	}
	if about != "" {
		s["object"] = map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": oneroster.DefaultIdentityHomePage, "name": about}}
		delete(s, "result")
	}
	return s
}

func postStatements(t *testing.T, base string, pt *peopleTenant, batch []map[string]any) []string {
	t.Helper()
	if len(batch) == 0 {
		return nil
	}
	b, _ := json.Marshal(batch)
	req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(string(b)))
	req.SetBasicAuth(pt.key, pt.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST statements: %d %s", res.StatusCode, body)
	}
	var ids []string
	if err := json.Unmarshal(body, &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}

// peoplePerson is someone who signs in: a roster user, or not.
type peoplePerson struct {
	tenant *peopleTenant
	id     string
	claim  string // the role code in the claim: 1, 2 or 6
}

func (p peoplePerson) kind() string {
	return map[string]string{"1": "learner", "2": "teacher", "6": "principal"}[p.claim]
}

func (p peoplePerson) String() string {
	return fmt.Sprintf("%s/%s (%s)", p.tenant.id, p.id, p.kind())
}

// The rule, written out again over the model.

func (p peoplePerson) rostered() bool { return p.tenant.users[p.id] != "" }

func (p peoplePerson) seesClass(c string) bool {
	cl := p.tenant.classes[c]
	if cl == nil || !p.rostered() {
		return false
	}
	switch p.kind() {
	case "teacher":
		return slices.Contains(cl.teachers, p.id)
	case "principal":
		return p.tenant.users[p.id] == "principal" && slices.Contains(p.tenant.schools[p.id], cl.school)
	}
	return false
}

func (p peoplePerson) reads(learner string) bool {
	if !p.rostered() || p.tenant.users[learner] != "learner" {
		return false
	}
	switch p.kind() {
	case "learner":
		return learner == p.id
	case "teacher":
		for _, cl := range p.tenant.classes {
			if slices.Contains(cl.teachers, p.id) && slices.Contains(cl.students, learner) {
				return true
			}
		}
	case "principal":
		return p.tenant.users[p.id] == "principal" && slices.ContainsFunc(p.tenant.schools[learner], func(s string) bool {
			return slices.Contains(p.tenant.schools[p.id], s)
		})
	}
	return false
}

// people returns everyone who signs in.
func (w *peopleWorld) people() []peoplePerson {
	var out []peoplePerson
	for _, pt := range w.tenants {
		for _, id := range slices.Sorted(mapKeys(pt.users)) {
			out = append(out, peoplePerson{pt, id, map[string]string{"learner": "1", "teacher": "2", "principal": "6"}[pt.users[id]]})
		}
		out = append(out, peoplePerson{pt, "stranger", "2"}, peoplePerson{pt, "u01", "2"})
	}
	return out
}

// check asks everything of the people API as everyone and returns what
// differs from the rule.
func (w *peopleWorld) check(t *testing.T, base string, op *oidctest.Provider) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	everyone := w.people()
	for _, p := range everyone {
		token := op.Token(t, map[string]any{"sub": p.id, "urn:mpass.id:uid": p.id,
			"urn:mpass.id:role": "Espoo;00001;7A;" + p.claim, "urn:mpass.id:educationProviderId": p.tenant.value})
		get := func(path string, v any) int {
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode == http.StatusOK && v != nil {
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
			}
			return res.StatusCode
		}

		var classes struct {
			Classes []struct{ SourcedID string } `json:"classes"`
		}
		if code := get("/api/classes", &classes); code != http.StatusOK {
			fail("%s: GET /api/classes: %d", p, code)
		}
		var gotClasses, wantClasses []string
		for _, c := range classes.Classes {
			gotClasses = append(gotClasses, c.SourcedID)
		}
		for _, c := range peopleClasses {
			if p.seesClass(c) {
				wantClasses = append(wantClasses, c)
			}
		}
		if !slices.Equal(gotClasses, wantClasses) {
			fail("%s: classes %v, want %v", p, gotClasses, wantClasses)
		}

		page := func(path string) (int, string) {
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		// The pages read through the same rule.
		if code, body := page("/ui/classes"); code != http.StatusOK {
			fail("%s: GET /ui/classes: %d", p, code)
		} else {
			for _, c := range peopleClasses {
				if got := strings.Contains(body, `href="classes/`+c+`"`); got != p.seesClass(c) {
					fail("%s: /ui/classes links %s: %v, want %v", p, c, got, p.seesClass(c))
				}
			}
		}
		for _, c := range append(slices.Clone(peopleClasses), "c9") {
			code, body := page("/ui/classes/" + c + "/overview.csv?since=all")
			if !p.seesClass(c) {
				if code != http.StatusNotFound {
					fail("%s: CSV overview of %s: %d, want 404", p, c, code)
				}
				continue
			}
			n := 0
			for _, s := range p.tenant.classes[c].students {
				if p.reads(s) {
					n++
				}
			}
			if rows := strings.Count(body, "\n") - 1; code != http.StatusOK || rows != n {
				fail("%s: CSV overview of %s: %d, %d rows, want 200, %d", p, c, code, rows, n)
			}
		}
		// A student's stream and an activity page, the same.
		older := regexp.MustCompile(`<a id="older" rel="next" href="\?([^"]+)">`)
		for _, c := range append(slices.Clone(peopleClasses), "c9") {
			code, body := page("/ui/classes/" + c + "/activity?id=https%3A%2F%2Fapp.test.digione.fi%2Factivities%2F0")
			n := 0
			if p.seesClass(c) {
				for _, s := range p.tenant.classes[c].students {
					if p.reads(s) {
						n++
					}
				}
			}
			if rows := strings.Count(body, `<td class="outcome outcome-`); p.seesClass(c) && (code != http.StatusOK || rows != n) || !p.seesClass(c) && code != http.StatusNotFound {
				fail("%s: activity page of %s: %d, %d students, want %d", p, c, code, rows, n)
			}
			for _, l := range append(slices.Clone(peopleLearners), peopleTeachers[0]) {
				ok := p.seesClass(c) && slices.Contains(p.tenant.classes[c].students, l) && p.reads(l)
				path, entries := "/ui/classes/"+c+"/students/"+l, 0
				for pages := 0; path != "" && pages < 20; pages++ {
					code, body := page(path)
					if !ok {
						if code != http.StatusNotFound {
							fail("%s: stream page of %s in %s: %d, want 404", p, l, c, code)
						}
						break
					}
					if code != http.StatusOK {
						fail("%s: stream page of %s in %s: %d, want 200", p, l, c, code)
						break
					}
					entries += strings.Count(body, "<li data-position=")
					path = ""
					if m := older.FindStringSubmatch(body); m != nil {
						path = "/ui/classes/" + c + "/students/" + l + "?" + strings.ReplaceAll(m[1], "&amp;", "&")
					}
				}
				if ok && entries != len(p.tenant.made[l]) {
					fail("%s: stream page of %s in %s: %d entries, want %d", p, l, c, entries, len(p.tenant.made[l]))
				}
			}
		}

		for _, c := range append(slices.Clone(peopleClasses), "c9") {
			var ov struct {
				Students []struct {
					SourcedID  string `json:"sourcedId"`
					Statements int    `json:"statements"`
				} `json:"students"`
			}
			code := get("/api/classes/"+c+"/overview", &ov)
			if !p.seesClass(c) {
				if code != http.StatusNotFound {
					fail("%s: overview of %s: %d, want 404", p, c, code)
				}
				continue
			}
			var got, want []string
			for _, r := range ov.Students {
				got = append(got, r.SourcedID)
				if n := len(p.tenant.made[r.SourcedID]); r.Statements != n {
					fail("%s: overview of %s: %s has %d statements, want %d", p, c, r.SourcedID, r.Statements, n)
				}
			}
			for _, s := range p.tenant.classes[c].students {
				if p.reads(s) {
					want = append(want, s)
				}
			}
			if code != http.StatusOK || !slices.Equal(got, want) {
				fail("%s: overview of %s: %d %v, want 200 %v", p, c, code, got, want)
			}
			for _, l := range append(slices.Clone(peopleLearners), peopleTeachers[0]) {
				ids, code := w.walk(get, "/api/classes/"+c+"/students/"+l+"/statements?limit=2")
				ok := slices.Contains(p.tenant.classes[c].students, l) && p.reads(l)
				switch {
				case !ok && code != http.StatusNotFound:
					fail("%s: statements of %s in %s: %d, want 404", p, l, c, code)
				case ok && code != http.StatusOK:
					fail("%s: statements of %s in %s: %d, want 200", p, l, c, code)
				case ok && !sameSet(ids, p.tenant.made[l]):
					fail("%s: statements of %s in %s: %v, want %v", p, l, c, ids, p.tenant.made[l])
				}
			}
		}

		ids, code := w.walk(get, "/api/me/statements?limit=3")
		switch {
		case !p.rostered():
			if code != http.StatusOK || len(ids) != 0 {
				fail("%s: own statements: %d %v, want 200 and none", p, code, ids)
			}
		case p.kind() != "learner":
			if code != http.StatusForbidden {
				fail("%s: own statements: %d, want 403", p, code)
			}
		case code != http.StatusOK || !sameSet(ids, p.tenant.made[p.id]):
			fail("%s: own statements: %d %v, want 200 %v", p, code, ids, p.tenant.made[p.id])
		}

		var export struct {
			Statements []struct{ ID string } `json:"statements"`
		}
		code = get("/api/me/export", &export)
		ids = nil
		for _, s := range export.Statements {
			ids = append(ids, s.ID)
		}
		switch {
		case !p.rostered() || p.kind() != "learner":
			if code != http.StatusForbidden {
				fail("%s: export: %d, want 403", p, code)
			}
		case code != http.StatusOK || !sameSet(ids, p.tenant.made[p.id]):
			fail("%s: export: %d %v, want 200 %v", p, code, ids, p.tenant.made[p.id])
		}
	}
	bad = append(bad, w.checkStreams(t, base, op)...)
	return bad
}

// walk follows the "more" links of a listing of statements and returns
// the ids of all of them, with the status of the first failing page (or
// 200).
func (w *peopleWorld) walk(get func(string, any) int, path string) ([]string, int) {
	var ids []string
	for pages := 0; path != "" && pages < 100; pages++ {
		var page struct {
			Statements []struct{ ID string } `json:"statements"`
			More       string                `json:"more"`
		}
		if code := get(path, &page); code != http.StatusOK {
			return ids, code
		}
		for _, s := range page.Statements {
			ids = append(ids, s.ID)
		}
		path = page.More
	}
	return ids, http.StatusOK
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// checkStreams has a teacher and a principal of the first tenant watch a
// class they see while every learner of both tenants makes a statement:
// each stream must carry exactly those of the students it may read.
func (w *peopleWorld) checkStreams(t *testing.T, base string, op *oidctest.Provider) []string {
	var bad []string
	var watchers []peoplePerson
	var classes []string
	for _, p := range w.people() {
		if p.tenant != w.tenants[0] || !p.rostered() || (p.kind() != "teacher" && p.kind() != "principal") {
			continue
		}
		if i := slices.IndexFunc(peopleClasses, p.seesClass); i >= 0 && !slices.ContainsFunc(watchers, func(q peoplePerson) bool { return q.kind() == p.kind() }) {
			watchers = append(watchers, p)
			classes = append(classes, peopleClasses[i])
		}
	}
	type event struct{ by string }
	streams := make([]chan event, len(watchers))
	for i, p := range watchers {
		token := op.Token(t, map[string]any{"sub": p.id, "urn:mpass.id:uid": p.id,
			"urn:mpass.id:role": "Espoo;00001;7A;" + p.claim, "urn:mpass.id:educationProviderId": p.tenant.value})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/classes/"+classes[i]+"/stream", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != http.StatusOK {
			bad = append(bad, fmt.Sprintf("%s: stream of %s: %d", p, classes[i], res.StatusCode))
			continue
		}
		ch := make(chan event, 100)
		streams[i] = ch
		go func() {
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				data, ok := strings.CutPrefix(sc.Text(), "data: ")
				if !ok {
					continue
				}
				var s struct {
					Context struct {
						Extensions map[string]string `json:"extensions"`
					} `json:"context"`
				}
				if json.Unmarshal([]byte(data), &s) == nil && s.Context.Extensions[ownerExt] != "" {
					ch <- event{s.Context.Extensions[ownerExt]}
				}
			}
			close(ch)
		}()
	}
	time.Sleep(100 * time.Millisecond) // the streams subscribe
	for _, pt := range w.tenants {
		var batch []map[string]any
		for _, l := range peopleLearners {
			batch = append(batch, w.statement(pt, l, ""))
		}
		postStatements(t, base, pt, batch)
	}
	for i, p := range watchers {
		if streams[i] == nil {
			continue
		}
		var want, got []string
		for _, l := range p.tenant.classes[classes[i]].students {
			if p.reads(l) {
				want = append(want, p.tenant.id+"/"+l)
			}
		}
		timeout := time.After(5 * time.Second)
	read:
		for len(got) < len(want) {
			select {
			case e, open := <-streams[i]:
				if !open {
					break read
				}
				got = append(got, e.by)
			case <-timeout:
				break read
			}
		}
		// Anything more that arrives soon is a statement the person may
		// not read.
		select {
		case e, open := <-streams[i]:
			if open {
				got = append(got, e.by)
			}
		case <-time.After(700 * time.Millisecond):
		}
		if !sameSet(got, want) {
			bad = append(bad, fmt.Sprintf("%s: stream of %s carried %v, want %v", p, classes[i], got, want))
		}
	}
	return bad
}
