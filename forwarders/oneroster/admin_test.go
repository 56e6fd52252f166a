package oneroster_test

import (
	"testing"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

func TestAdmin_StudentOf(t *testing.T) {
	ctx := t.Context()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	strict := oneroster.TenantConfig{BaseURL: "https://or.test/ims/oneroster/gradebook/v1p2", TokenURL: "https://or.test/token",
		ClientID: "c", ClientSecret: "s", IdentityHomePage: "https://idp.test/", RequireStudentMapping: true}
	admin := &oneroster.Admin{Store: store, Static: map[string]oneroster.TenantConfig{"strict": strict}}
	if _, err := admin.SetStudents(ctx, "t1", []oneroster.StudentMapping{{Account: "alias-1", SourcedID: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetStudents(ctx, "strict", []oneroster.StudentMapping{{Account: "alias-2", SourcedID: "u2"}}); err != nil {
		t.Fatal(err)
	}
	account := func(home, name string) statements.Actor {
		return statements.Actor{Account: &statements.Account{HomePage: home, Name: name}}
	}
	const home = oneroster.DefaultIdentityHomePage
	for _, tc := range []struct {
		name, tenant string
		agent        statements.Actor
		want         string
		ok           bool
	}{
		{"Default", "t1", account(home, "u9"), "u9", true},
		{"TrailingSlash", "t1", account(home+"/", "u9"), "u9", true},
		{"Mapped", "t1", account(home, "alias-1"), "u1", true},
		{"OtherHomePage", "t1", account("https://elsewhere.test", "u9"), "", false},
		{"Mbox", "t1", statements.Actor{Mbox: "mailto:u9@example.fi"}, "", false},
		{"StrictMapped", "strict", account("https://idp.test", "alias-2"), "u2", true},
		{"StrictUnmapped", "strict", account("https://idp.test", "u9"), "", false},
		{"StrictDefaultHomePage", "strict", account(home, "alias-2"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := admin.StudentOf(ctx, tc.tenant, tc.agent)
			if err != nil || got != tc.want || ok != tc.ok {
				t.Errorf("StudentOf: %q %v %v, want %q %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}
