package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
		parseServeConfig([]string{"-h"}, env(map[string]string{"LRS_MONGO_URI": "mongodb://user:secret@db/"}), &out)
		if strings.Contains(out.String(), "secret") {
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
