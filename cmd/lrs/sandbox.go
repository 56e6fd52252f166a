package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
)

// parseTTL reads a sandbox's time to live: a Go duration ("720h") or a
// number of days ("30d"); "" is the default.
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return lrs.DefaultSandboxTTL, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--sandbox-ttl %q: want a positive duration such as 30d or 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	ttl, err := time.ParseDuration(s)
	if err != nil || ttl < time.Minute {
		return 0, fmt.Errorf("--sandbox-ttl %q: want a duration of a minute or more such as 30d or 720h", s)
	}
	return ttl, nil
}

// sandboxCommands are `lrs sandbox ...`: a vendor's sandbox created,
// listed, reset, deleted and reported on, offline against the store.
var sandboxCommands = []adminCommand{
	{name: "sandbox create", args: "VENDOR", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.XAPIVersion, "xapi-version", "", "the xAPI version the vendor's app speaks, 1.0.3 or 2.0.0")
			fs.StringVar(&o.SandboxTTL, "sandbox-ttl", o.getenv("LRS_SANDBOX_TTL"), "how long the sandbox lives, e.g. 30d or 720h; default 30d (LRS_SANDBOX_TTL)")
			fs.StringVar(&o.URL, "endpoint", "http://localhost:8080/xapi/", "the xAPI endpoint the vendor's app posts to, as printed")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			ttl, err := parseTTL(o.SandboxTTL)
			if err != nil {
				return err
			}
			sb, err := ops.CreateSandbox(ctx, cliActor, lrs.NewSandbox{Vendor: args[0], XAPIVersion: o.XAPIVersion, TTL: ttl, Endpoint: o.URL})
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, sb)
			}
			printSandbox(out, sb)
			return nil
		}},
	{name: "sandbox list",
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			sbs, err := ops.Sandboxes(ctx)
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, sbs)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VENDOR\tTENANT\tCREDENTIAL\tCREATED\tEXPIRES")
			for _, sb := range sbs {
				key := ""
				if len(sb.Credentials) > 0 {
					key = sb.Credentials[0].Key
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sb.Vendor, sb.Tenant, key, sb.Created.Format(time.RFC3339), sb.Expires.Format(time.RFC3339))
			}
			return tw.Flush()
		}},
	{name: "sandbox show", args: "VENDOR", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.URL, "endpoint", "http://localhost:8080/xapi/", "the xAPI endpoint the vendor's app posts to, as printed")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			sb, err := ops.Sandbox(ctx, args[0])
			if err != nil {
				return err
			}
			sb.SetEndpoint(o.URL)
			if o.JSON {
				return printJSON(out, sb)
			}
			printSandbox(out, sb)
			return nil
		}},
	{name: "sandbox reset", args: "VENDOR", nargs: 1,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			sb, err := ops.ResetSandbox(ctx, cliActor, args[0])
			if err != nil {
				return err
			}
			return printResult(out, o, sb, "reset the sandbox of %s: its statements, documents and gradebook results are gone; its credential and test school stay\n", sb.Vendor)
		}},
	{name: "sandbox delete", args: "VENDOR", nargs: 1,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := ops.DeleteSandbox(ctx, cliActor, args[0]); err != nil {
				return err
			}
			return printResult(out, o, map[string]string{"vendor": args[0], "status": "deleted"}, "deleted the sandbox of %s\n", args[0])
		}},
	{name: "sandbox results", args: "VENDOR", nargs: 1,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			res, err := ops.SandboxResults(ctx, args[0])
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, res)
			}
			printSandboxResults(out, res.Results)
			return nil
		}},
	{name: "sandbox report", args: "VENDOR", nargs: 1,
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			fs.StringVar(&o.Since, "since", "", "the first day, YYYY-MM-DD (default: all)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			rep, err := ops.SandboxReport(ctx, args[0], o.Since)
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, rep)
			}
			printSandboxReport(out, rep)
			return nil
		}},
}

