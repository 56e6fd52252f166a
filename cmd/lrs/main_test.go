package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/lrs"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseServeConfig(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg, (serveConfig{Addr: ":8080", DataDir: "./lrs-data", Store: "sqlite", LogLevel: "info", OneRosterTenant: "default",
			MaxConns: 4096, MaxConnsPerAddr: 256, MinBodyRate: 1024}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("EnvironmentFallback", func(t *testing.T) {
		secretFile := filepath.Join(t.TempDir(), "secret")
		os.WriteFile(secretFile, []byte("s3cret\n"), 0o600)
		cfg, err := parseServeConfig(nil, env(map[string]string{
			"LRS_ADDR": "127.0.0.1:9", "LRS_DATA_DIR": "/d", "LRS_STORE": "sqlite",
			"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET_FILE": secretFile,
		}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg, (serveConfig{Addr: "127.0.0.1:9", DataDir: "/d", Store: "sqlite", LogLevel: "info",
			BootstrapKey: "k", BootstrapSecret: "s3cret", OneRosterTenant: "default", MaxConns: 4096, MaxConnsPerAddr: 256, MinBodyRate: 1024}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("FlagsWin", func(t *testing.T) {
		cfg, err := parseServeConfig([]string{"--addr", ":1", "--data-dir", "x"}, env(map[string]string{"LRS_ADDR": ":2"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Addr != ":1" || cfg.DataDir != "x" {
			t.Errorf("got %+v", cfg)
		}
	})
	t.Run("ErrUnknownStore", func(t *testing.T) {
		_, err := parseServeConfig([]string{"--store", "oracle"}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--store") {
			t.Errorf("err = %v, want an error naming --store", err)
		}
	})
	t.Run("Help", func(t *testing.T) {
		_, err := parseServeConfig([]string{"-h"}, env(nil), io.Discard)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("err = %v, want flag.ErrHelp", err)
		}
	})
}

func TestRun_UnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("err = %v", err)
	}
}

// TestServe_GeneratesBootstrapCredentialOnce starts the binary's app twice
// on one data directory: the first start prints a generated credential,
// the second prints none, and the credential works.
func TestServe_GeneratesBootstrapCredentialOnce(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: dir, Store: "sqlite", LogLevel: "disabled"}
	a := startApp(t, cfg, &out)
	key, secret := field(out.String(), "key:"), field(out.String(), "secret:")
	if key == "" || len(secret) < 16 {
		t.Fatalf("no generated credential printed: %q", out.String())
	}
	resp := get(t, "http://"+a.Addr()+"/xapi/statements", key, secret)
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("GET statements with the printed credential: %d, want %d", got, want)
	}
	if got, want := get(t, "http://"+a.Addr()+"/xapi/statements", key, "wrong").StatusCode, 401; got != want {
		t.Fatalf("GET statements with a wrong secret: %d, want %d", got, want)
	}
	a.stop()

	out.Reset()
	startApp(t, cfg, &out).stop()
	if strings.Contains(out.String(), "secret:") {
		t.Errorf("second start printed a credential again: %q", out.String())
	}
}

// TestReadmeExample runs the README's curl example, as written, against
// the LRS started the way the README says.
func TestReadmeExample(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the README example cannot be run")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)

	// The start command: environment assignments, go run ./cmd/lrs, flags.
	start := ""
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "LRS_BOOTSTRAP_KEY=") {
			start = line
		}
	}
	envs, args, ok := strings.Cut(start, "go run ./cmd/lrs")
	if !ok {
		t.Fatalf("README has no start command with a bootstrap credential")
	}
	vars := map[string]string{}
	for _, kv := range strings.Fields(envs) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := parseServeConfig(append(strings.Fields(args), "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "disabled"), env(vars), io.Discard)
	if err != nil {
		t.Fatalf("README start command: %v", err)
	}
	a := startApp(t, cfg, io.Discard)
	defer a.stop()

	_, block, ok := strings.Cut(text, "<!-- readme-example")
	if !ok {
		t.Fatal("README has no readme-example block")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	script := strings.ReplaceAll(block, "http://localhost:8080", "http://"+a.Addr())
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README example failed: %v\n%s", err, got)
	}
	for _, want := range []string{`"id":"2f1c3a9e-6b7d-4c1e-9a55-0d3f6e8b7c21"`, `"stored":"`, `"authority":`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("README example output lacks %s:\n%s", want, got)
		}
	}
}

type runningApp struct {
	*app
	stop func()
}

func startApp(t *testing.T, cfg serveConfig, stdout io.Writer) runningApp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, stdout, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return runningApp{a, stop}
}

