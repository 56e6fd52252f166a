package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/digione/lrs/conformance"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	t.Run("Flags", func(t *testing.T) {
		cfg, err := parseConfig([]string{"--endpoint", "http://lrs.test/xapi/", "--key", "k", "--secret", "s", "--version", "2.0.0", "--run", "^Data"}, &bytes.Buffer{}, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.Endpoint, "http://lrs.test/xapi/"; got != want {
			t.Errorf("Endpoint = %q, want %q", got, want)
		}
		if cfg.Key != "k" || cfg.Secret != "s" || cfg.Version != "2.0.0" {
			t.Errorf("Key, Secret, Version = %q, %q, %q", cfg.Key, cfg.Secret, cfg.Version)
		}
		if cfg.Match == nil || !cfg.Match.MatchString("Data 2.2.s2.b3") || cfg.Match.MatchString("Communication 1.3") {
			t.Errorf("Match = %v", cfg.Match)
		}
		if cfg.Client == nil || cfg.Client.Timeout <= 0 {
			t.Errorf("Client = %v, want one with a timeout", cfg.Client)
		}
	})
	t.Run("Environment", func(t *testing.T) {
		cfg, err := parseConfig(nil, &bytes.Buffer{}, env(map[string]string{
			"LRS_CONFORMANCE_ENDPOINT": "http://env.test/xapi",
			"LRS_CONFORMANCE_KEY":      "ek",
			"LRS_CONFORMANCE_SECRET":   "es",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Endpoint != "http://env.test/xapi" || cfg.Key != "ek" || cfg.Secret != "es" || cfg.Version != "" {
			t.Errorf("cfg = %+v", cfg)
		}
	})
	t.Run("FlagOverridesEnvironment", func(t *testing.T) {
		cfg, err := parseConfig([]string{"--key", "flag"}, &bytes.Buffer{}, env(map[string]string{
			"LRS_CONFORMANCE_ENDPOINT": "http://env.test/xapi",
			"LRS_CONFORMANCE_KEY":      "ek",
			"LRS_CONFORMANCE_SECRET":   "es",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.Key, "flag"; got != want {
			t.Errorf("Key = %q, want %q", got, want)
		}
	})
	t.Run("UsageErrors", func(t *testing.T) {
		full := []string{"--endpoint", "http://lrs.test/xapi/", "--key", "k", "--secret", "s"}
		for name, args := range map[string][]string{
			"no endpoint":      {"--key", "k", "--secret", "s"},
			"no key":           {"--endpoint", "http://lrs.test/xapi/", "--secret", "s"},
			"no secret":        {"--endpoint", "http://lrs.test/xapi/", "--key", "k"},
			"bad version":      append(full, "--version", "1.0.2"),
			"bad regexp":       append(full, "--run", "("),
			"not a URL":        {"--endpoint", "lrs.test", "--key", "k", "--secret", "s"},
			"unknown flag":     append(full, "--verbose"),
			"extra argument":   append(full, "extra"),
			"negative timeout": append(full, "--timeout", "-1s"),
		} {
			t.Run(name, func(t *testing.T) {
				_, err := parseConfig(args, &bytes.Buffer{}, env(nil))
				var usage *usageError
				if !errors.As(err, &usage) {
					t.Errorf("err = %v, want a usage error", err)
				}
			})
		}
	})
	t.Run("Help", func(t *testing.T) {
		var out bytes.Buffer
		_, err := parseConfig([]string{"-h"}, &out, env(nil))
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("err = %v, want flag.ErrHelp", err)
		}
		if !strings.Contains(out.String(), "--endpoint") {
			t.Errorf("usage output %q does not mention --endpoint", out.String())
		}
	})
}

// TestRun_Preflight runs against a server that is no LRS: the preflight
// stops the run with one error, and no check is reported.
func TestRun_Preflight(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"--endpoint", srv.URL + "/xapi/", "--key", "k", "--secret", "s"}, &out, env(nil))
	var pe *conformance.PreflightError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "is not the endpoint of an xAPI LRS") {
		t.Fatalf("err = %v, want a preflight error", err)
	}
	if out.Len() > 0 {
		t.Errorf("stdout = %q, want nothing", out.String())
	}
}
