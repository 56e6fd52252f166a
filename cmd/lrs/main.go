// Command lrs runs the DigiOne learning record store.
//
//	lrs [serve] [flags]   serve the xAPI API (the default)
//	lrs tenant ...        create, list, disable tenants (offline)
//	lrs credential ...    create, list, rotate, revoke credentials (offline)
//	lrs audit list        show the latest administrative actions
//	lrs export ...        everything the LRS holds about one learner (ZIP)
//	lrs erase ...         erase one learner (offline)
//	lrs retention ...     how long a tenant keeps its statements (offline)
//	lrs oneroster ...     configure a tenant's OneRoster gradebook write-back,
//	                      its mappings, results and dead letters (offline)
//	lrs backup --to FILE  copy the embedded store while it serves
//	lrs restore --from FILE  restore the embedded store (the LRS stopped)
//	lrs store info        the store's schema version, migrations, counts
//	lrs check FILE...     validate statements offline: xAPI version and profile
//	lrs version           the LRS's version
//
// Every flag has an LRS_* environment fallback; see `lrs serve -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/digione/lrs/lrs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "lrs:", ee.err)
		}
		os.Exit(ee.code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lrs:", err)
		os.Exit(1)
	}
}

// run executes the command line args with getenv as the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && isHelp(args[0]) {
		cmd = "help"
	} else if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServeConfig(args, getenv, stderr)
		if err != nil {
			return err
		}
		a, err := newApp(ctx, cfg, stdout, stderr)
		if err != nil {
			return err
		}
		return a.Run(ctx)
	case "tenant", "credential", "audit", "oneroster", "export", "erase", "retention", "sandbox":
		return runAdmin(ctx, cmd, args, getenv, stdout, stderr)
	case "check":
		return runCheck(args, os.Stdin, stdout, stderr)
	case "backup", "restore", "store":
		return runStoreCommand(ctx, cmd, args, getenv, stdout, stderr)
	case "version":
		if len(args) > 0 {
			return fmt.Errorf("version takes no arguments")
		}
		fmt.Fprintf(stdout, "lrs %s (%s, %s/%s)\n", lrs.ProductVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "help":
		fmt.Fprintln(stdout, usage)
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, adminUsage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

const usage = `usage: lrs [serve] [flags]

Commands:
  serve        serve the xAPI API (default)
  tenant       create, list, disable and enable tenants
  credential   create, list, rotate and revoke credentials
  audit        show the audit log of administrative actions
  export       write everything the LRS holds about one learner as a ZIP archive
  erase        erase one learner: --tenant T --agent JSON (prints the receipt)
  retention    show or set how long a tenant keeps its statements: --tenant T [--days N]
  sandbox      a vendor's sandbox: create, reset, delete, report (lrs sandbox create VENDOR)
  oneroster    configure a tenant's OneRoster gradebook write-back; list results,
               replay dead letters, map students and activities
  backup       copy the embedded store to a file while the LRS serves it
  restore      restore the embedded store from such a file (the LRS stopped)
  store info   show the store's kind, schema version, pending migrations, counts
  check        validate statement files offline against the xAPI version and
               the xAPI profile (lrs check -h)
  version      show the LRS's version
  help         show this text

Every command opens the store with the flags of serve (--store, --data-dir,
--mongo-uri, --mongo-database, with their LRS_* fallbacks).
Run "lrs serve -h" for the flags, "lrs COMMAND -h" for a command's.`
