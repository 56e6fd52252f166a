package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// cliActor is the audit's "who" of the offline CLI.
const cliActor = "cli"

// adminCommand is one `lrs tenant ...` or `lrs credential ...` command.
type adminCommand struct {
	name  string // "tenant create"
	args  string // the usage of its positional arguments
	nargs int    // how many positional arguments it takes
	flags func(fs *flag.FlagSet, o *adminOptions)
	run   func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error
}

// adminOptions are the flags of the admin commands.
type adminOptions struct {
	JSON        bool
	Name        string
	Tenant      string
	Scopes      string
	App         string
	XAPIVersion string
	ProfileMode string
	nameGiven   bool
	Since       string
	Limit       int
	Limits      statements.Limits
	limitsGiven bool

	// The oneroster commands' flags.
	URL, TokenURL, ClientID, ClientSecretFile string
	IdentityHomePage, Verbs                   string
	RequireStudentMapping, Disabled           bool
	RetractOnErasure                          bool // lrs oneroster set --retract-on-erasure
	State, After, Result, File                string
	RosterURL, RosterScope                    string
	StalledAfterDays                          int

	// RetentionDays is the flag of lrs retention; -1 = not given.
	RetentionDays int
	// Agent and To are the flags of lrs export.
	Agent, To string

	// SandboxTTL is the --sandbox-ttl of lrs sandbox create.
	SandboxTTL string

	// IdentityValues is the --identity-values of the tenant commands:
	// comma-separated, "none" for none, "" when not given.
	IdentityValues string

	getenv func(string) string
}

func limitFlags(fs *flag.FlagSet, o *adminOptions) {
	fs.Float64Var(&o.Limits.Rate, "rate", 0, "requests per second (0: default, -1: no limit)")
	fs.IntVar(&o.Limits.Burst, "burst", 0, "requests at once above the rate (0: default, -1: no limit)")
	fs.IntVar(&o.Limits.Batch, "batch", 0, "statements per POST (0: default, -1: no limit)")
	fs.IntVar(&o.Limits.QueryLimit, "query-limit", 0, "statements per page of a query (0: default)")
	fs.Int64Var(&o.Limits.BodyBytes, "body-bytes", 0, "bytes per request body (0: default)")
}