// printSandbox writes what a vendor needs to use the sandbox.
func printSandbox(out io.Writer, sb *lrs.SandboxJSON) {
	fmt.Fprintf(out, "sandbox of %s (tenant %s), expires %s\n", sb.Vendor, sb.Tenant, sb.Expires.Format(time.RFC3339))
	if sb.Endpoint != "" {
		fmt.Fprintf(out, "  xAPI endpoint: %s\n", sb.Endpoint)
		if base, ok := strings.CutSuffix(sb.Endpoint, "/xapi/"); ok {
			fmt.Fprintf(out, "  vendor page:   %s/ui/sandbox   (sign in with the key and secret)\n", base)
		}
	}
	if or := sb.OneRoster; or != nil {
		fmt.Fprintf(out, "  OneRoster 1.2 token URL: %s   (client id and secret: the key and secret)\n", or.TokenURL)
		fmt.Fprintf(out, "  OneRoster rostering:     %s\n", or.RosteringURL)
		fmt.Fprintf(out, "  OneRoster gradebook:     %s\n", or.GradebookURL)
	}
	for _, c := range sb.Credentials {
		fmt.Fprintf(out, "  key:           %s\n", c.Key)
		if c.Secret != "" {
			fmt.Fprintf(out, "  secret:        %s   (shown only this once)\n", c.Secret)
		}
		fmt.Fprintf(out, "  profile mode:  %s   xAPI version: %s\n", c.ProfileMode, c.XAPIVersion)
	}
	s := sb.School
	fmt.Fprintf(out, "test school %s (%s, test OID %s); every identifier below is made up for testing\n", s.Name, s.SourcedID, s.OID)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tSOURCEDID\tLEARNER NUMBER\tCLASS\tACTOR (account.homePage "+sb.IdentityHomePage+")")
	for _, p := range append(append([]lrs.SandboxPerson{}, s.Teachers...), s.Learners...) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Role, p.SourcedID, p.LearnerNumber, strings.Join(p.Classes, ","), p.Account.Name)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE ITEM\tCLASS\tSCORE\tACTIVITY")
	for _, li := range s.LineItems {
		fmt.Fprintf(tw, "%s\t%s\t%g-%g\t%s\n", li.SourcedID, li.Class, li.Min, li.Max, li.Activity)
	}
	tw.Flush()
}

func printSandboxResults(out io.Writer, results []oneroster.Result) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE ITEM\tSTUDENT\tSTATUS\tSCORE\tSCORE DATE\tSTATEMENT")
	for _, r := range results {
		score := r.TextScore
		if r.Score != nil {
			score = strconv.FormatFloat(*r.Score, 'g', -1, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.LineItem.SourcedID, r.Student.SourcedID, r.ScoreStatus, score, r.ScoreDate, r.Metadata["xapiStatementId"])
	}
	tw.Flush()
}

// printSandboxReport writes the report: the credential's counts, the
// mapping's dry run per day and the gradebook's results.
func printSandboxReport(out io.Writer, rep *lrs.SandboxReportJSON) {
	fmt.Fprintf(out, "sandbox of %s (tenant %s)\n", rep.Vendor, rep.Tenant)
	for _, cr := range rep.Credentials {
		fmt.Fprintf(out, "\ncredential %s, profile mode %s\n", cr.Credential, cr.ProfileMode)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tKIND\tTEMPLATE\tRULE\tCOUNT\tEXAMPLE")
		for _, d := range cr.Days {
			fmt.Fprintf(tw, "%s\taccepted\t\t\t%d\t\n", d.Day, d.Accepted)
			for _, r := range d.Rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", d.Day, r.Kind, r.Template, r.Rule, r.Count, r.Example)
			}
		}
		tw.Flush()
	}
	fmt.Fprintln(out, "\ngradebook-bound statements (the OneRoster mapping, dry run)")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tOUTCOME\tCOUNT\tEXAMPLE\tDETAIL")
	for _, d := range rep.Gradebook {
		for i, ex := range d.ResultExamples {
			n := ""
			if i == 0 {
				n = strconv.Itoa(d.Results)
			}
			fmt.Fprintf(tw, "%s\tresult\t%s\t%s\t%s %s score %s\n", d.Day, n, ex.Statement, ex.Result.LineItem.SourcedID, ex.Result.Student.SourcedID, scoreText(ex.Result))
		}
		for _, s := range d.NoResult {
			fmt.Fprintf(tw, "%s\tno result\t%d\t%s\t%s\n", d.Day, s.Count, s.Example.Statement, s.Reason)
		}
	}
	tw.Flush()
	if rep.Truncated {
		fmt.Fprintln(out, "(the sandbox holds more statements than the report reads; reset it)")
	}
	fmt.Fprintln(out, "\nthe sandbox gradebook's results")
	printSandboxResults(out, rep.Results)
}

func scoreText(r *oneroster.Result) string {
	if r.Score != nil {
		return strconv.FormatFloat(*r.Score, 'g', -1, 64)
	}
	return r.TextScore
}
