package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements/sqlitestore"
)

func TestParseServeConfig_Mongo(t *testing.T) {
	t.Run("Flags", func(t *testing.T) {
		cfg, err := parseServeConfig([]string{"--store", "mongo", "--mongo-uri", "mongodb://db:27017/", "--mongo-database", "lrs_fi"}, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store != "mongo" || cfg.MongoURI != "mongodb://db:27017/" || cfg.MongoDatabase != "lrs_fi" {
			t.Errorf("got %+v", cfg)
		}
	})
	t.Run("EnvironmentFallback", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(map[string]string{
			"LRS_STORE": "mongo", "LRS_MONGO_URI": "mongodb://a/", "LRS_MONGO_DATABASE": "x",
		}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Store != "mongo" || cfg.MongoURI != "mongodb://a/" || cfg.MongoDatabase != "x" {
			t.Errorf("got %+v", cfg)
		}
		if got := mongoDatabase(serveConfig{}); got != "lrs" {
			t.Errorf("default database: got %q, want lrs", got)
		}
	})
	t.Run("URIFromFile", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "uri")
		os.WriteFile(f, []byte("mongodb://user:pw@db/\n"), 0o600)
		cfg, err := parseServeConfig([]string{"--store", "mongo"}, env(map[string]string{"LRS_MONGO_URI_FILE": f}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MongoURI != "mongodb://user:pw@db/" {
			t.Errorf("MongoURI: got %q", cfg.MongoURI)
		}
	})
	t.Run("FlagWins", func(t *testing.T) {
		cfg, err := parseServeConfig([]string{"--store", "mongo", "--mongo-uri", "mongodb://flag/"},
			env(map[string]string{"LRS_MONGO_URI": "mongodb://env/"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MongoURI != "mongodb://flag/" {
			t.Errorf("MongoURI: got %q", cfg.MongoURI)
		}
	})
	t.Run("ErrNoURI", func(t *testing.T) {
		_, err := parseServeConfig([]string{"--store", "mongo"}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--mongo-uri") {
			t.Errorf("err = %v, want an error naming --mongo-uri", err)
		}
	})
	t.Run("HelpHidesURI", func(t *testing.T) {
		var out strings.Builder
		parseServeConfig([]string{"-h"}, env(map[string]string{"LRS_MONGO_URI": "mongodb://user:pw-9f3e@db/"}), &out)
		if strings.Contains(out.String(), "pw-9f3e") {
			t.Errorf("-h prints the URI from the environment:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "-mongo-uri") || !strings.Contains(out.String(), "-mongo-database") {
			t.Errorf("-h does not list the MongoDB flags:\n%s", out.String())
		}
	})
}

// TestServe_MongoUnreachable: start-up fails with a message that names the
// server and not its password.
func TestServe_MongoUnreachable(t *testing.T) {
	cfg := serveConfig{Addr: "127.0.0.1:0", Store: "mongo", MongoURI: "mongodb://lrs:hunter2@127.0.0.1:1/",
		LogLevel: "disabled", mongoTimeout: 300 * time.Millisecond}
	_, err := newApp(context.Background(), cfg, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("newApp with an unreachable MongoDB: no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach MongoDB at 127.0.0.1:1") || strings.Contains(msg, "hunter2") {
		t.Errorf("error: %q, want it to name the server, not the password", msg)
	}
}

func TestParseServeConfig_TrustedProxies(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--trusted-proxies", "10.0.0.0/8, 192.168.1.7"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := splitList(cfg.TrustedProxies), []string{"10.0.0.0/8", "192.168.1.7"}; !slices.Equal(got, want) {
		t.Errorf("trusted proxies %q, want %q", got, want)
	}
	_, err = parseServeConfig(nil, env(map[string]string{"LRS_TRUSTED_PROXIES": "proxy.example.fi"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--trusted-proxies") {
		t.Errorf("err = %v, want an error naming --trusted-proxies", err)
	}
}

func TestParseServeConfig_BootstrapXAPIVersion(t *testing.T) {
	cfg, err := parseServeConfig(nil, env(map[string]string{"LRS_BOOTSTRAP_XAPI_VERSION": "1.0.3"}), io.Discard)
	if err != nil || cfg.BootstrapXAPIVersion != "1.0.3" {
		t.Errorf("BootstrapXAPIVersion = %q, %v; want 1.0.3", cfg.BootstrapXAPIVersion, err)
	}
	_, err = parseServeConfig(nil, env(map[string]string{"LRS_BOOTSTRAP_XAPI_VERSION": "1.0"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "LRS_BOOTSTRAP_XAPI_VERSION") {
		t.Errorf("err = %v, want an error naming LRS_BOOTSTRAP_XAPI_VERSION", err)
	}
}

func TestParseServeConfig_OneRoster(t *testing.T) {
	full := map[string]string{
		"LRS_ONEROSTER_URL":           "https://gb.example.fi/ims/oneroster/gradebook/v1p2",
		"LRS_ONEROSTER_TOKEN_URL":     "https://gb.example.fi/token",
		"LRS_ONEROSTER_CLIENT_ID":     "lrs",
		"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1",
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := maps.Clone(m)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	t.Run("None", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if static, err := oneRosterStatic(cfg); err != nil || static != nil {
			t.Errorf("static: %v, %v; want none", static, err)
		}
	})
	t.Run("EnvironmentFallback", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(with(full, "LRS_ONEROSTER_TENANT", "espoo",
			"LRS_ONEROSTER_IDENTITY_HOME_PAGE", "https://idp.example.fi", "LRS_ONEROSTER_VERBS", "http://adlnet.gov/expapi/verbs/passed, http://adlnet.gov/expapi/verbs/failed")), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		static, err := oneRosterStatic(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := oneroster.TenantConfig{BaseURL: full["LRS_ONEROSTER_URL"], TokenURL: full["LRS_ONEROSTER_TOKEN_URL"], ClientID: "lrs",
			ClientSecret: "or-secret-7c1", IdentityHomePage: "https://idp.example.fi",
			Verbs: []string{"http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed"}}
		if got := static["espoo"]; len(static) != 1 || !reflect.DeepEqual(got, want) {
			t.Errorf("static: %+v, want espoo: %+v", static, want)
		}
	})
	t.Run("DefaultTenant", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(full), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if static, _ := oneRosterStatic(cfg); static["default"].ClientID != "lrs" {
			t.Errorf("static: %+v, want the tenant default", static)
		}
	})
	t.Run("SecretFromFile", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "secret")
		os.WriteFile(f, []byte("from-file\n"), 0o600)
		cfg, err := parseServeConfig(nil, env(with(full, "LRS_ONEROSTER_CLIENT_SECRET", "", "LRS_ONEROSTER_CLIENT_SECRET_FILE", f)), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.OneRosterClientSecret != "from-file" {
			t.Errorf("secret: %q", cfg.OneRosterClientSecret)
		}
		g := filepath.Join(t.TempDir(), "flag-secret")
		os.WriteFile(g, []byte("from-flag"), 0o600)
		cfg, err = parseServeConfig([]string{"--oneroster-client-secret-file", g, "--oneroster-client-id", "flag-id"}, env(full), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.OneRosterClientSecret != "from-flag" || cfg.OneRosterClientID != "flag-id" {
			t.Errorf("flags do not win: %q %q", cfg.OneRosterClientSecret, cfg.OneRosterClientID)
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		for _, name := range []string{"LRS_ONEROSTER_URL", "LRS_ONEROSTER_TOKEN_URL", "LRS_ONEROSTER_CLIENT_ID", "LRS_ONEROSTER_CLIENT_SECRET"} {
			_, err := parseServeConfig(nil, env(with(full, name, "")), io.Discard)
			if err == nil || !strings.Contains(err.Error(), name+" (or --oneroster-") {
				t.Errorf("without %s: err = %v, want an error naming it", name, err)
			} else if strings.Contains(err.Error(), "or-secret-7c1") {
				t.Errorf("without %s: the error prints the secret: %v", name, err)
			}
		}
		_, err := parseServeConfig(nil, env(map[string]string{"LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1"}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "LRS_ONEROSTER_URL") || strings.Contains(err.Error(), "or-secret-7c1") {
			t.Errorf("only the secret: err = %v, want an error naming LRS_ONEROSTER_URL and not the secret", err)
		}
	})
	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := parseServeConfig(nil, env(with(full, "LRS_ONEROSTER_URL", "https://gb.example.fi/v1")), io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "LRS_ONEROSTER_URL (--oneroster-url): must end with") {
			t.Errorf("err = %v, want an error naming LRS_ONEROSTER_URL", err)
		}
	})
	t.Run("RosterURL", func(t *testing.T) {
		rosterURL := "https://sis.example.fi/ims/oneroster/rostering/v1p2"
		cfg, err := parseServeConfig(nil, env(with(full, "LRS_ONEROSTER_ROSTER_URL", rosterURL,
			"LRS_ONEROSTER_ROSTER_SCOPE", oneroster.ScopeRoster, "LRS_ROSTER_SYNC_INTERVAL", "30m")), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if static, _ := oneRosterStatic(cfg); static["default"].RosterURL != rosterURL || static["default"].RosterScope != oneroster.ScopeRoster {
			t.Errorf("static: %+v, want the rostering URL and scope", static)
		}
		if cfg.RosterSyncInterval != 30*time.Minute {
			t.Errorf("RosterSyncInterval: %v, want 30m", cfg.RosterSyncInterval)
		}
		for _, tc := range []struct {
			vars map[string]string
			want string
		}{
			{with(full, "LRS_ONEROSTER_ROSTER_URL", "https://sis.example.fi/v1"), "LRS_ONEROSTER_ROSTER_URL (--oneroster-roster-url): must end with"},
			{map[string]string{"LRS_ONEROSTER_ROSTER_URL": rosterURL}, "LRS_ONEROSTER_ROSTER_URL (--oneroster-roster-url) needs the OneRoster client"},
			{with(full, "LRS_ONEROSTER_ROSTER_URL", rosterURL, "LRS_ONEROSTER_ROSTER_SCOPE", "x"), "LRS_ONEROSTER_ROSTER_SCOPE (--oneroster-roster-scope): must be"},
			{with(full, "LRS_ROSTER_SYNC_INTERVAL", "5s"), "--roster-sync-interval"},
		} {
			if _, err := parseServeConfig(nil, env(tc.vars), io.Discard); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		}
	})
	t.Run("HelpHidesSecret", func(t *testing.T) {
		var out strings.Builder
		parseServeConfig([]string{"-h"}, env(full), &out)
		if strings.Contains(out.String(), "or-secret-7c1") || !strings.Contains(out.String(), "-oneroster-url") {
			t.Errorf("-h:\n%s", out.String())
		}
	})
}

func TestParseServeConfig_CORSOrigins(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--cors-origins", "https://app.example.fi, http://localhost:3000"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := splitList(cfg.CORSOrigins), []string{"https://app.example.fi", "http://localhost:3000"}; !slices.Equal(got, want) {
		t.Errorf("CORS origins %q, want %q", got, want)
	}
	for _, bad := range []string{"app.example.fi", "https://app.example.fi/path", "*", "null"} {
		if _, err := parseServeConfig(nil, env(map[string]string{"LRS_CORS_ORIGINS": bad}), io.Discard); err == nil || !strings.Contains(err.Error(), "--cors-origins") {
			t.Errorf("%q: err = %v, want an error naming --cors-origins", bad, err)
		}
	}
}

func TestParseServeConfig_UIFrameAncestors(t *testing.T) {
	cfg, err := parseServeConfig(nil, env(nil), io.Discard)
	if err != nil || cfg.UIFrameAncestors != "" {
		t.Fatalf("default: %q, %v", cfg.UIFrameAncestors, err)
	}
	cfg, err = parseServeConfig([]string{"--ui-frame-ancestors", "'self', https://lms.example.fi *.moodle.example.fi:8443"}, env(nil), io.Discard)
	if got, want := cfg.UIFrameAncestors, "'self' https://lms.example.fi *.moodle.example.fi:8443"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if cfg, err := parseServeConfig(nil, env(map[string]string{"LRS_UI_FRAME_ANCESTORS": "'none'"}), io.Discard); err != nil || cfg.UIFrameAncestors != "'none'" {
		t.Errorf("LRS_UI_FRAME_ANCESTORS 'none': %q, %v", cfg.UIFrameAncestors, err)
	}
	for _, bad := range []string{"https://a.fi; script-src *", "'none' 'self'", "'unsafe-inline'", "https://a.fi/path", "*"} {
		if _, err := parseServeConfig(nil, env(map[string]string{"LRS_UI_FRAME_ANCESTORS": bad}), io.Discard); err == nil || !strings.Contains(err.Error(), "--ui-frame-ancestors") {
			t.Errorf("%q: err = %v, want an error naming --ui-frame-ancestors", bad, err)
		}
	}
}

func TestParseServeConfig_ConnectionLimits(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--max-connections", "100", "--body-grace", "3s"},
		env(map[string]string{"LRS_MAX_CONNECTIONS_PER_ADDRESS": "0", "LRS_MIN_BODY_RATE": "-1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConns != 100 || cfg.MaxConnsPerAddr != 0 || cfg.MinBodyRate != -1 || cfg.BodyGrace != 3*time.Second {
		t.Errorf("got %+v", cfg)
	}
	for name, e := range map[string]map[string]string{
		"--max-connections":             {"LRS_MAX_CONNECTIONS": "many"},
		"--max-connections-per-address": {"LRS_MAX_CONNECTIONS_PER_ADDRESS": "-2"},
		"--min-body-rate":               {"LRS_MIN_BODY_RATE": "0"},
		"--body-grace":                  {"LRS_BODY_GRACE": "soon"},
	} {
		if _, err := parseServeConfig(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err = %v, want an error naming %s", e, err, name)
		}
	}
}

// TestCLI_TenantCORSAndXAPIVersion: the CLI sets a tenant's CORS origins
// and a credential's declared xAPI version, and refuses bad values.
func TestCLI_TenantCORSAndXAPIVersion(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, dir, nil, "tenant", "create", "espoo")
	var tn struct {
		CORSOrigins []string
	}
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "tenant", "cors", "espoo", "https://app.espoo.example,https://lms.example", "--json")), &tn)
	if !slices.Equal(tn.CORSOrigins, []string{"https://app.espoo.example", "https://lms.example"}) {
		t.Errorf("tenant cors: origins %q", tn.CORSOrigins)
	}
	if _, err := cli(t, dir, nil, "tenant", "cors", "espoo", "app.espoo.example"); err == nil {
		t.Error("tenant cors with a bad origin: no error")
	}
	var c struct{ Key, XAPIVersion string }
	json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "create", "--tenant", "espoo", "--scopes", "all", "--xapi-version", "1.0.3", "--json")), &c)
	if c.XAPIVersion != "1.0.3" {
		t.Errorf("credential create --xapi-version 1.0.3: declared %q", c.XAPIVersion)
	}
	if out := mustCLI(t, dir, nil, "credential", "xapi-version", c.Key, "none", "--json"); strings.Contains(out, "xapiVersion") {
		t.Errorf("credential xapi-version none: %s", out)
	}
	if _, err := cli(t, dir, nil, "credential", "create", "--tenant", "espoo", "--scopes", "all", "--xapi-version", "1.0"); err == nil {
		t.Error("credential create --xapi-version 1.0: no error")
	}
	withStore(t, dir, func(s *sqlitestore.Store) {
		tn, err := s.Tenant(t.Context(), "espoo")
		if err != nil || len(tn.CORSOrigins) != 2 {
			t.Errorf("stored tenant: %+v, %v", tn, err)
		}
	})
}

// TestParseServeConfig_ValidatedUpFront: a wrong log level, address or
// Kafka setting is refused by the parse, before any store is opened.
func TestParseServeConfig_ValidatedUpFront(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"--log-level":            {"LRS_LOG_LEVEL": "loud"},
		"--addr":                 {"LRS_ADDR": "8080"},
		"--internal-addr":        {"LRS_INTERNAL_ADDR": "localhost"},
		"--kafka-compression":    {"LRS_KAFKA_COMPRESSION": "brotli"},
		"--kafka-sasl-mechanism": {"LRS_KAFKA_SASL_MECHANISM": "PLAIN"},
		"--kafka-brokers":        {"LRS_KAFKA_BROKERS": "kafka"},
	} {
		if _, err := parseServeConfig(nil, env(e), io.Discard); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err = %v, want an error naming %s", e, err, name)
		}
	}
}