var adminCommands = []adminCommand{
	{name: "tenant create", args: "ID", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Name, "name", "", "display name (default the id)")
			identityValuesFlag(fs, o)
			limitFlags(fs, o)
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			var values []string
			if v := identityValues(o); v != nil {
				values = *v
			}
			t, err := ops.CreateTenant(ctx, cliActor, lrs.NewTenant{ID: args[0], Name: o.Name, Limits: o.Limits, IdentityValues: values})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.TenantView(*t), "created tenant %s (%s)\n", t.ID, t.Name)
		}},
	{name: "tenant update", args: "ID", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Name, "name", "", "a new display name (default: kept)")
			identityValuesFlag(fs, o)
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			u := lrs.TenantUpdate{IdentityValues: identityValues(o)}
			if o.Name != "" {
				u.Name = &o.Name
			}
			if u.Name == nil && u.IdentityValues == nil {
				return errors.New("nothing to change: give --name or --identity-values")
			}
			t, err := ops.UpdateTenant(ctx, cliActor, args[0], u)
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.TenantView(*t), "updated tenant %s (%s): identity values %s\n", t.ID, t.Name,
				strings.Join(append([]string{}, t.IdentityValues...), ","))
		}},
	{name: "tenant list",
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			ts, err := ops.Tenants(ctx)
			if err != nil {
				return err
			}
			views := make([]lrs.TenantJSON, len(ts))
			for i, t := range ts {
				views[i] = lrs.TenantView(t)
			}
			if o.JSON {
				return printJSON(out, views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCREATED")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, state(t.Disabled, "disabled"), t.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		}},
	{name: "tenant disable", args: "ID", nargs: 1, run: setDisabled(true)},
	{name: "tenant enable", args: "ID", nargs: 1, run: setDisabled(false)},
	{name: "tenant limits", args: "ID", nargs: 1, flags: limitFlags,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			t, err := ops.UpdateTenant(ctx, cliActor, args[0], lrs.TenantUpdate{Limits: &o.Limits})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.TenantView(*t), "set the limits of tenant %s\n", t.ID)
		}},
	{name: "tenant cors", args: "ID ORIGIN,...|none", nargs: 2,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			origins := []string{}
			if args[1] != "none" {
				origins = strings.Split(args[1], ",")
			}
			t, err := ops.UpdateTenant(ctx, cliActor, args[0], lrs.TenantUpdate{CORSOrigins: &origins})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.TenantView(*t), "tenant %s: CORS origins %s\n", t.ID, strings.Join(t.CORSOrigins, ", "))
		}},
	{name: "credential create",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Tenant, "tenant", "", "the tenant of the credential (required)")
			fs.StringVar(&o.Scopes, "scopes", "", "comma-separated xAPI scopes: all, all/read, statements/write, statements/read, statements/read/mine, state, define, profile (required)")
			fs.StringVar(&o.Name, "name", "", "what the credential is for")
			fs.StringVar(&o.App, "app", "", "the vendor application it is for: the authority of its statements is then a Group of the app and the tenant")
			fs.StringVar(&o.XAPIVersion, "xapi-version", "", "the xAPI version the app speaks, 1.0.3 or 2.0.0: it labels responses to requests that name no version")
			fs.StringVar(&o.ProfileMode, "profile-mode", "", "what to do with statements that break the xAPI profile: off (default), flag (accept and record) or strict (refuse with 400)")
			limitFlags(fs, o)
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if o.Tenant == "" || o.Scopes == "" {
				return errors.New("--tenant and --scopes are required")
			}
			c, secret, err := ops.CreateCredential(ctx, cliActor, lrs.NewCredential{Tenant: o.Tenant,
				Scopes: strings.Split(o.Scopes, ","), Name: o.Name, App: o.App, Limits: o.Limits, XAPIVersion: o.XAPIVersion,
				ProfileMode: o.ProfileMode})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.CredentialView(*c, secret),
				"created a credential of tenant %s with scopes %s:\n  key:    %s\n  secret: %s\n(the secret is shown only this once)\n",
				c.Tenant, strings.Join(c.Scopes, ","), c.Key, secret)
		}},
	{name: "credential list",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Tenant, "tenant", "", "the tenant (required)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if o.Tenant == "" {
				return errors.New("--tenant is required")
			}
			cs, err := ops.Credentials(ctx, o.Tenant)
			if err != nil {
				return err
			}
			views := make([]lrs.CredentialJSON, len(cs))
			for i, c := range cs {
				views[i] = lrs.CredentialView(c, "")
			}
			if o.JSON {
				return printJSON(out, views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tNAME\tSCOPES\tSTATE\tCREATED")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Key, c.Name, strings.Join(c.Scopes, ","), state(c.Revoked, "revoked"), c.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		}},
	{name: "credential rotate", args: "KEY", nargs: 1,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			c, secret, err := ops.RotateCredential(ctx, cliActor, args[0])
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.CredentialView(*c, secret),
				"new secret of credential %s:\n  secret: %s\n(the secret is shown only this once)\n", c.Key, secret)
		}},
	{name: "credential revoke", args: "KEY", nargs: 1,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			c, err := ops.RevokeCredential(ctx, cliActor, args[0])
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.CredentialView(*c, ""), "revoked credential %s\n", c.Key)
		}},
	{name: "credential limits", args: "KEY", nargs: 1, flags: limitFlags,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			c, err := ops.UpdateCredential(ctx, cliActor, args[0], lrs.CredentialUpdate{Limits: &o.Limits})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.CredentialView(*c, ""), "set the limits of credential %s\n", c.Key)
		}},
	{name: "credential xapi-version", args: "KEY VERSION", nargs: 2,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			v := args[1]
			if v == "none" {
				v = ""
			}
			c, err := ops.UpdateCredential(ctx, cliActor, args[0], lrs.CredentialUpdate{XAPIVersion: &v})
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.CredentialView(*c, ""), "credential %s declares xAPI version %s\n", c.Key, args[1])
		}},
	{name: "credential update", args: "KEY", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.ProfileMode, "profile-mode", "", "what to do with statements that break the xAPI profile: off, flag (accept and record) or strict (refuse with 400)")
			fs.Func("name", "what the credential is for", func(v string) error { o.Name, o.nameGiven = v, true; return nil })
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			var u lrs.CredentialUpdate
			if o.ProfileMode != "" {
				u.ProfileMode = &o.ProfileMode
			}
			if o.nameGiven {
				u.Name = &o.Name
			}
			if u.ProfileMode == nil && u.Name == nil {
				return errors.New("nothing to update: give --profile-mode or --name")
			}
			c, err := ops.UpdateCredential(ctx, cliActor, args[0], u)
			if err != nil {
				return err
			}
			v := lrs.CredentialView(*c, "")
			return printResult(out, o, v, "credential %s: name %q, profile mode %s\n", c.Key, c.Name, v.ProfileMode)
		}},
	{name: "credential report", args: "KEY", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Tenant, "tenant", "", "the tenant of the credential (required)")
			fs.StringVar(&o.Since, "since", "", "the first day, YYYY-MM-DD (default: all)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if o.Tenant == "" {
				return errors.New("--tenant is required")
			}
			rep, err := ops.CredentialReport(ctx, o.Tenant, args[0], o.Since)
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, rep)
			}
			fmt.Fprintf(out, "credential %s of tenant %s, profile mode %s (as stored; a serving LRS adds its last seconds)\n", rep.Credential, rep.Tenant, rep.ProfileMode)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DAY\tKIND\tTEMPLATE\tRULE\tCOUNT\tEXAMPLE")
			for _, d := range rep.Days {
				fmt.Fprintf(tw, "%s\taccepted\t\t\t%d\t\n", d.Day, d.Accepted)
				for _, r := range d.Rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", d.Day, r.Kind, r.Template, r.Rule, r.Count, r.Example)
				}
			}
			return tw.Flush()
		}},
	{name: "audit list",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.IntVar(&o.Limit, "limit", 50, "how many entries, newest first")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			es, err := ops.Admin.Audit(ctx, max(o.Limit, 1))
			if err != nil {
				return err
			}
			if o.JSON {
				views := make([]lrs.AuditJSON, len(es))
				for i, e := range es {
					views[i] = lrs.AuditJSON{Time: e.Time, Actor: e.Actor, Action: e.Action, Tenant: e.Tenant, Credential: e.Target, Detail: e.Detail}
				}
				return printJSON(out, views)
			}
			for _, e := range es {
				fmt.Fprintf(out, "%s  %-10s %-18s %s %s %s\n", e.Time.Format(time.RFC3339), e.Actor, e.Action, e.Tenant, e.Target, e.Detail)
			}
			return nil
		}},
}

