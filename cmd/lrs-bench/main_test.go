package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

const (
	testKey    = "bench-key"
	testSecret = "bench-secret"
)

// MustOpenLRS starts the LRS in process on a fresh embedded store and
// returns its xAPI base URL.
func MustOpenLRS(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store}))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv.URL + "/xapi/"
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// countStatements pages through every statement of the LRS.
func countStatements(t *testing.T, base string) int {
	t.Helper()
	u := base + "statements?format=ids&limit=500"
	n := 0
	for u != "" {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.SetBasicAuth(testKey, testSecret)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Statements []json.RawMessage
			More       string
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
		}
		n += len(page.Statements)
		u = ""
		if page.More != "" {
			b, _ := url.Parse(base)
			m, _ := b.Parse(page.More)
			u = m.String()
		}
	}
	return n
}

// jsonReport is the --json report, as a client reads it.
type jsonReport struct {
	Mode                string  `json:"mode"`
	Requests            int64   `json:"requests"`
	Statements          int64   `json:"statements"`
	StatementsRead      int64   `json:"statements_read"`
	StatementsPerSecond float64 `json:"statements_per_second"`
	RequestsPerSecond   float64 `json:"requests_per_second"`
	P50                 float64 `json:"p50_ms"`
	P95                 float64 `json:"p95_ms"`
	P99                 float64 `json:"p99_ms"`
	Max                 float64 `json:"max_ms"`
	Errors              int64   `json:"errors"`
	OfferedPerSecond    float64 `json:"offered_per_second"`
	MaxBacklog          int64   `json:"max_backlog"`
	Operations          map[string]struct {
		Requests     int64 `json:"requests"`
		Statements   int64 `json:"statements"`
		EmptyResults int64 `json:"empty_results"`
		Errors       int64 `json:"errors"`
	} `json:"operations"`
	Preload *jsonReport `json:"preload"`
}

func runJSON(t *testing.T, args ...string) (jsonReport, map[string]any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr, env(nil)); err != nil {
		t.Fatalf("run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var rep jsonReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout.String())
	}
	var fields map[string]any
	json.Unmarshal(stdout.Bytes(), &fields)
	return rep, fields
}

func TestRun(t *testing.T) {
	base := MustOpenLRS(t)
	stored := 0
	common := []string{"--url", base, "--key", testKey, "--secret", testSecret, "--json",
		"--duration", "300ms", "--concurrency", "4", "--seed", "5"}
	tests := []struct {
		name string
		args []string
		read bool // the mode queries
	}{
		{"Post", []string{"--mode", "post"}, false},
		{"Batch", []string{"--mode", "batch", "--batch-size", "20"}, false},
		{"Query", []string{"--mode", "query", "--preload", "1000", "--preload-batch", "200"}, true},
		{"Mixed", []string{"--mode", "mixed", "--read-fraction", "0.5"}, true},
		{"Mixed2.0.0", []string{"--mode", "mixed", "--batch-size", "5", "--xapi-version", "2.0.0"}, true},
		{"OpenPost", []string{"--mode", "post", "--rate", "200"}, false},
		{"OpenBatch", []string{"--mode", "batch", "--batch-size", "10", "--rate", "100"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, fields := runJSON(t, append(common, tc.args...)...)
			for _, k := range []string{"statements_per_second", "requests_per_second", "p50_ms", "p95_ms", "p99_ms", "errors",
				"mode", "concurrency", "duration_s", "statements", "requests", "max_ms", "errors_by_status"} {
				if _, ok := fields[k]; !ok {
					t.Errorf("report has no %q", k)
				}
			}
			if rep.Errors != 0 || (rep.Preload != nil && rep.Preload.Errors != 0) {
				t.Errorf("errors = %d", rep.Errors)
			}
			if rep.Requests == 0 || rep.RequestsPerSecond <= 0 || rep.P50 <= 0 || rep.P50 > rep.P95 || rep.P95 > rep.P99 || rep.P99 > rep.Max {
				t.Errorf("implausible figures: %+v", rep)
			}
			var requests, written, read int64
			for name, o := range rep.Operations {
				requests += o.Requests
				if isWrite(name) {
					written += o.Statements
				} else {
					read += o.Statements
				}
				// Queries ask for agents, activities and registrations that
				// exist, so they find something.
				if strings.HasPrefix(name, "query:") && name != "query:since" && o.EmptyResults > 0 {
					t.Errorf("%s: %d of %d queries found nothing", name, o.EmptyResults, o.Requests)
				}
			}
			if requests != rep.Requests || written != rep.Statements || read != rep.StatementsRead {
				t.Errorf("operations add up to %d requests, %d written, %d read; report says %d, %d, %d",
					requests, written, read, rep.Requests, rep.Statements, rep.StatementsRead)
			}
			if tc.read != (rep.StatementsRead > 0) {
				t.Errorf("statements read = %d", rep.StatementsRead)
			}
			if tc.name != "Query" && rep.Statements == 0 {
				t.Error("no statement written")
			}
			if strings.HasPrefix(tc.name, "Open") {
				// 300 ms at the rate: every request due is sent and answered.
				rate, _ := strconv.ParseFloat(tc.args[len(tc.args)-1], 64)
				if want := int64(rate * 0.3); rep.Requests != want || rep.OfferedPerSecond != rate {
					t.Errorf("open loop at %g/s for 300 ms: %d requests, offered %g/s; want %d, %g/s", rate, rep.Requests, rep.OfferedPerSecond, want, rate)
				}
				if _, ok := fields["max_backlog"]; !ok {
					t.Error("report has no max_backlog")
				}
			}
			stored += int(rep.Statements)
			if rep.Preload != nil {
				if got, want := rep.Preload.Statements, int64(1000); got != want {
					t.Errorf("preload stored %d statements, want %d", got, want)
				}
				stored += int(rep.Preload.Statements)
			}
			if got := countStatements(t, base); got != stored {
				t.Errorf("the LRS has %d statements, the reports add up to %d", got, stored)
			}
		})
	}
	t.Run("PreloadOnlyText", func(t *testing.T) {
		var stdout bytes.Buffer
		err := run(t.Context(), append(common, "--preload", "300", "--preload-only", "--json=false"), &stdout, io.Discard, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stdout.String(), "preload: 300 statements in ") {
			t.Errorf("stdout = %q", stdout.String())
		}
	})
	t.Run("TextReport", func(t *testing.T) {
		var stdout bytes.Buffer
		err := run(t.Context(), []string{"--url", base, "--key", testKey, "--secret", testSecret, "--mode", "batch",
			"--duration", "100ms", "--concurrency", "2", "--batch-size", "10"}, &stdout, io.Discard, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"mode batch", "statements ", "requests ", "p99 ", "batch ", "errors       0"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, stdout.String())
			}
		}
	})
	t.Run("ErrCredential", func(t *testing.T) {
		err := run(t.Context(), []string{"--url", base, "--key", testKey, "--secret", "wrong"}, io.Discard, io.Discard, env(nil))
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("err = %v, want one naming HTTP 401", err)
		}
	})
}

