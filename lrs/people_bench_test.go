package lrs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// BenchmarkPeople_Overview measures GET /api/classes/{class}/overview for
// a class of 30 students in a tenant of 3,000 students holding 100,000
// statements (10,000 with -short), on the embedded store, and reports the
// median and 95th percentile of the requests.
func BenchmarkPeople_Overview(b *testing.B) {
	base, token := overviewFixture(b)
	benchPercentiles(b, base+"/api/classes/c000/overview", token)
}

// overviewFixture serves the people API and the pages over the embedded
// store of a tenant of 3,000 students in classes of 30 holding 100,000
// statements (10,000 with -short), and returns its URL and a token of
// c000's teacher.
func overviewFixture(b *testing.B) (string, string) {
	const students, classSize = 3000, 30
	total := 100000
	if testing.Short() {
		total = 10000
	}
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		b.Fatal(err)
	}
	roster := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond),
		Orgs:  []statements.RosterOrg{{SourcedID: "s1", Type: "school"}},
		Users: []statements.RosterUser{{SourcedID: "k1", Identities: []string{"k1"}, Roles: []statements.RosterRole{{Role: "teacher", Org: "s1"}}}},
	}
	for c := range students / classSize {
		roster.Classes = append(roster.Classes, statements.RosterClass{SourcedID: fmt.Sprintf("c%03d", c), School: "s1"})
	}
	roster.Enrollments = append(roster.Enrollments, statements.Enrollment{SourcedID: "e-k1", Class: "c000", User: "k1", Role: "teacher"})
	for i := range students {
		id := fmt.Sprintf("u%04d", i)
		roster.Users = append(roster.Users, statements.RosterUser{SourcedID: id, GivenName: "G", FamilyName: "F", Identities: []string{id},
			Roles: []statements.RosterRole{{Role: "student", Org: "s1"}}})
		roster.Enrollments = append(roster.Enrollments, statements.Enrollment{SourcedID: "e-" + id,
			Class: fmt.Sprintf("c%03d", i/classSize), User: id, Role: "student"})
	}
	if err := store.ReplaceRoster(ctx, lrs.DefaultTenant, roster); err != nil {
		b.Fatal(err)
	}
	base, op := servePeople(b, store, &lrs.PeopleAPI{}, nil)
	verbs := []string{"completed", "passed", "failed", "experienced", "progressed"}
	for from := 0; from < total; from += 500 {
		var sb strings.Builder
		sb.WriteByte('[')
		for i := from; i < min(from+500, total); i++ {
			if i > from {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"actor":{"account":{"homePage":%q,"name":"u%04d"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/%s"},`+
				`"object":{"id":"https://app.test/a/%d"},"result":{"score":{"scaled":0.%02d}}}`,
				mpassHome, (i*7919)%students, verbs[i%len(verbs)], i%40, i%100)
		}
		sb.WriteByte(']')
		req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(sb.String()))
		req.SetBasicAuth(testKey, testSecret)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("POST: %d", res.StatusCode)
		}
	}
	token := op.Token(b, map[string]any{"urn:mpass.id:uid": "k1", "urn:mpass.id:role": "Espoo;1;;2", "urn:mpass.id:educationProviderId": "x"})
	return base, token
}

// benchPercentiles GETs u with token once per iteration, the body read
// whole, and reports the median and 95th percentile of the requests.
func benchPercentiles(b *testing.B, u, token string) {
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", u, res.StatusCode)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
}
