package signin

import (
	"reflect"
	"testing"
)

func TestParseRoles(t *testing.T) {
	for _, tt := range []struct {
		name  string
		claim any
		want  []Role
		role  Kind
	}{
		{"code learner", "Helsinki;00123;7B;1", []Role{{"Helsinki", "00123", "7B", Learner}}, Learner},
		{"Finnish teacher", []any{"Espoo;00200;9A;Opettaja"}, []Role{{"Espoo", "00200", "9A", Teacher}}, Teacher},
		{"Finnish learner names", []any{"a;1;x;Oppilas", "a;1;y;oppija", "a;1;z;OPISKELIJA"}, []Role{{"a", "1", "x", Learner}, {"a", "1", "y", Learner}, {"a", "1", "z", Learner}}, Learner},
		{"Swedish", []any{"Vaasa;3;;Elev", "Vaasa;3;;Lärare", "Vaasa;3;;Rektor", "Vaasa;3;;Inlärare"}, []Role{{"Vaasa", "3", "", Learner}, {"Vaasa", "3", "", Teacher}, {"Vaasa", "3", "", Principal}}, Principal},
		{"principal code, no group", "Oulu;00400;6", []Role{{"Oulu", "00400", "", Principal}}, Principal},
		{"several, strongest wins", []any{"Tampere;1;5A;Oppilas", "Tampere;2;;Opettaja"}, []Role{{"Tampere", "1", "5A", Learner}, {"Tampere", "2", "", Teacher}}, Teacher},
		{"joined with ;", "Lahti;1;3B;2;Lahti;2;;6", []Role{{"Lahti", "1", "3B", Teacher}, {"Lahti", "2", "", Principal}}, Principal},
		{"unknown codes ignored", []any{"Turku;1;;3", "Turku;1;;4", "Turku;1;;5", "Turku;1;;Koulusihteeri", "Turku;1;;Opettaja"}, []Role{{"Turku", "1", "", Teacher}}, Teacher},
		{"duplicates once", []any{"a;b;c;1", "a;b;c;1"}, []Role{{"a", "b", "c", Learner}}, Learner},
		{"malformed", []any{"", "Opettaja", "a;b", "a;b;c;d;e", ";;;", 2, nil}, nil, ""},
		{"not a string", 42, nil, ""},
		{"absent", nil, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseRoles(tt.claim)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseRoles(%#v) = %#v, want %#v", tt.claim, got, tt.want)
			}
			p := Person{Roles: got}
			if got, want := p.Role(), tt.role; got != want {
				t.Errorf("Role() = %q, want %q", got, want)
			}
		})
	}
}

func TestReturnPath(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "/", true},
		{"/ui/", "/ui/", true},
		{"/ui/class?id=7#x", "/ui/class?id=7#x", true},
		{"//evil.example/", "", false},
		{"https://evil.example/", "", false},
		{"/\\evil.example", "", false},
		{"/\t/evil.example", "", false},
		{"/\n/evil.example", "", false},
		{"evil.example", "", false},
		{"javascript:alert(1)", "", false},
	} {
		got, ok := returnPath(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("returnPath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConfig_Check(t *testing.T) {
	ok := Config{Issuer: "https://mpass-proxy.csc.fi", ClientID: "lrs", ClientSecret: "s", PublicURL: "https://lrs.example.fi"}
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"OK", func(*Config) {}, ""},
		{"loopback http", func(c *Config) { c.Issuer, c.PublicURL = "http://127.0.0.1:9", "http://localhost:8080" }, ""},
		{"no provider", func(c *Config) { *c = Config{} }, ""},
		{"no provider, public URL", func(c *Config) { *c = Config{PublicURL: "https://lrs.example.fi"} }, ""},
		{"no provider, http public", func(c *Config) { *c = Config{PublicURL: "http://lrs.example.fi"} }, `PublicURL "http://lrs.example.fi": want https://host[:port][/path] with no query (http only on a loopback host)`},
		{"client without issuer", func(c *Config) { c.Issuer = "" }, "ClientID, ClientSecret: set, but Issuer missing"},
		{"no public URL", func(c *Config) { c.PublicURL = "" }, "PublicURL: required with an Issuer"},
		{"http issuer", func(c *Config) { c.Issuer = "http://idp.example.fi" }, `Issuer "http://idp.example.fi": want an https URL (http only on a loopback host)`},
		{"no client", func(c *Config) { c.ClientID = "" }, "ClientID: required with an Issuer"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret: required with an Issuer"},
		{"http public", func(c *Config) { c.PublicURL = "http://lrs.example.fi" }, `PublicURL "http://lrs.example.fi": want https://host[:port][/path] with no query (http only on a loopback host)`},
		{"short key", func(c *Config) { c.SessionKeys = [][]byte{make([]byte, 16)} }, "SessionKeys[0]: want 32 bytes, have 16"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			got := ""
			if err := c.Check(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Check() = %q, want %q", got, tt.want)
			}
		})
	}
}