func TestParseConfig(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		cfg, err := parseConfig(nil, io.Discard, env(map[string]string{
			"LRS_BENCH_URL": "http://127.0.0.1:8080/xapi", "LRS_BENCH_KEY": "k", "LRS_BENCH_SECRET": "s"}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.URL.String(), "http://127.0.0.1:8080/xapi/"; got != want {
			t.Errorf("URL = %q, want %q", got, want)
		}
		if cfg.Mode != modePost || cfg.BatchSize != 1 || cfg.Concurrency != 32 || cfg.Duration != 30*time.Second ||
			cfg.Seed != 1 || cfg.Version != "1.0.3" || cfg.Key != "k" || cfg.Secret != "s" {
			t.Errorf("got %+v", cfg)
		}
	})
	t.Run("BatchSizeByMode", func(t *testing.T) {
		for mode, want := range map[string]int{"batch": 100, "mixed": 1, "query": 100} {
			cfg, err := parseConfig([]string{"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--mode", mode, "--preloaded", "10"}, io.Discard, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.BatchSize != want {
				t.Errorf("mode %s: batch size %d, want %d", mode, cfg.BatchSize, want)
			}
		}
	})
	for name, args := range map[string][]string{
		"ErrNoURL":           {"--key", "k", "--secret", "s"},
		"ErrURL":             {"--url", "127.0.0.1:8080", "--key", "k", "--secret", "s"},
		"ErrNoSecret":        {"--url", "http://x/xapi/", "--key", "k"},
		"ErrMode":            {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--mode", "put"},
		"ErrVersion":         {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--xapi-version", "1.0.2"},
		"ErrPostBatchSize":   {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--batch-size", "10"},
		"ErrQueryNoPreload":  {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--mode", "query"},
		"ErrRateQuery":       {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--mode", "mixed", "--rate", "10"},
		"ErrRateNegative":    {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--rate", "-1"},
		"ErrPreloadOnlyNone": {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--preload-only"},
		"ErrReadFraction":    {"--url", "http://x/xapi/", "--key", "k", "--secret", "s", "--read-fraction", "2"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig(args, io.Discard, env(nil))
			if _, ok := err.(*usageError); !ok {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	var k known
	r := rand.New(rand.NewPCG(1, 2))
	if _, ok := k.pick(r); ok {
		t.Fatal("pick from an empty set succeeded")
	}
	k.add(0, 10)
	k.add(10, 5) // extends [0, 10)
	k.add(100, 3)
	k.add(50, 1)
	if got, want := k.len(), uint64(19); got != want {
		t.Errorf("len = %d, want %d", got, want)
	}
	seen := map[uint64]bool{}
	for range 2000 {
		i, _ := k.pick(r)
		if !(i < 15 || i == 50 || i >= 100 && i < 103) {
			t.Fatalf("picked %d, which was never added", i)
		}
		seen[i] = true
	}
	if len(seen) != 19 {
		t.Errorf("picked %d distinct indices, want all 19", len(seen))
	}
}

func TestPercentiles(t *testing.T) {
	samples := make([]uint32, 0, 1000)
	for i := 1000; i >= 1; i-- {
		samples = append(samples, uint32(i*1000)) // 1 ms ... 1000 ms
	}
	got := percentiles(samples)
	if want := (latency{P50: 500, P95: 950, P99: 990, Max: 1000}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := percentiles(nil); got != (latency{}) {
		t.Errorf("no samples: got %+v", got)
	}
}
