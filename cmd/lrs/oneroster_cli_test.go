package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// cli runs `lrs ARGS --data-dir dir` with vars as the environment and
// returns its standard output.
func cli(t *testing.T, dir string, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errb strings.Builder
	err := run(context.Background(), append(args, "--data-dir", dir), env(vars), &out, &errb)
	return out.String(), err
}

func mustCLI(t *testing.T, dir string, vars map[string]string, args ...string) string {
	t.Helper()
	out, err := cli(t, dir, vars, args...)
	if err != nil {
		t.Fatalf("lrs %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// withStore opens the store of dir for f, and closes it.
func withStore(t *testing.T, dir string, f func(*sqlitestore.Store)) {
	t.Helper()
	store, err := sqlitestore.New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f(store)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCLI_OneRosterConfig(t *testing.T) {
	dir := t.TempDir()
	book := onerostertest.New("lrs-client", "or-secret-7c1")
	defer book.Close()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	set := []string{"oneroster", "set", "--tenant", "espoo", "--url", book.BaseURL(), "--token-url", book.TokenURL(), "--client-id", "lrs-client"}

	t.Run("ErrNotConfigured", func(t *testing.T) {
		if _, err := cli(t, dir, nil, "oneroster", "show", "--tenant", "espoo"); err == nil || !strings.Contains(err.Error(), `"espoo" has no OneRoster configuration`) {
			t.Errorf("show: %v", err)
		}
	})
	t.Run("ErrNoSecret", func(t *testing.T) {
		_, err := cli(t, dir, nil, set...)
		if err == nil || !strings.Contains(err.Error(), "clientSecret: required (--client-secret-file (or LRS_ONEROSTER_CLIENT_SECRET))") {
			t.Errorf("set without a secret: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := cli(t, dir, map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "x"}, "oneroster", "set", "--tenant", "espoo",
			"--url", "https://gb.example.fi/v1", "--token-url", book.TokenURL(), "--client-id", "c")
		if err == nil || !strings.Contains(err.Error(), "baseUrl: must end with /ims/oneroster/gradebook/v1p2") || !strings.Contains(err.Error(), "--url") {
			t.Errorf("set with a bad URL: %v", err)
		}
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		_, err := cli(t, dir, map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "x"}, "oneroster", "set", "--tenant", "nowhere",
			"--url", book.BaseURL(), "--token-url", book.TokenURL(), "--client-id", "c")
		if err == nil || !strings.Contains(err.Error(), "nowhere") {
			t.Errorf("set of an unknown tenant: %v", err)
		}
		if _, err := cli(t, dir, nil, "oneroster", "show"); err == nil || !strings.Contains(err.Error(), "--tenant") {
			t.Errorf("show without --tenant: %v", err)
		}
	})
	t.Run("SetFromEnvironment", func(t *testing.T) {
		out := mustCLI(t, dir, map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1"}, set...)
		if !strings.Contains(out, "set the OneRoster configuration of tenant espoo") || strings.Contains(out, "or-secret-7c1") {
			t.Errorf("set: %q", out)
		}
		out = mustCLI(t, dir, nil, "oneroster", "show", "--tenant", "espoo")
		for _, want := range []string{book.BaseURL(), "client secret:           set (not shown)", "https://mpass-proxy.csc.fi (default)", "from the store"} {
			if !strings.Contains(out, want) {
				t.Errorf("show lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("SetFromFile", func(t *testing.T) {
		f := writeFile(t, "secret", "or-secret-7c1\n")
		out := mustCLI(t, dir, nil, append(set, "--client-secret-file", f, "--verbs", oneroster.VerbPassed+","+oneroster.VerbFailed,
			"--require-student-mapping", "--disabled", "--json")...)
		var v oneroster.ConfigView
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !v.ClientSecretSet || v.ClientSecret != "" || len(v.Verbs) != 2 || !v.RequireStudentMapping || !v.Disabled || strings.Contains(out, "or-secret-7c1") {
			t.Errorf("set --json: %s", out)
		}
	})
	t.Run("SetKeepsTheSecret", func(t *testing.T) {
		mustCLI(t, dir, nil, set...)
		withStore(t, dir, func(store *sqlitestore.Store) {
			it, err := store.SinkItem(t.Context(), "oneroster", "espoo", "config")
			if err != nil || !strings.Contains(string(it.Value), "or-secret-7c1") {
				t.Errorf("stored configuration: %v %v", it, err)
			}
		})
	})
	t.Run("Delete", func(t *testing.T) {
		out := mustCLI(t, dir, nil, "oneroster", "delete", "--tenant", "espoo")
		if !strings.Contains(out, "deleted the OneRoster configuration of tenant espoo") {
			t.Errorf("delete: %q", out)
		}
		if _, err := cli(t, dir, nil, "oneroster", "show", "--tenant", "espoo"); err == nil {
			t.Error("show after delete: no error")
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		if err := json.Unmarshal([]byte(mustCLI(t, dir, nil, "audit", "list", "--limit", "4", "--json")), &es); err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
			if e.Actor != "cli" || strings.Contains(e.Detail, "or-secret-7c1") {
				t.Errorf("audit entry %+v: want actor cli and no secret", e)
			}
		}
		if got, want := strings.Join(actions, " "), "oneroster.config.delete oneroster.config.set oneroster.config.set oneroster.config.set"; got != want {
			t.Errorf("audit: %s, want %s", got, want)
		}
	})
}

func TestCLI_OneRosterMappings(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")

	t.Run("Students", func(t *testing.T) {
		f := writeFile(t, "students.csv", "\ufeffaccount,sourcedId\nlearner-1,user-1\n\n learner-2 , user-2\nlearner-3,user-3\n")
		out := mustCLI(t, dir, nil, "oneroster", "map-students", "--tenant", "espoo", "--file", f)
		if !strings.Contains(out, "wrote 3 student mapping(s) of tenant espoo") {
			t.Errorf("map-students: %q", out)
		}
		// No header; an empty sourcedId removes.
		f = writeFile(t, "remove.csv", "learner-3,\n")
		if out := mustCLI(t, dir, nil, "oneroster", "map-students", "--tenant", "espoo", "--file", f, "--json"); strings.TrimSpace(out) != "{\n  \"written\": 1\n}" {
			t.Errorf("map-students --json: %q", out)
		}
		withStore(t, dir, func(store *sqlitestore.Store) {
			ms, err := (&oneroster.Admin{Store: store}).Students(t.Context(), "espoo", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			want := []oneroster.StudentMapping{{Account: "learner-1", SourcedID: "user-1"}, {Account: "learner-2", SourcedID: "user-2"}}
			if len(ms) != 2 || ms[0] != want[0] || ms[1] != want[1] {
				t.Errorf("students: %+v, want %+v", ms, want)
			}
		})
	})
	t.Run("StudentsErr", func(t *testing.T) {
		f := writeFile(t, "bad.csv", "account,sourcedId\nlearner-1,user-1\n,user-2\n")
		if _, err := cli(t, dir, nil, "oneroster", "map-students", "--tenant", "espoo", "--file", f); err == nil || !strings.Contains(err.Error(), "bad.csv line 3: account: required") {
			t.Errorf("an empty account: %v", err)
		}
		f = writeFile(t, "wide.csv", "learner-1,user-1,extra\n")
		if _, err := cli(t, dir, nil, "oneroster", "map-students", "--tenant", "espoo", "--file", f); err == nil || !strings.Contains(err.Error(), "wide.csv line 1: 3 field(s)") {
			t.Errorf("three fields: %v", err)
		}
		if _, err := cli(t, dir, nil, "oneroster", "map-students", "--tenant", "espoo"); err == nil || !strings.Contains(err.Error(), "--file") {
			t.Errorf("no --file: %v", err)
		}
	})
	t.Run("Activities", func(t *testing.T) {
		f := writeFile(t, "activities.csv", "activityId,lineItem,class,scaleMin,scaleMax\n"+
			"https://oppimateriaali.example.fi/t/1,li-1,c-1,4,10\n"+
			"https://oppimateriaali.example.fi/t/2,li-2\n"+
			"https://oppimateriaali.example.fi/t/3,li-3,c-1\n")
		out := mustCLI(t, dir, nil, "oneroster", "map-activities", "--tenant", "espoo", "--file", f)
		if !strings.Contains(out, "wrote 3 activity mapping(s) of tenant espoo") {
			t.Errorf("map-activities: %q", out)
		}
		withStore(t, dir, func(store *sqlitestore.Store) {
			ms, err := (&oneroster.Admin{Store: store}).Activities(t.Context(), "espoo", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 3 || ms[0].LineItem != "li-1" || ms[0].Class != "c-1" || ms[0].Scale == nil || *ms[0].Scale != (oneroster.Scale{Min: 4, Max: 10}) ||
				ms[1].Scale != nil || ms[1].Class != "" || ms[2].Class != "c-1" {
				t.Errorf("activities: %+v", ms)
			}
		})
	})
	t.Run("ActivitiesErr", func(t *testing.T) {
		for text, want := range map[string]string{
			"a,li-1,c,4\n":                 "line 1: scaleMin and scaleMax: both or neither",
			"a,li-1,c,4,10\nb,li,c,10,0\n": "line 2: scale: max must be above min",
			"a,li-1,c,x,10\n":              `line 1: scaleMin and scaleMax must be numbers`,
		} {
			f := writeFile(t, "bad.csv", text)
			if _, err := cli(t, dir, nil, "oneroster", "map-activities", "--tenant", "espoo", "--file", f); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %v, want %s", text, err, want)
			}
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		json.Unmarshal([]byte(mustCLI(t, dir, nil, "audit", "list", "--limit", "3", "--json")), &es)
		var got []string
		for _, e := range es {
			got = append(got, e.Actor+" "+e.Action+" "+e.Detail)
		}
		want := "cli oneroster.activities.set written=3 removed=0|cli oneroster.students.set written=0 removed=1|cli oneroster.students.set written=3 removed=0"
		if strings.Join(got, "|") != want {
			t.Errorf("audit: %q, want %q", strings.Join(got, "|"), want)
		}
	})
}

func TestCLI_OneRosterDeadLetters(t *testing.T) {
	dir := t.TempDir()
	book := onerostertest.New("lrs-client", "or-secret-7c1")
	defer book.Close()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	mustCLI(t, dir, map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1"}, "oneroster", "set", "--tenant", "espoo",
		"--url", book.BaseURL(), "--token-url", book.TokenURL(), "--client-id", "lrs-client")

	// A sink on the store writes two results; the gradebook refuses one.
	dead, sent := oneroster.ResultID("espoo", "li-1", "s-1"), oneroster.ResultID("espoo", "li-1", "s-2")
	book.FailFor(dead, http.StatusUnprocessableEntity)
	deliver := func() {
		withStore(t, dir, func(store *sqlitestore.Store) {
			sink, err := oneroster.New(oneroster.Config{Store: store, Log: store, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			var es []statements.LogEntry
			for i, student := range []string{"s-1", "s-2"} {
				id := "6a1c0f4e-0000-4000-8000-00000000000" + string(rune('1'+i))
				st := `{"id":"` + id + `","actor":{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"` + student + `"}},
					"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://oppimateriaali.example.fi/t/1"},
					"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":"li-1"}},"timestamp":"2026-03-01T10:00:00Z"}`
				es = append(es, statements.LogEntry{Tenant: "espoo", Record: &statements.Record{ID: id, Statement: []byte(st),
					Position: int64(i + 1), Stored: time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)}})
			}
			if err := sink.Send(t.Context(), es); err != nil {
				t.Fatal(err)
			}
			if err := sink.DeliverDue(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
	deliver()
	if book.Result(sent) == nil || book.Result(dead) != nil {
		t.Fatalf("gradebook: sent %v, dead %v", book.Result(sent), book.Result(dead))
	}

	out := mustCLI(t, dir, nil, "oneroster", "dead-letters", "--tenant", "espoo")
	if !strings.Contains(out, dead) || !strings.Contains(out, "dead") || !strings.Contains(out, "last answer 422") || strings.Contains(out, sent) {
		t.Errorf("dead-letters:\n%s", out)
	}
	var page lrs.OneRosterResultsJSON
	if err := json.Unmarshal([]byte(mustCLI(t, dir, nil, "oneroster", "results", "--tenant", "espoo", "--json")), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 2 || page.More != "" {
		t.Errorf("results --json: %+v", page)
	}
	out = mustCLI(t, dir, nil, "oneroster", "results", "--tenant", "espoo", "--state", "sent", "--limit", "1")
	if !strings.Contains(out, sent) || strings.Contains(out, dead) || strings.Contains(out, "more") {
		t.Errorf("results --state sent:\n%s", out)
	}
	if _, err := cli(t, dir, nil, "oneroster", "results", "--tenant", "espoo", "--state", "lost"); err == nil || !strings.Contains(err.Error(), "state:") {
		t.Errorf("results --state lost: %v", err)
	}

	if _, err := cli(t, dir, nil, "oneroster", "replay", "--tenant", "espoo", "--result", sent); err == nil || !strings.Contains(err.Error(), "not a dead letter") {
		t.Errorf("replay of a sent result: %v", err)
	}
	out = mustCLI(t, dir, nil, "oneroster", "replay", "--tenant", "espoo", "--result", dead)
	if !strings.Contains(out, "replayed 1 dead letter(s) of tenant espoo") {
		t.Errorf("replay --result: %q", out)
	}
	out = mustCLI(t, dir, nil, "oneroster", "results", "--tenant", "espoo", "--state", "pending")
	if !strings.Contains(out, dead) {
		t.Errorf("the replayed result is not pending:\n%s", out)
	}
	if out := mustCLI(t, dir, nil, "oneroster", "replay", "--tenant", "espoo", "--json"); !strings.Contains(out, `"replayed": 0`) {
		t.Errorf("replay all, none dead: %q", out)
	}
	book.FailFor(dead, 0)
	deliver()
	if book.Result(dead) == nil {
		t.Error("the replayed result was not written")
	}
	if out := mustCLI(t, dir, nil, "oneroster", "dead-letters", "--tenant", "espoo"); strings.TrimSpace(out) != "" {
		t.Errorf("dead letters after the replay:\n%s", out)
	}
}

func TestCLI_OneRosterSync(t *testing.T) {
	dir := t.TempDir()
	or := onerostertest.New("lrs-client", "or-secret-7c1")
	defer or.Close()
	or.SetRoster(onerostertest.Roster{
		Orgs:        []map[string]any{onerostertest.Org("school", "School", "school", "")},
		Users:       []map[string]any{onerostertest.User("t1", "T", "T", "teacher", "school"), onerostertest.User("s1", "S", "S", "student", "school", "mpass-s1")},
		Classes:     []map[string]any{onerostertest.Class("c1", "7A", "school")},
		Enrollments: []map[string]any{onerostertest.Enrollment("e1", "c1", "t1", "teacher"), onerostertest.Enrollment("e2", "c1", "s1", "student")},
	})
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	secret := map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1"}

	t.Run("ErrNoRosterURL", func(t *testing.T) {
		mustCLI(t, dir, secret, "oneroster", "set", "--tenant", "espoo", "--url", or.BaseURL(), "--token-url", or.TokenURL(), "--client-id", "lrs-client")
		if _, err := cli(t, dir, nil, "oneroster", "sync", "--tenant", "espoo"); err == nil || !strings.Contains(err.Error(), "no OneRoster rostering URL") {
			t.Errorf("sync without a rostering URL: %v", err)
		}
	})
	t.Run("ErrInvalidRosterURL", func(t *testing.T) {
		_, err := cli(t, dir, secret, "oneroster", "set", "--tenant", "espoo", "--url", or.BaseURL(), "--token-url", or.TokenURL(),
			"--client-id", "lrs-client", "--roster-url", or.BaseURL())
		if err == nil || !strings.Contains(err.Error(), "rosterUrl: must end with /ims/oneroster/rostering/v1p2") || !strings.Contains(err.Error(), "--roster-url") {
			t.Errorf("set with a gradebook URL as rostering URL: %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		mustCLI(t, dir, nil, "oneroster", "set", "--tenant", "espoo", "--url", or.BaseURL(), "--token-url", or.TokenURL(),
			"--client-id", "lrs-client", "--roster-url", or.RosterURL())
		if out := mustCLI(t, dir, nil, "oneroster", "show", "--tenant", "espoo"); !strings.Contains(out, "rostering:               "+or.RosterURL()) {
			t.Errorf("show: %s", out)
		}
		out := mustCLI(t, dir, nil, "oneroster", "sync", "--tenant", "espoo")
		if !strings.Contains(out, "synced the roster of tenant espoo: 2 users, 1 classes, 2 enrollments, 1 orgs") {
			t.Errorf("sync: %s", out)
		}
		var v lrs.RosterJSON
		if err := json.Unmarshal([]byte(mustCLI(t, dir, nil, "oneroster", "roster", "--tenant", "espoo", "--json")), &v); err != nil || v.Users != 2 || v.Synced == nil {
			t.Errorf("roster --json: %+v, %v", v, err)
		}
		withStore(t, dir, func(s *sqlitestore.Store) {
			if p, err := s.RosterPerson(t.Context(), "espoo", "mpass-s1"); err != nil || p.SourcedID != "s1" {
				t.Errorf("RosterPerson after the CLI sync: %+v, %v", p, err)
			}
		})
	})
	t.Run("ErrFailingKeepsLastGood", func(t *testing.T) {
		or.FailRosterPage("classes", 0, http.StatusInternalServerError)
		defer or.FailRosterPage("classes", 0, 0)
		if _, err := cli(t, dir, nil, "oneroster", "sync", "--tenant", "espoo"); err == nil || !strings.Contains(err.Error(), "status 500") {
			t.Errorf("sync of a failing service: %v", err)
		}
		if out := mustCLI(t, dir, nil, "oneroster", "roster", "--tenant", "espoo"); !strings.Contains(out, "2 users") || !strings.Contains(out, "the last sync failed at") {
			t.Errorf("roster after a failed sync: %s", out)
		}
	})
	t.Run("FromEnvironment", func(t *testing.T) {
		mustCLI(t, dir, nil, "tenant", "create", "default")
		vars := map[string]string{"LRS_ONEROSTER_URL": or.BaseURL(), "LRS_ONEROSTER_TOKEN_URL": or.TokenURL(),
			"LRS_ONEROSTER_CLIENT_ID": "lrs-client", "LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1", "LRS_ONEROSTER_ROSTER_URL": or.RosterURL()}
		if out := mustCLI(t, dir, vars, "oneroster", "sync", "--tenant", "default"); !strings.Contains(out, "2 users") {
			t.Errorf("sync of the tenant from the environment: %s", out)
		}
		vars["LRS_ONEROSTER_ROSTER_URL"] = or.BaseURL()
		if _, err := cli(t, dir, vars, "oneroster", "sync", "--tenant", "default"); err == nil || !strings.Contains(err.Error(), "LRS_ONEROSTER_ROSTER_URL") {
			t.Errorf("sync with a bad LRS_ONEROSTER_ROSTER_URL: %v", err)
		}
	})
}

func TestCLI_TenantIdentityValues(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo", "--identity-values", "1.2.246.562.10.1")
	mustCLI(t, dir, nil, "tenant", "create", "vantaa")
	if _, err := cli(t, dir, nil, "tenant", "update", "vantaa", "--identity-values", "1.2.246.562.10.1"); err == nil || !strings.Contains(err.Error(), "belongs to tenant espoo") {
		t.Errorf("update with espoo's value: %v", err)
	}
	out := mustCLI(t, dir, nil, "tenant", "update", "espoo", "--identity-values", "1.2.246.562.10.1,1.2.246.562.10.2", "--json")
	var v lrs.TenantJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil || strings.Join(v.IdentityValues, ",") != "1.2.246.562.10.1,1.2.246.562.10.2" {
		t.Errorf("update --json: %s, %v", out, err)
	}
	mustCLI(t, dir, nil, "tenant", "update", "espoo", "--identity-values", "none")
	withStore(t, dir, func(s *sqlitestore.Store) {
		if _, err := s.TenantByIdentity(t.Context(), "1.2.246.562.10.1"); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("TenantByIdentity after none: %v", err)
		}
	})
	if _, err := cli(t, dir, nil, "tenant", "update", "espoo"); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Errorf("update without flags: %v", err)
	}
}
