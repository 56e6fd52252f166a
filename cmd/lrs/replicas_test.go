package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseServeConfig_Replicas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    int
		wantErr bool
	}{
		{"DefaultAuto", nil, nil, 0, false},
		{"Flag", []string{"--replicas", "3"}, nil, 3, false},
		{"Environment", nil, map[string]string{"LRS_REPLICAS": "2"}, 2, false},
		{"EnvironmentAuto", nil, map[string]string{"LRS_REPLICAS": "auto"}, 0, false},
		{"FlagWins", []string{"--replicas", "auto"}, map[string]string{"LRS_REPLICAS": "2"}, 0, false},
		{"ErrZero", []string{"--replicas", "0"}, nil, 0, true},
		{"ErrWord", []string{"--replicas", "many"}, nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServeConfig(tc.args, env(tc.env), io.Discard)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--replicas") {
					t.Errorf("err = %v, want an error naming --replicas", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Replicas != tc.want {
				t.Errorf("Replicas: got %d, want %d", cfg.Replicas, tc.want)
			}
		})
	}
}

// TestServe_Replicas: two lrs serve processes on one MongoDB database
// count each other, report it and the store's size on /metrics, accept
// together no more than a credential's burst, and count one fewer when
// one shuts down. On the embedded store, the pinned count applies.
func TestServe_Replicas(t *testing.T) {
	db := fmt.Sprintf("lrs_replicas_%d_%d", os.Getpid(), time.Now().UnixNano())
	start := func() runningApp {
		cfg, err := parseServeConfig([]string{"--store", "mongo", "--mongo-uri", testMongoURI(t), "--mongo-database", db,
			"--addr", "127.0.0.1:0", "--log-level", "disabled"},
			env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret", "LRS_ADMIN_TOKEN": "replicas-admin"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg.replicaInterval = 200 * time.Millisecond
		return startApp(t, cfg, io.Discard)
	}
	a, b := start(), start()
	// b counted a before it served; a counts b at its next beat.
	if m := metrics(t, b); !strings.Contains(m, "\nlrs_replicas 2\n") {
		t.Error("a replica started after another does not count 2 when it starts serving")
	}
	waitMetric(t, a, "lrs_replicas 2")
	m := metrics(t, a)
	for _, want := range []string{"lrs_store_size_bytes ", "lrs_store_statements 0"} {
		if !strings.Contains(m, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	adminCall(t, a, "POST", "/admin/tenants", `{"id":"espoo","limits":{"rate":1,"burst":10}}`, http.StatusCreated)
	var cred struct{ Key, Secret string }
	json.Unmarshal(adminCall(t, a, "POST", "/admin/tenants/espoo/credentials", `{"scopes":["all"]}`, http.StatusCreated), &cred)
	accepted := 0
	for i := range 30 {
		srv := []runningApp{a, b}[i%2]
		if get(t, "http://"+srv.Addr()+"/xapi/statements?statementId=00000000-0000-4000-8000-000000000000", cred.Key, cred.Secret).StatusCode != http.StatusTooManyRequests {
			accepted++
		}
	}
	t.Logf("2 replicas accepted %d of 30 requests of a credential with a burst of 10", accepted)
	// The burst, and what the rate (1 a second) added while the requests ran.
	if accepted < 10 || accepted > 12 {
		t.Errorf("2 replicas accepted %d of 30 requests, want the credential's burst of 10 (up to 12 with the rate)", accepted)
	}

	b.stop()
	waitMetric(t, a, "lrs_replicas 1")
}

// metrics returns the /metrics of a.
func metrics(t *testing.T, a runningApp) string {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitMetric waits up to 10 s for a line of a's /metrics.
func waitMetric(t *testing.T, a runningApp, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(metrics(t, a), "\n"+line+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics of %s lacks %q after 10 s", a.Addr(), line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func adminCall(t *testing.T, a runningApp, method, path, body string, want int) []byte {
	t.Helper()
	return call(t, "http://"+a.Addr(), method, path, "replicas-admin", body, want)
}

// TestServe_ReplicasPinned: --replicas N divides the limits by N without
// counting; the embedded store reports its size.
func TestServe_ReplicasPinned(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "disabled", "--replicas", "4"},
		env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	m := metrics(t, a)
	for _, want := range []string{"\nlrs_replicas 4\n", "\nlrs_store_size_bytes "} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(m, "\nlrs_store_statements ") {
		t.Error("/metrics has lrs_store_statements for the embedded store, which keeps no count")
	}
}
