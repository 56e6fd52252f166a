package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/sqlitestore"
)

// mongoBackupHelp is what backup and restore say of a MongoDB store.
const mongoBackupHelp = `a MongoDB store is backed up with MongoDB's own tools, not by lrs:
  mongodump --uri "$LRS_MONGO_URI" --oplog --archive=lrs.archive --gzip
      (--oplog needs a replica set and dumps the whole deployment: a consistent
      point in time; a dump of one database without --oplog is not consistent
      while the LRS writes)
  mongorestore --uri "$LRS_MONGO_URI" --oplogReplay --archive=lrs.archive --gzip --drop
      (with the LRS stopped; --drop replaces the collections)`

// runStoreCommand runs `lrs backup`, `lrs restore` and `lrs store info`.
func runStoreCommand(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name, usage := cmd, ""
	switch cmd {
	case "backup":
		usage = "--to FILE"
	case "restore":
		usage = "--from FILE [--force]"
	case "store":
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprintln(stdout, "usage: lrs store info [flags]")
			return nil
		}
		if len(args) == 0 || args[0] != "info" {
			fmt.Fprintln(stderr, "usage: lrs store info [flags]")
			return errors.New("lrs store: the subcommand is info")
		}
		name, args = "store info", args[1:]
	}
	fs := flag.NewFlagSet("lrs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	storeFlags(fs, &cfg, getenv)
	var to, from string
	var force, asJSON bool
	switch name {
	case "backup":
		fs.StringVar(&to, "to", "", "the backup file to write; it must not exist")
	case "restore":
		fs.StringVar(&from, "from", "", "the backup file to restore")
		fs.BoolVar(&force, "force", false, "replace the store in --data-dir (the LRS must be stopped)")
	case "store info":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: lrs %s [flags] %s\n", name, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("lrs %s: unexpected argument %q", name, fs.Arg(0))
	}
	if err := checkStoreConfig(&cfg, getenv); err != nil {
		return err
	}
	switch name {
	case "backup":
		if to == "" {
			fs.Usage()
			return errors.New("lrs backup: --to FILE is required")
		}
		if cfg.Store == "mongo" {
			return errors.New(mongoBackupHelp)
		}
		if err := sqlitestore.Backup(ctx, cfg.DataDir, to); err != nil {
			return plain(err)
		}
		fmt.Fprintf(stdout, "backed up the store in %s to %s\n", cfg.DataDir, to)
		return nil
	case "restore":
		if from == "" {
			fs.Usage()
			return errors.New("lrs restore: --from FILE is required")
		}
		if cfg.Store == "mongo" {
			return errors.New(mongoBackupHelp)
		}
		if err := sqlitestore.Restore(ctx, from, cfg.DataDir, force); err != nil {
			if statements.ErrorCode(err) == statements.EConflict && !force {
				return fmt.Errorf("%s (--force), with the LRS stopped", statements.ErrorMessage(err))
			}
			return plain(err)
		}
		fmt.Fprintf(stdout, "restored %s into %s; the next start brings its schema up to date\n", from, cfg.DataDir)
		return nil
	}
	return storeInfo(ctx, cfg, asJSON, stdout)
}

// storeInfoJSON is the output of `lrs store info --json`.
type storeInfoJSON struct {
	Store          string   `json:"store"`
	Where          string   `json:"where"`
	Exists         bool     `json:"exists"`
	SchemaVersion  *int     `json:"schemaVersion,omitempty"`
	CurrentVersion *int     `json:"currentVersion,omitempty"`
	Migrations     []string `json:"migrations"`
	Statements     int64    `json:"statements"`
	Tenants        int64    `json:"tenants"`
	// PairsPending: statements whose pair postings the embedded store
	// has still to backfill after an upgrade.
	PairsPending int64 `json:"pairsPending"`
}

func storeInfo(ctx context.Context, cfg serveConfig, asJSON bool, out io.Writer) error {
	var v storeInfoJSON
	if cfg.Store == "mongo" {
		info, err := mongostore.Inspect(ctx, cfg.MongoURI, mongostore.WithDatabase(mongoDatabase(cfg)))
		if err != nil {
			return fmt.Errorf("inspect the MongoDB store: %s", statements.ErrorMessage(err))
		}
		v = storeInfoJSON{Store: "mongo", Where: "database " + mongoDatabase(cfg), Exists: info.Exists,
			Statements: info.Statements, Tenants: info.Tenants, Migrations: []string{}}
		if !info.Exists {
			v.Migrations = append(v.Migrations, "create the statement log")
		}
		for _, ix := range info.MissingIndexes {
			v.Migrations = append(v.Migrations, "create index "+ix)
		}
	} else {
		info, err := sqlitestore.Inspect(ctx, cfg.DataDir)
		if err != nil {
			return plain(err)
		}
		v = storeInfoJSON{Store: "sqlite", Where: cfg.DataDir, Exists: info.Exists, CurrentVersion: &info.Current,
			Migrations: append([]string{}, info.Migrations...), Statements: info.Statements, Tenants: info.Tenants,
			PairsPending: info.PairsPending}
		if info.Exists {
			v.SchemaVersion = &info.SchemaVersion
		}
	}
	if asJSON {
		return printJSON(out, v)
	}
	fmt.Fprintf(out, "store:          %s (%s)\n", v.Store, v.Where)
	switch {
	case !v.Exists:
		fmt.Fprintln(out, "exists:         no")
	case v.SchemaVersion != nil:
		fmt.Fprintf(out, "schema version: %d (this LRS writes %d)\n", *v.SchemaVersion, *v.CurrentVersion)
	}
	if len(v.Migrations) == 0 {
		fmt.Fprintln(out, "a start would:  change nothing")
	} else {
		fmt.Fprintln(out, "a start would:")
		for _, m := range v.Migrations {
			fmt.Fprintf(out, "  - %s\n", m)
		}
	}
	fmt.Fprintf(out, "statements:     %d\n", v.Statements)
	fmt.Fprintf(out, "tenants:        %d\n", v.Tenants)
	if v.PairsPending > 0 {
		fmt.Fprintf(out, "pair postings:  %d statements still to backfill (in the background, after the start)\n", v.PairsPending)
	}
	return nil
}

// plain returns the message of a store's error that is not internal, so
// the command line shows no error code; an internal one keeps its cause.
func plain(err error) error {
	var se *statements.Error
	if errors.As(err, &se) && se.Code != statements.EInternal {
		return errors.New(se.Message)
	}
	return err
}
