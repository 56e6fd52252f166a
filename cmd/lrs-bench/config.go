package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
)

// Modes of a benchmark run.
const (
	modePost  = "post"  // single-statement POSTs
	modeBatch = "batch" // POSTs of --batch-size statements
	modeQuery = "query" // a mix of GET /statements queries
	modeMixed = "mixed" // writes and queries, --read-fraction of them queries

	modePreload = "preload" // the report of a preload
)

// config is the command line of lrs-bench; each field's default is beside it.
type config struct {
	URL         *url.URL // --url, LRS_BENCH_URL: the xAPI base, ending in "/"; required
	Key         string   // --key, LRS_BENCH_KEY; required
	Secret      string   // --secret, LRS_BENCH_SECRET (or _FILE); required
	Mode        string   // --mode; default "post"
	BatchSize   int      // --batch-size; default 100 (mixed mode: 1)
	Concurrency int      // --concurrency; default 32
	// Rate is --rate: requests per second offered open-loop (post and
	// batch modes), each scheduled at its time whatever the LRS does and
	// timed from then; default 0: closed loop, each worker sends when its
	// last request is answered.
	Rate     float64
	Duration time.Duration // --duration; default 30s
	Seed     int64         // --seed; default 1
	Version  string        // --xapi-version; default "1.0.3"
	Learners int           // --learners; default 1584 (3 tenants)
	ReadFrac float64       // --read-fraction; default 0.2

	Preload            int  // --preload; default 0
	PreloadOnly        bool // --preload-only; default false
	PreloadBatch       int  // --preload-batch; default 500
	PreloadConcurrency int  // --preload-concurrency; default 2 × CPUs, at least 4
	Preloaded          int  // --preloaded; default 0

	Timeout  time.Duration // --timeout; default 30s
	JSON     bool          // --json; default false
	Progress bool          // --progress; default true (shown only on a terminal)
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func parseConfig(args []string, stderr io.Writer, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("lrs-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", getenv("LRS_BENCH_URL"), "xAPI endpoint base, e.g. http://127.0.0.1:8080/xapi/ (LRS_BENCH_URL)")
	fs.StringVar(&cfg.Key, "key", getenv("LRS_BENCH_KEY"), "credential key, HTTP Basic user (LRS_BENCH_KEY)")
	fs.StringVar(&cfg.Secret, "secret", "", "credential secret (LRS_BENCH_SECRET or LRS_BENCH_SECRET_FILE)")
	fs.StringVar(&cfg.Mode, "mode", modePost, "post (single statements), batch, query or mixed")
	fs.IntVar(&cfg.BatchSize, "batch-size", 100, "statements per POST in batch and mixed mode (1: single statements, not an array); mixed mode default 1")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight (one worker and one keep-alive connection each)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "post and batch modes: offer this many requests per second open-loop, each timed from when it was due (default 0: closed loop)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to run the mode")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the generated population and statements")
	fs.StringVar(&cfg.Version, "xapi-version", gen.V103, "X-Experience-API-Version to send: 1.0.3 or 2.0.0")
	fs.IntVar(&cfg.Learners, "learners", 0, "size of the generated population in learners (rounded to whole tenants of 528); default 1584")
	fs.Float64Var(&cfg.ReadFrac, "read-fraction", 0.2, "mixed mode: fraction of requests that are queries")
	fs.IntVar(&cfg.Preload, "preload", 0, "first store this many statements as fast as possible (big batches, many connections), then run the mode")
	fs.BoolVar(&cfg.PreloadOnly, "preload-only", false, "exit after the preload")
	fs.IntVar(&cfg.PreloadBatch, "preload-batch", 500, "statements per POST of the preload")
	fs.IntVar(&cfg.PreloadConcurrency, "preload-concurrency", max(4, 2*runtime.NumCPU()), "requests in flight during the preload")
	fs.IntVar(&cfg.Preloaded, "preloaded", 0, "statements 0..N-1 of this seed are already stored (an earlier --preload N with the same --seed and --learners): queries may ask for them")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	fs.BoolVar(&cfg.JSON, "json", false, "write the report as one JSON object")
	fs.BoolVar(&cfg.Progress, "progress", true, "show a progress bar on standard error when it is a terminal")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lrs-bench --url URL --key K --secret S [--mode post|batch|query|mixed] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case cfg.Mode == modePost && set["batch-size"] && cfg.BatchSize != 1:
		return cfg, usagef("--batch-size %d: mode post sends single statements; use --mode batch", cfg.BatchSize)
	case cfg.Mode == modePost, cfg.Mode == modeMixed && !set["batch-size"]:
		cfg.BatchSize = 1
	}
	if !set["secret"] {
		s, err := secretValue(getenv, "LRS_BENCH_SECRET")
		if err != nil {
			return cfg, err
		}
		cfg.Secret = s
	}

	if *rawURL == "" {
		return cfg, usagef("--url (or LRS_BENCH_URL) is required")
	}
	u, err := url.Parse(*rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, usagef("--url %q: want an absolute http(s) URL such as http://127.0.0.1:8080/xapi/", *rawURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	cfg.URL = u
	switch {
	case cfg.Key == "" || cfg.Secret == "":
		return cfg, usagef("--key and --secret (or LRS_BENCH_KEY and LRS_BENCH_SECRET) are required")
	case cfg.Mode != modePost && cfg.Mode != modeBatch && cfg.Mode != modeQuery && cfg.Mode != modeMixed:
		return cfg, usagef("--mode %q: want post, batch, query or mixed", cfg.Mode)
	case cfg.Version != gen.V103 && cfg.Version != gen.V200:
		return cfg, usagef("--xapi-version %q: want %s or %s", cfg.Version, gen.V103, gen.V200)
	case cfg.BatchSize < 1:
		return cfg, usagef("--batch-size must be at least 1")
	case cfg.Concurrency < 1 || cfg.PreloadConcurrency < 1:
		return cfg, usagef("--concurrency and --preload-concurrency must be at least 1")
	case cfg.Duration <= 0 && !cfg.PreloadOnly:
		return cfg, usagef("--duration must be positive")
	case cfg.Timeout <= 0:
		return cfg, usagef("--timeout must be positive")
	case cfg.Preload < 0 || cfg.Preloaded < 0 || cfg.Learners < 0:
		return cfg, usagef("--preload, --preloaded and --learners must not be negative")
	case cfg.PreloadBatch < 1:
		return cfg, usagef("--preload-batch must be at least 1")
	case cfg.Rate < 0 || cfg.Rate > 1e6:
		return cfg, usagef("--rate must be between 0 and 1000000 requests per second")
	case cfg.Rate > 0 && cfg.Mode != modePost && cfg.Mode != modeBatch:
		return cfg, usagef("--rate: only post and batch modes are open-loop")
	case cfg.ReadFrac < 0 || cfg.ReadFrac > 1:
		return cfg, usagef("--read-fraction must be between 0 and 1")
	case cfg.PreloadOnly && cfg.Preload == 0:
		return cfg, usagef("--preload-only needs --preload N")
	case cfg.Mode == modeQuery && !cfg.PreloadOnly && cfg.Preload+cfg.Preloaded == 0:
		return cfg, usagef("--mode query needs statements to ask for: give --preload N (or --preloaded N after an earlier preload)")
	}
	return cfg, nil
}

// genConfig is the generator configuration of cfg.
func (cfg config) genConfig(now time.Time) gen.Config {
	return gen.Config{Seed: cfg.Seed, Version: cfg.Version, Now: now, Learners: cfg.Learners}
}

// secretValue reads name from the environment, or the file named by
// name_FILE.
func secretValue(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	path := getenv(name + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}
