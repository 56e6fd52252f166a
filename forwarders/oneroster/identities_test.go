package oneroster_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

func TestIdentities(t *testing.T) {
	ctx := t.Context()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	admin := &oneroster.Admin{Store: store}
	ids := &oneroster.Identities{Admin: admin}
	key := func(home, name string) string {
		a := statements.Actor{Account: &statements.Account{HomePage: home, Name: name}}
		return a.Key()
	}
	const home = oneroster.DefaultIdentityHomePage

	t.Run("Default", func(t *testing.T) {
		got, err := ids.Agents(ctx, "t1", "u1")
		if want := []string{key(home, "u1"), key(home+"/", "u1")}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Agents: %v %v, want %v", got, err, want)
		}
	})

	t.Run("Mapped", func(t *testing.T) {
		if _, err := admin.SetStudents(ctx, "t1", []oneroster.StudentMapping{{Account: "alias-1", SourcedID: "u1"}, {Account: "alias-2", SourcedID: "u2"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.SetActivities(ctx, "t1", []oneroster.ActivityMapping{
			{ActivityID: "https://app.test/a", Target: oneroster.Target{LineItem: "li-1", Class: "7A"}},
			{ActivityID: "https://app.test/b", Target: oneroster.Target{LineItem: "li-2"}},
		}); err != nil {
			t.Fatal(err)
		}
		ids.Forget("t1")
		got, _ := ids.Agents(ctx, "t1", "u1")
		if want := []string{key(home, "u1"), key(home+"/", "u1"), key(home, "alias-1"), key(home+"/", "alias-1")}; !slices.Equal(got, want) {
			t.Errorf("Agents of a mapped user: %v, want %v", got, want)
		}
		other, _ := ids.Agents(ctx, "t2", "u1")
		if len(other) != 2 {
			t.Errorf("another tenant's u1 took t1's mapping: %v", other)
		}
		items, _ := ids.LineItems(ctx, "t1", "7A")
		if !slices.Equal(items, []string{"https://app.test/a"}) {
			t.Errorf("LineItems of 7A: %v", items)
		}
	})

	t.Run("UserIds", func(t *testing.T) {
		if err := store.ReplaceRoster(ctx, "t1", &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond),
			Users: []statements.RosterUser{{SourcedID: "u2", Identities: []string{"u2", "MPASSOID.abc"}}}}); err != nil {
			t.Fatal(err)
		}
		ids := &oneroster.Identities{Admin: admin, Roster: store}
		got, _ := ids.Agents(ctx, "t1", "u2")
		want := []string{key(home, "u2"), key(home+"/", "u2"), key(home, "alias-2"), key(home+"/", "alias-2"),
			key(home, "MPASSOID.abc"), key(home+"/", "MPASSOID.abc")}
		if !slices.Equal(got, want) {
			t.Errorf("Agents of a user with a userIds identifier: %v, want %v", got, want)
		}
	})

	t.Run("RequireStudentMapping", func(t *testing.T) {
		if err := admin.SetConfig(ctx, "t1", oneroster.TenantConfig{BaseURL: "https://or.test/ims/oneroster/gradebook/v1p2",
			TokenURL: "https://or.test/token", ClientID: "c", ClientSecret: "s", IdentityHomePage: "https://id.test/",
			RequireStudentMapping: true}); err != nil {
			t.Fatal(err)
		}
		ids.Forget("t1")
		got, _ := ids.Agents(ctx, "t1", "u1")
		if want := []string{key("https://id.test", "alias-1"), key("https://id.test/", "alias-1")}; !slices.Equal(got, want) {
			t.Errorf("Agents with mapping required: %v, want %v", got, want)
		}
		if got, _ := ids.Agents(ctx, "t1", "u9"); len(got) != 0 {
			t.Errorf("Agents of an unmapped user with mapping required: %v, want none", got)
		}
	})
}

func TestTenantConfig_StalledAfter(t *testing.T) {
	c := oneroster.TenantConfig{BaseURL: "https://or.test/ims/oneroster/gradebook/v1p2", TokenURL: "https://or.test/token", ClientID: "c", ClientSecret: "s"}
	if got := c.StalledAfter(); got != 7*24*time.Hour {
		t.Errorf("default: %v, want 7 days", got)
	}
	c.StalledAfterDays = 3
	if err := c.Check(); err != nil || c.StalledAfter() != 3*24*time.Hour {
		t.Errorf("3 days: %v %v", err, c.StalledAfter())
	}
	c.StalledAfterDays = 400
	if err := c.Check(); err == nil || !strings.HasPrefix(err.Error(), "stalledAfterDays:") {
		t.Errorf("400 days: %v, want an error naming stalledAfterDays", err)
	}
}
