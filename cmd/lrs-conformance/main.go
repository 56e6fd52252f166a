// Command lrs-conformance runs the xAPI conformance checks against an LRS
// over HTTP and prints a report. It works with any credential: a preflight
// first checks that the endpoint is an xAPI LRS that accepts the
// credential, and learns its scopes and the authority the LRS gives its
// statements; checks its scopes cannot run are reported as not run, with
// the scope they need, and do not fail the run.
//
//	lrs-conformance --endpoint http://127.0.0.1:8080/xapi/ --key K --secret S \
//	    [--version 1.0.3|2.0.0] [--run REGEXP] [--scopes LIST] [--json FILE] [--junit FILE]
//
// --json writes the report as one JSON object, --junit as JUnit XML for
// continuous integration. The text report, on standard output, names the
// data the run stored in the LRS (statement ids, documents with their
// activity and agent).
//
// It exits 0 when every check that ran passed, 1 when one failed, 2 on a
// usage error and 3 when the preflight stopped the run (nothing answers,
// the endpoint is no xAPI LRS, or the LRS refuses the credential).
//
// Every flag but --timeout can also come from the environment:
// LRS_CONFORMANCE_ENDPOINT, LRS_CONFORMANCE_KEY, LRS_CONFORMANCE_SECRET,
// LRS_CONFORMANCE_VERSION, LRS_CONFORMANCE_RUN, LRS_CONFORMANCE_SCOPES,
// LRS_CONFORMANCE_JSON, LRS_CONFORMANCE_JUNIT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/digione/lrs/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	var (
		usage     *usageError
		preflight *conformance.PreflightError
	)
	switch {
	case err == nil:
	case errors.Is(err, errFailed):
		os.Exit(1)
	case errors.As(err, &preflight):
		fmt.Fprintln(os.Stderr, "lrs-conformance: preflight:", err)
		os.Exit(3)
	case errors.As(err, &usage) || errors.Is(err, flag.ErrHelp):
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lrs-conformance:", err)
		}
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "lrs-conformance:", err)
		os.Exit(1)
	}
}

// errFailed reports that the LRS failed at least one check.
var errFailed = errors.New("conformance checks failed")

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// run parses the arguments (flags first, the environment as fallback), runs
// the checks and writes the report to stdout, and to the JSON and JUnit
// files asked for. A failed preflight is a *conformance.PreflightError;
// the report files are written then too.
func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	opts, err := parseOptions(args, stdout, getenv)
	if err != nil {
		return err
	}
	// Create the report files first: a run can take minutes.
	var files []reportFile
	for _, f := range []reportFile{
		{path: opts.json, write: conformance.Report.WriteJSON},
		{path: opts.junit, write: conformance.Report.WriteJUnit},
	} {
		if f.path == "" {
			continue
		}
		if f.file, err = os.Create(f.path); err != nil {
			return err
		}
		defer f.file.Close()
		files = append(files, f)
	}
	report := conformance.Run(ctx, opts.cfg)
	for _, f := range files {
		if err := f.write(report, f.file); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		if err := f.file.Close(); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
	}
	if report.PreflightErr != nil {
		return report.PreflightErr
	}
	if err := report.WriteText(stdout); err != nil {
		return err
	}
	if !report.OK() {
		return errFailed
	}
	return nil
}

// reportFile is a report file asked for and how to write it.
type reportFile struct {
	path  string
	write func(conformance.Report, io.Writer) error
	file  *os.File
}

// options are the parsed command line.
type options struct {
	cfg         conformance.Config
	json, junit string // report files; "" = none
}