func get(t *testing.T, url, key, secret string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(key, secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// field returns the word after label in text.
// call sends method path with body to the LRS at base and returns the
// answer's body, failing the test unless its status is want. auth
// "key:secret" is HTTP Basic, anything else a bearer token. Requests
// speak xAPI 2.0.0 and JSON.
func call(t *testing.T, base, method, path, auth, body string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if k, s, ok := strings.Cut(auth, ":"); ok {
		req.SetBasicAuth(k, s)
	} else {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

func field(text, label string) string {
	_, rest, ok := strings.Cut(text, label)
	if !ok {
		return ""
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// TestReadmeTenants runs the README's offline set-up of two municipalities
// and their vendor apps, as written but with the lrs command built once,
// then checks that the credentials it printed work, with their scopes.
func TestReadmeTenants(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- readme-tenants -->")
	if !ok {
		t.Fatal("README has no readme-tenants block")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")

	dir := t.TempDir()
	bin := filepath.Join(dir, "lrs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build lrs: %v\n%s", err, out)
	}
	script := strings.ReplaceAll(block, "go run ./cmd/lrs", bin)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README set-up failed: %v\n%s", err, out)
	}

	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "lrs-data"), Store: "sqlite", LogLevel: "disabled"}
	a := startApp(t, cfg, io.Discard)
	defer a.stop()
	base := "http://" + a.Addr() + "/xapi/statements"
	post := func(file string) (int, string) {
		var cred struct{ Key, Secret string }
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &cred); err != nil || cred.Key == "" || cred.Secret == "" {
			t.Fatalf("%s: %v: %s", file, err, b)
		}
		req, _ := http.NewRequest("POST", base, strings.NewReader(`{"actor":{"mbox":"mailto:a@example.fi"},
			"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://example.fi/a"}}`))
		req.SetBasicAuth(cred.Key, cred.Secret)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, cred.Key
	}
	for _, f := range []string{"espoo-vendor-a.json", "vantaa-vendor-b.json"} {
		if got, _ := post(f); got != http.StatusOK {
			t.Errorf("%s: POST statement: %d, want 200", f, got)
		}
	}
	// Vendor B declared xAPI 1.0.3: a request of it that names no version
	// is answered in 1.0.3, one of Vendor A in the newest version.
	for f, want := range map[string]string{"vantaa-vendor-b.json": "1.0.3", "espoo-vendor-a.json": "2.0.0"} {
		var cred struct{ Key, Secret string }
		b, _ := os.ReadFile(filepath.Join(dir, f))
		json.Unmarshal(b, &cred)
		req, _ := http.NewRequest("GET", base, nil)
		req.SetBasicAuth(cred.Key, cred.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Experience-API-Version") != want {
			t.Errorf("%s: GET without a version: %d, labelled %q; want 400, %q", f, resp.StatusCode, resp.Header.Get("X-Experience-API-Version"), want)
		}
	}
	if got, _ := post("espoo-reporting.json"); got != http.StatusForbidden {
		t.Errorf("read-only credential: POST statement: %d, want 403", got)
	}
}

// TestServe_OneRoster starts the LRS with a OneRoster tenant from the
// environment: a completion statement posted to it becomes a result in the
// gradebook, /metrics counts it, and the admin API shows the configuration
// without its secret.
func TestServe_OneRoster(t *testing.T) {
	book := onerostertest.New("lrs-client", "or-secret-7c1")
	defer book.Close()
	vars := map[string]string{
		"LRS_ONEROSTER_URL": book.BaseURL(), "LRS_ONEROSTER_TOKEN_URL": book.TokenURL(),
		"LRS_ONEROSTER_CLIENT_ID": "lrs-client", "LRS_ONEROSTER_CLIENT_SECRET": "or-secret-7c1",
		"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s", "LRS_ADMIN_TOKEN": "admin-token",
	}
	cfg, err := parseServeConfig([]string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "disabled"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	base := "http://" + a.Addr()

	p := poster{base: base, key: "k", secret: "s"}
	stmt := `{"id":"0b0c3a52-1e7d-4f5a-9c2b-5d1e8f0a7b31","actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"oppilas-1"}},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"object":{"id":"https://oppimateriaali.example.fi/t/1"},
		"result":{"score":{"raw":9,"min":0,"max":10}},
		"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":"li-1","https://digione.fi/xapi/extensions/oneroster/class":"c-1"}}}`
	if err := p.postRaw(stmt); err != nil {
		t.Fatal(err)
	}
	id := oneroster.ResultID("default", "li-1", "oppilas-1")
	deadline := time.Now().Add(10 * time.Second)
	for book.Result(id) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r := book.Result(id); r == nil || r["score"] != 9.0 {
		t.Fatalf("gradebook result %s: %v", id, r)
	}

	// The counter follows the gradebook's answer by a moment.
	var metrics []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(metrics), `lrs_oneroster_results_written_total{sink="oneroster"} 1`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{`lrs_oneroster_results_written_total{sink="oneroster"} 1`, `sink="oneroster"`, "lrs_relay_"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}

	req, _ := http.NewRequest("GET", base+"/admin/tenants/default/oneroster", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	view, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(view), `"source":"environment"`) || strings.Contains(string(view), "or-secret-7c1") {
		t.Errorf("GET /admin/tenants/default/oneroster: %d %s", resp.StatusCode, view)
	}
	a.stop()
}

// TestServe_DebugAddr serves the Go profiler only when asked, on its own
// listener, and stops it with the LRS.
func TestServe_DebugAddr(t *testing.T) {
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled", DebugAddr: "127.0.0.1:0"}
	a := startApp(t, cfg, io.Discard)
	if a.debug == nil {
		t.Fatal("no profiler with --debug-addr")
	}
	base := "http://" + a.debug.Addr()
	resp, err := http.Get(base + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("GET /debug/pprof/heap: %d %.100s", resp.StatusCode, body)
	}
	// The xAPI listener does not serve it.
	if got := get(t, "http://"+a.Addr()+"/debug/pprof/", "", "").StatusCode; got != 404 && got != 401 {
		t.Errorf("GET /debug/pprof/ on the xAPI address: %d, want 404 or 401", got)
	}
	a.stop()
	if _, err := http.Get(base + "/debug/pprof/"); err == nil {
		t.Error("the profiler still answers after the LRS stopped")
	}

	// Without the flag, none.
	b := startApp(t, serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled"}, io.Discard)
	defer b.stop()
	if b.debug != nil {
		t.Error("a profiler without --debug-addr")
	}
}

// TestServe_InternalAddr: with --internal-addr, /metrics, /admin/ and the
// profiler are served there and no longer on the public listener.
func TestServe_InternalAddr(t *testing.T) {
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled",
		InternalAddr: "127.0.0.1:0", AdminToken: "internal-admin-token"}
	a := startApp(t, cfg, io.Discard)
	if a.internal == nil {
		t.Fatal("no internal listener with --internal-addr")
	}
	status := func(base, path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer internal-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	public, internal := "http://"+a.Addr(), "http://"+a.internal.Addr()
	for _, path := range []string{"/metrics", "/admin/tenants", "/debug/pprof/"} {
		if got := status(internal, path); got != http.StatusOK {
			t.Errorf("internal %s: %d, want 200", path, got)
		}
		if got := status(public, path); got != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, got)
		}
	}
	for _, base := range []string{public, internal} {
		if got := status(base, "/readyz"); got != http.StatusOK {
			t.Errorf("%s/readyz: %d", base, got)
		}
	}
}

func TestRun_Version(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "lrs "+lrs.ProductVersion()+" (go") {
		t.Errorf("lrs version: %q", out.String())
	}
}