func identityValuesFlag(fs *flag.FlagSet, o *adminOptions) {
	fs.StringVar(&o.IdentityValues, "identity-values", "", "comma-separated sign-in claim values the tenant owns, e.g. its education providers' OIDs; none: no values (default: kept)")
}

// identityValues returns the --identity-values given, or nil when none was.
func identityValues(o *adminOptions) *[]string {
	switch o.IdentityValues {
	case "":
		return nil
	case "none":
		return &[]string{}
	}
	v := splitList(o.IdentityValues)
	return &v
}

func setDisabled(disabled bool) func(context.Context, *lrs.Admin, *adminOptions, []string, io.Writer) error {
	return func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
		t, err := ops.UpdateTenant(ctx, cliActor, args[0], lrs.TenantUpdate{Disabled: &disabled})
		if err != nil {
			return err
		}
		return printResult(out, o, lrs.TenantView(*t), "tenant %s is %s\n", t.ID, state(t.Disabled, "disabled"))
	}
}

func state(off bool, word string) string {
	if off {
		return word
	}
	return "active"
}

func printResult(out io.Writer, o *adminOptions, v any, format string, args ...any) error {
	if o.JSON {
		return printJSON(out, v)
	}
	_, err := fmt.Fprintf(out, format, args...)
	return err
}

func printJSON(out io.Writer, v any) error {
	e := json.NewEncoder(out)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

// runAdmin runs `lrs tenant|credential|audit|oneroster SUBCOMMAND [flags] [args]`
// against the configured store, without a server.
func runAdmin(ctx context.Context, group string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, adminUsage)
		return nil
	}
	name, rest := group, args // a command without subcommands
	if group != "export" && group != "erase" && group != "retention" {
		if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
			fmt.Fprintln(stderr, adminUsage)
			return fmt.Errorf("lrs %s: a subcommand is required", group)
		}
		name, rest = group+" "+args[0], args[1:]
	}
	var cmd *adminCommand
	for _, list := range [][]adminCommand{adminCommands, oneRosterCommands, exportCommands, eraseCommands, retentionCommands, tenantDeleteCommands, sandboxCommands} {
		for i := range list {
			if list[i].name == name {
				cmd = &list[i]
			}
		}
	}
	if cmd == nil {
		fmt.Fprintln(stderr, adminUsage)
		return fmt.Errorf("unknown command %q", "lrs "+name)
	}
	fs := flag.NewFlagSet("lrs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := adminOptions{getenv: getenv}
	var cfg serveConfig
	storeFlags(fs, &cfg, getenv)
	fs.BoolVar(&o.JSON, "json", false, "print JSON")
	if cmd.flags != nil {
		cmd.flags(fs, &o)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: lrs %s [flags] %s\n", name, cmd.args)
		fs.PrintDefaults()
	}
	// Flags may come before and after the positional arguments.
	var pos []string
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != cmd.nargs {
		fs.Usage()
		return fmt.Errorf("lrs %s: want %d argument(s) %s, got %d", name, cmd.nargs, cmd.args, len(pos))
	}
	// The store is chosen exactly as for serve.
	if err := checkStoreConfig(&cfg, getenv); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var as statements.AdminStore = st
	level := zerolog.InfoLevel
	if l, err := zerolog.ParseLevel(getenv("LRS_LOG_LEVEL")); err == nil && l != zerolog.NoLevel {
		level = l
	}
	log := zerolog.New(stderr).Level(level).With().Timestamp().Logger()
	// The tenant configured from the environment syncs its roster, and
	// has its identity rule in an export, here as in serve; other commands
	// do not read that configuration.
	static, err := oneRosterEnv(getenv)
	if err != nil && (cmd.name == "oneroster sync" || cmd.name == "export") {
		return err
	}
	syncer, err := oneroster.NewSyncer(oneroster.SyncConfig{Store: st, Static: static, Logger: log})
	if err != nil {
		return err
	}
	ops := &lrs.Admin{Store: st, Admin: as, Log: log, OneRoster: &oneroster.Admin{Store: st},
		RosterSync: rosterSync{syncer}}
	if cmd.name == "export" {
		ops.OneRoster.Static = static // its identity rule, as serve applies it
	}
	err = cmd.run(ctx, ops, &o, pos, stdout)
	if err != nil && statements.ErrorCode(err) != statements.EInternal {
		var de *statements.Error
		if errors.As(err, &de) {
			return errors.New(de.Message)
		}
	}
	return err
}