// parseOptions turns the arguments and environment into options.
func parseOptions(args []string, output io.Writer, getenv func(string) string) (options, error) {
	fs := flag.NewFlagSet("lrs-conformance", flag.ContinueOnError)
	fs.SetOutput(output)
	var (
		endpoint = fs.String("endpoint", getenv("LRS_CONFORMANCE_ENDPOINT"), "base URL of the LRS's xAPI API, e.g. http://127.0.0.1:8080/xapi/ (env LRS_CONFORMANCE_ENDPOINT)")
		key      = fs.String("key", getenv("LRS_CONFORMANCE_KEY"), "HTTP Basic key of the credential, of any scopes (env LRS_CONFORMANCE_KEY)")
		secret   = fs.String("secret", getenv("LRS_CONFORMANCE_SECRET"), "HTTP Basic secret (env LRS_CONFORMANCE_SECRET)")
		version  = fs.String("version", getenv("LRS_CONFORMANCE_VERSION"), "xAPI version to check, 1.0.3 or 2.0.0; empty: every version the LRS lists in /about (env LRS_CONFORMANCE_VERSION)")
		match    = fs.String("run", getenv("LRS_CONFORMANCE_RUN"), "run only checks whose requirement (ID and text) matches this regular expression (env LRS_CONFORMANCE_RUN)")
		scopes   = fs.String("scopes", getenv("LRS_CONFORMANCE_SCOPES"), "comma-separated scopes of the credential, instead of learning them by probing; needed to run the checks of scope define with a credential that lacks another scope (env LRS_CONFORMANCE_SCOPES)")
		jsonFile = fs.String("json", getenv("LRS_CONFORMANCE_JSON"), "also write the report as JSON to this file (env LRS_CONFORMANCE_JSON)")
		junit    = fs.String("junit", getenv("LRS_CONFORMANCE_JUNIT"), "also write the report as JUnit XML to this file (env LRS_CONFORMANCE_JUNIT)")
		timeout  = fs.Duration("timeout", 30*time.Second, "timeout of one HTTP request")
	)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lrs-conformance --endpoint URL --key K --secret S [--version 1.0.3|2.0.0] [--run REGEXP] [--scopes LIST] [--json FILE] [--junit FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{}, err
		}
		return options{}, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return options{}, &usageError{fmt.Sprintf("unexpected arguments: %q", fs.Args())}
	}
	opts := options{json: *jsonFile, junit: *junit}
	cfg := conformance.Config{Endpoint: *endpoint, Key: *key, Secret: *secret, Version: *version}
	if *scopes != "" {
		for _, sc := range strings.Split(*scopes, ",") {
			sc = strings.TrimSpace(sc)
			if !slices.Contains(conformance.Scopes(), sc) {
				return opts, &usageError{fmt.Sprintf("--scopes: unknown scope %q (want some of %s)", sc, strings.Join(conformance.Scopes(), ", "))}
			}
			cfg.Scopes = append(cfg.Scopes, sc)
		}
	}
	switch {
	case cfg.Endpoint == "":
		return opts, &usageError{"--endpoint (or LRS_CONFORMANCE_ENDPOINT) is required"}
	case cfg.Key == "" || cfg.Secret == "":
		return opts, &usageError{"--key and --secret (or LRS_CONFORMANCE_KEY and LRS_CONFORMANCE_SECRET) are required"}
	case cfg.Version != "" && cfg.Version != conformance.V103 && cfg.Version != conformance.V200:
		return opts, &usageError{fmt.Sprintf("--version %q: want %s or %s", cfg.Version, conformance.V103, conformance.V200)}
	case *timeout <= 0:
		return opts, &usageError{"--timeout must be positive"}
	case opts.json != "" && opts.json == opts.junit:
		return opts, &usageError{"--json and --junit name the same file"}
	}
	if *match != "" {
		re, err := regexp.Compile(*match)
		if err != nil {
			return opts, &usageError{fmt.Sprintf("--run: %v", err)}
		}
		cfg.Match = re
	}
	cfg.Client = &http.Client{Timeout: *timeout}
	if _, err := conformance.NewClient(withVersion(cfg)); err != nil {
		return opts, &usageError{err.Error()}
	}
	opts.cfg = cfg
	return opts, nil
}

// withVersion returns cfg with a version set, to validate the rest of it.
func withVersion(cfg conformance.Config) conformance.Config {
	if cfg.Version == "" {
		cfg.Version = conformance.V103
	}
	return cfg
}
