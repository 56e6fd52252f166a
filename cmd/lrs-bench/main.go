// Command lrs-bench drives an LRS over HTTP with realistic xAPI traffic and
// reports throughput and latency.
//
//	lrs-bench --url http://127.0.0.1:8080/xapi/ --key K --secret S [--mode post|batch|query|mixed] [flags]
//
// The statements come from a seeded generator (package gen): learners with
// MPASSid accounts in classes, schools and tenants, studying in learning
// apps. The same seed gives the same statements, so a query run can ask for
// the agents, activities and registrations an earlier --preload wrote.
// --url, --key and --secret fall back to LRS_BENCH_URL, LRS_BENCH_KEY and
// LRS_BENCH_SECRET (or LRS_BENCH_SECRET_FILE). It exits 1 when a request
// failed and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	var usage *usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "lrs-bench:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "lrs-bench:", err)
		os.Exit(1)
	}
}

// run parses args (the environment as fallback), runs the benchmark and
// writes its report to stdout; progress goes to stderr when it is a
// terminal.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parseConfig(args, stderr, getenv)
	if err != nil {
		return err
	}
	b, err := newBench(cfg, stderr)
	if err != nil {
		return err
	}
	rep, err := b.Run(ctx)
	if err != nil {
		return err
	}
	if cfg.JSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		return err
	}
	if n := rep.totalErrors(); n > 0 {
		return fmt.Errorf("%d requests failed", n)
	}
	return nil
}