const adminUsage = `Administration, offline against the store (--store, --data-dir, --mongo-uri,
--mongo-database and their LRS_* fallbacks as for serve):
  lrs tenant create ID [--name NAME] [--identity-values V,...] [limits]
  lrs tenant update ID [--name NAME] [--identity-values V,...|none]
  lrs tenant list
  lrs tenant disable ID | lrs tenant enable ID
  lrs tenant delete ID   (revokes its credentials, then removes all its data)
  lrs tenant limits ID [--rate R] [--burst B] [--batch N] [--query-limit N] [--body-bytes N]
  lrs tenant cors ID https://app.example.fi,...|none
  lrs credential create --tenant ID --scopes all|statements/write,... [--name NAME] [--app APP]
      [--xapi-version 1.0.3|2.0.0] [--profile-mode off|flag|strict] [limits]
  lrs credential list --tenant ID
  lrs credential rotate KEY
  lrs credential revoke KEY
  lrs credential limits KEY [limits]
  lrs credential xapi-version KEY 1.0.3|2.0.0|none
  lrs credential update KEY [--profile-mode off|flag|strict] [--name NAME]
  lrs credential report KEY --tenant ID [--since YYYY-MM-DD]
  lrs audit list [--limit N]
  lrs erase --tenant ID --agent AGENT_JSON
  lrs retention --tenant ID [--days N]   (0: statements kept for ever)
  lrs oneroster show --tenant ID
  lrs oneroster set --tenant ID --url URL --token-url URL --client-id ID
      [--client-secret-file FILE] [--identity-home-page URL] [--verbs IRI,...]
      [--require-student-mapping] [--disabled] [--retract-on-erasure] [--roster-url URL] [--roster-scope SCOPE]
      (the secret from the file or LRS_ONEROSTER_CLIENT_SECRET; neither keeps the stored one)
  lrs oneroster delete --tenant ID
  lrs oneroster results --tenant ID [--state pending|sent|dead] [--after SOURCEDID] [--limit N]
  lrs oneroster dead-letters --tenant ID [--after SOURCEDID] [--limit N]
  lrs oneroster replay --tenant ID [--result SOURCEDID]   (all dead letters without --result)
  lrs oneroster map-students --tenant ID --file STUDENTS.csv       (rows account,sourcedId)
  lrs oneroster map-activities --tenant ID --file ACTIVITIES.csv   (rows activityId,lineItem[,class[,scaleMin,scaleMax]])
  lrs oneroster sync --tenant ID     read the tenant's roster from its rostering service now
  lrs oneroster roster --tenant ID   the stored roster's counts and when it was synced
  lrs sandbox create VENDOR [--xapi-version 1.0.3|2.0.0] [--sandbox-ttl 30d] [--endpoint URL]
      a vendor's sandbox: prints its credential, the xAPI endpoint, its OneRoster URLs and the test learners
  lrs sandbox list | show VENDOR [--endpoint URL] | results VENDOR | report VENDOR [--since YYYY-MM-DD]
  lrs sandbox reset VENDOR    wipes its statements, documents and results (keeps the credential)
  lrs sandbox delete VENDOR
Every command takes --json for machine-readable output.

The store:
  lrs store info [--json]   kind, schema version, what a start would migrate, counts
  lrs backup --to FILE      copy the embedded store while the LRS serves it
  lrs restore --from FILE [--force]
      restore the embedded store into --data-dir (stop the LRS first; --force
      replaces a store); for MongoDB use mongodump --oplog / mongorestore --oplogReplay`