func TestParseServeConfig_KafkaTopicTemplate(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		env      map[string]string
		template string // want, when wantErr is nil
		wantErr  []string
	}{
		{name: "OK", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": "xapi.statements.{tenant}"}, template: "xapi.statements.{tenant}"},
		{name: "OKFlag", args: []string{"--kafka-topic-template", "lrs-{tenant}"}, template: "lrs-{tenant}"},
		{name: "OKNone", env: map[string]string{"LRS_KAFKA_TOPIC": "xapi.all"}},
		{name: "ErrBoth", env: map[string]string{"LRS_KAFKA_TOPIC": "xapi.all", "LRS_KAFKA_TOPIC_TEMPLATE": "xapi.{tenant}"},
			wantErr: []string{"--kafka-topic ", "--kafka-topic-template", "not both"}},
		{name: "ErrBothFlags", args: []string{"--kafka-topic", "xapi.all", "--kafka-topic-template", "xapi.{tenant}"},
			wantErr: []string{"--kafka-topic ", "--kafka-topic-template"}},
		{name: "ErrNoPlaceholder", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": "xapi.statements"},
			wantErr: []string{"--kafka-topic-template", "{tenant} once"}},
		{name: "ErrTwice", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": "{tenant}.{tenant}"},
			wantErr: []string{"--kafka-topic-template", "not 2 times"}},
		{name: "ErrOtherPlaceholder", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": "xapi.{tenant}.{school}"},
			wantErr: []string{"--kafka-topic-template", `"{" is not allowed`}},
		{name: "ErrCharacter", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": "xapi/{tenant}"},
			wantErr: []string{"--kafka-topic-template", `"/" is not allowed`}},
		{name: "ErrTooLong", env: map[string]string{"LRS_KAFKA_TOPIC_TEMPLATE": strings.Repeat("x", 187) + ".{tenant}"},
			wantErr: []string{"--kafka-topic-template", "251", "249"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := cfg.KafkaTopicTemplate, tt.template; got != want {
					t.Errorf("template %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestCLI_TenantIDsFitTopicTemplates: the longest tenant id the LRS
// takes is kafkasink.MaxTenantLen characters of those legal in a Kafka
// topic, so a template kafkasink.CheckTopicTemplate passes renders a legal
// topic for every tenant.
func TestCLI_TenantIDsFitTopicTemplates(t *testing.T) {
	dir := t.TempDir()
	longest := "a" + strings.Repeat("z9_-", kafkasink.MaxTenantLen)[:kafkasink.MaxTenantLen-1]
	mustCLI(t, dir, nil, "tenant", "create", longest)
	for _, bad := range []string{longest + "x", "espoo.koulu", "Espoo", "espoo/koulu", "espoo koulu", "äänekoski"} {
		if _, err := cli(t, dir, nil, "tenant", "create", bad); err == nil {
			t.Errorf("tenant create %q: no error", bad)
		}
	}
}

// TestServe_BusyPortPrintsNoSecret: when the address is taken, serve
// fails before it opens the store, so no bootstrap secret is printed for
// an LRS that did not start.
func TestServe_BusyPortPrintsNoSecret(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	_, err = newApp(t.Context(), serveConfig{Addr: busy.Addr().String(), DataDir: dir, Store: "sqlite", LogLevel: "disabled"}, &out, io.Discard)
	if err == nil {
		t.Fatal("serve on a busy address: no error")
	}
	if strings.Contains(out.String(), "secret") {
		t.Errorf("serve on a busy address printed %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, sqlitestore.FileName)); err == nil {
		t.Error("serve on a busy address created the store")
	}
}

func TestParseServeConfig_GroupWait(t *testing.T) {
	cfg, err := parseServeConfig(nil, env(nil), io.Discard)
	if err != nil || cfg.GroupWait != nil {
		t.Errorf("no --group-wait: %v, %v; want the store's default", cfg.GroupWait, err)
	}
	for in, want := range map[string]time.Duration{"0": 0, "2ms": 2 * time.Millisecond, "100ms": 100 * time.Millisecond} {
		cfg, err := parseServeConfig(nil, env(map[string]string{"LRS_GROUP_WAIT": in}), io.Discard)
		if err != nil || cfg.GroupWait == nil || *cfg.GroupWait != want {
			t.Errorf("LRS_GROUP_WAIT=%s: %v, %v; want %v", in, cfg.GroupWait, err, want)
		}
	}
	for _, bad := range []string{"soon", "-1ms", "1s"} {
		if _, err := parseServeConfig([]string{"--group-wait", bad}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--group-wait") {
			t.Errorf("--group-wait %s: %v", bad, err)
		}
	}
}
