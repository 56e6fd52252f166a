package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// oneRosterCommands are `lrs oneroster ...`: the OneRoster write-back's
// operator actions, offline against the store, audited as "cli".
var oneRosterCommands = []adminCommand{
	{name: "oneroster show", flags: tenantFlag,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			v, err := ops.OneRosterConfig(ctx, o.Tenant)
			if err != nil {
				return err
			}
			if o.JSON {
				return printJSON(out, v)
			}
			return printOneRosterConfig(out, o.Tenant, v)
		}},
	{name: "oneroster set",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			tenantFlag(fs, o)
			fs.StringVar(&o.URL, "url", "", "the gradebook service, up to and including /ims/oneroster/gradebook/v1p2 (required)")
			fs.StringVar(&o.TokenURL, "token-url", "", "the OAuth 2 token endpoint (required)")
			fs.StringVar(&o.ClientID, "client-id", "", "the OAuth 2 client id (required)")
			fs.StringVar(&o.ClientSecretFile, "client-secret-file", "", "file holding the OAuth 2 client secret (or LRS_ONEROSTER_CLIENT_SECRET); neither keeps the stored secret")
			fs.StringVar(&o.IdentityHomePage, "identity-home-page", "", "account home page whose names identify students; default "+oneroster.DefaultIdentityHomePage)
			fs.StringVar(&o.Verbs, "verbs", "", "comma-separated verb IRIs that make results; default passed, failed, completed, scored, satisfied")
			fs.BoolVar(&o.RequireStudentMapping, "require-student-mapping", false, "write results only of students in the student mapping table")
			fs.BoolVar(&o.Disabled, "disabled", false, "keep the configuration but write no new results")
			fs.BoolVar(&o.RetractOnErasure, "retract-on-erasure", false, "retract the results written from a learner's statements when the learner is erased (default: keep them)")
			fs.StringVar(&o.RosterURL, "roster-url", "", "the rostering service, up to and including /ims/oneroster/rostering/v1p2, read with the same client (default none: the roster is not synced)")
			fs.StringVar(&o.RosterScope, "roster-scope", "", "the scope asked for to read the roster; default "+oneroster.ScopeRosterCore)
			fs.IntVar(&o.StalledAfterDays, "stalled-after-days", 0, "days without a statement that make a student stalled in a class overview; default 7")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			secret, err := oneRosterSecret(o)
			if err != nil {
				return err
			}
			c := oneroster.TenantConfig{BaseURL: o.URL, TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: secret,
				IdentityHomePage: o.IdentityHomePage, Verbs: splitList(o.Verbs),
				RequireStudentMapping: o.RequireStudentMapping, Disabled: o.Disabled, RosterURL: o.RosterURL, RosterScope: o.RosterScope,
				StalledAfterDays: o.StalledAfterDays, RetractOnErasure: o.RetractOnErasure}
			v, err := ops.SetOneRosterConfig(ctx, cliActor, o.Tenant, c)
			if err != nil {
				return cliFieldError(err)
			}
			return printResult(out, o, v, "set the OneRoster configuration of tenant %s: results go to %s\n", o.Tenant, v.BaseURL)
		}},
	{name: "oneroster sync", flags: tenantFlag,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			st, err := ops.SyncRoster(ctx, cliActor, o.Tenant)
			if err != nil {
				return err
			}
			return printResult(out, o, lrs.RosterView(o.Tenant, st), "synced the roster of tenant %s: %s\n", o.Tenant, st)
		}},
	{name: "oneroster roster", flags: tenantFlag,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			st, err := ops.Roster(ctx, o.Tenant)
			if err != nil {
				return err
			}
			v := lrs.RosterView(o.Tenant, st)
			msg, at, err := ops.RosterFailure(ctx, o.Tenant)
			if err != nil {
				return err
			}
			failed := ""
			if msg != "" {
				v.LastError, v.LastErrorAt = msg, &at
				failed = fmt.Sprintf("\nthe last sync failed at %s (the roster above stays): %s", at.Format(time.RFC3339), msg)
			}
			return printResult(out, o, v, "roster of tenant %s: %s%s\n", o.Tenant, st, failed)
		}},
	{name: "oneroster delete", flags: tenantFlag,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			if err := ops.DeleteOneRosterConfig(ctx, cliActor, o.Tenant); err != nil {
				return err
			}
			return printResult(out, o, map[string]string{"deleted": o.Tenant}, "deleted the OneRoster configuration of tenant %s\n", o.Tenant)
		}},
	{name: "oneroster results",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			pageFlags(fs, o)
			fs.StringVar(&o.State, "state", "", "only results in this state: pending, sent or dead (default any)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			return listResults(ctx, ops, o, o.State, out)
		}},
	{name: "oneroster dead-letters", flags: pageFlags,
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			return listResults(ctx, ops, o, oneroster.StateDead, out)
		}},
	{name: "oneroster replay",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			tenantFlag(fs, o)
			fs.StringVar(&o.Result, "result", "", "the sourcedId of the dead letter to replay (default every dead letter of the tenant)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			n, err := ops.ReplayOneRoster(ctx, cliActor, o.Tenant, o.Result)
			if err != nil {
				return err
			}
			return printResult(out, o, map[string]int{"replayed": n},
				"replayed %d dead letter(s) of tenant %s: a running LRS writes them within a few seconds\n", n, o.Tenant)
		}},
	{name: "oneroster map-students",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			tenantFlag(fs, o)
			fs.StringVar(&o.File, "file", "", "CSV file of rows account,sourcedId (header optional); an empty sourcedId removes the mapping (required)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			ms, lines, err := readStudentsCSV(o.File)
			if err != nil {
				return err
			}
			n, err := ops.SetOneRosterStudents(ctx, cliActor, o.Tenant, ms)
			if err != nil {
				return rowError(err, "students", o.File, lines)
			}
			return printResult(out, o, map[string]int{"written": n}, "wrote %d student mapping(s) of tenant %s\n", n, o.Tenant)
		}},
	{name: "oneroster map-activities",
		flags: func(fs *flag.FlagSet, o *adminOptions) {
			tenantFlag(fs, o)
			fs.StringVar(&o.File, "file", "", "CSV file of rows activityId,lineItem,class,scaleMin,scaleMax (the last three optional, header optional); an empty lineItem removes the mapping (required)")
		},
		run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
			if err := needTenant(o); err != nil {
				return err
			}
			ms, lines, err := readActivitiesCSV(o.File)
			if err != nil {
				return err
			}
			n, err := ops.SetOneRosterActivities(ctx, cliActor, o.Tenant, ms)
			if err != nil {
				return rowError(err, "activities", o.File, lines)
			}
			return printResult(out, o, map[string]int{"written": n}, "wrote %d activity mapping(s) of tenant %s\n", n, o.Tenant)
		}},
}

func tenantFlag(fs *flag.FlagSet, o *adminOptions) {
	fs.StringVar(&o.Tenant, "tenant", "", "the tenant (required)")
}

func pageFlags(fs *flag.FlagSet, o *adminOptions) {
	tenantFlag(fs, o)
	fs.StringVar(&o.After, "after", "", "continue after this sourcedId (the \"more\" of the previous page)")
	fs.IntVar(&o.Limit, "limit", lrs.DefaultPageLimit, "how many at most")
}

func needTenant(o *adminOptions) error {
	if o.Tenant == "" {
		return errors.New("--tenant is required")
	}
	return nil
}

// oneRosterSecret returns the client secret from --client-secret-file or
// LRS_ONEROSTER_CLIENT_SECRET(_FILE); "" when neither is given.
func oneRosterSecret(o *adminOptions) (string, error) {
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("--client-secret-file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("--client-secret-file %s: empty", o.ClientSecretFile)
		}
		return s, nil
	}
	return secretValue(o.getenv, "LRS_ONEROSTER_CLIENT_SECRET")
}

// cliFieldError names the flag of a configuration field in err.
func cliFieldError(err error) error {
	if statements.ErrorCode(err) != statements.EInvalid {
		return err
	}
	msg := statements.ErrorMessage(err)
	for field, flag := range map[string]string{"baseUrl": "--url", "tokenUrl": "--token-url", "clientId": "--client-id",
		"clientSecret": "--client-secret-file (or LRS_ONEROSTER_CLIENT_SECRET)", "identityHomePage": "--identity-home-page", "verbs": "--verbs",
		"rosterUrl": "--roster-url", "rosterScope": "--roster-scope", "stalledAfterDays": "--stalled-after-days"} {
		if strings.HasPrefix(msg, field+":") || strings.HasPrefix(msg, field+"[") {
			return fmt.Errorf("%s (%s)", msg, flag)
		}
	}
	return err
}

func printOneRosterConfig(out io.Writer, tenant string, v *oneroster.ConfigView) error {
	homePage := v.IdentityHomePage
	if homePage == "" {
		homePage = oneroster.DefaultIdentityHomePage + " (default)"
	}
	verbs := strings.Join(v.Verbs, ", ")
	if verbs == "" {
		verbs = strings.Join(oneroster.DefaultVerbs, ", ") + " (default)"
	}
	secret := "not set"
	if v.ClientSecretSet {
		secret = "set (not shown)"
	}
	source := v.Source
	if v.Updated != nil {
		source += ", updated " + v.Updated.Format(time.RFC3339)
	}
	_, err := fmt.Fprintf(out, `OneRoster write-back of tenant %s (from the %s)
  gradebook:               %s
  token URL:               %s
  client id:               %s
  client secret:           %s
  identity home page:      %s
  verbs:                   %s
  require student mapping: %t
  disabled:                %t
`, tenant, source, v.BaseURL, v.TokenURL, v.ClientID, secret, homePage, verbs, v.RequireStudentMapping, v.Disabled)
	if err != nil || v.RosterURL == "" {
		return err
	}
	scope := v.RosterScope
	if scope == "" {
		scope = oneroster.ScopeRosterCore + " (default)"
	}
	_, err = fmt.Fprintf(out, "  rostering:               %s\n  rostering scope:         %s\n", v.RosterURL, scope)
	return err
}

func listResults(ctx context.Context, ops *lrs.Admin, o *adminOptions, state string, out io.Writer) error {
	if err := needTenant(o); err != nil {
		return err
	}
	rs, more, err := ops.OneRosterResults(ctx, o.Tenant, state, o.After, o.Limit)
	if err != nil {
		return err
	}
	if o.JSON {
		return printJSON(out, lrs.OneRosterResultsJSON{Results: rs, More: more})
	}
	for _, r := range rs {
		fmt.Fprintln(out, r.String())
	}
	if more != "" {
		fmt.Fprintf(out, "(more: --after %s)\n", more)
	}
	return nil
}

// readCSV returns the rows of file, each with lo to hi fields, and the
// line of each; a first row whose first field is header (any case) is
// skipped, and so are blank lines. Errors name the line.
func readCSV(file, header string, lo, hi int) (rows [][]string, lines []int, err error) {
	if file == "" {
		return nil, nil, errors.New("--file is required")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	for first := true; ; first = false {
		row, err := r.Read()
		if err == io.EOF {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		if first {
			row[0] = strings.TrimPrefix(row[0], "\ufeff")
			if strings.EqualFold(strings.TrimSpace(row[0]), header) {
				continue
			}
		}
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		if len(row) < lo || len(row) > hi {
			return nil, nil, fmt.Errorf("%s line %d: %d field(s), want %d to %d", file, line, len(row), lo, hi)
		}
		for i := range row {
			row[i] = strings.TrimSpace(row[i])
		}
		rows = append(rows, row)
		lines = append(lines, line)
	}
}

// rowError turns "name[i].field: rule" from the store's checks into
// "file line L: field: rule".
func rowError(err error, name, file string, lines []int) error {
	if statements.ErrorCode(err) != statements.EInvalid {
		return err
	}
	rest, ok := strings.CutPrefix(statements.ErrorMessage(err), name+"[")
	if !ok {
		return err
	}
	idx, rest, ok := strings.Cut(rest, "]")
	i, cerr := strconv.Atoi(idx)
	if !ok || cerr != nil || i < 0 || i >= len(lines) {
		return err
	}
	return fmt.Errorf("%s line %d: %s", file, lines[i], strings.TrimPrefix(rest, "."))
}

// readStudentsCSV reads rows account,sourcedId; lines are their lines.
func readStudentsCSV(file string) (ms []oneroster.StudentMapping, lines []int, err error) {
	rows, lines, err := readCSV(file, "account", 2, 2)
	if err != nil {
		return nil, nil, err
	}
	ms = make([]oneroster.StudentMapping, len(rows))
	for i, row := range rows {
		ms[i] = oneroster.StudentMapping{Account: row[0], SourcedID: row[1]}
	}
	return ms, lines, nil
}

// readActivitiesCSV reads rows activityId,lineItem,class,scaleMin,scaleMax,
// the last three optional (scaleMin and scaleMax both or neither); lines
// are their lines.
func readActivitiesCSV(file string) (ms []oneroster.ActivityMapping, lines []int, err error) {
	rows, lines, err := readCSV(file, "activityId", 2, 5)
	if err != nil {
		return nil, nil, err
	}
	ms = make([]oneroster.ActivityMapping, len(rows))
	for i, row := range rows {
		row = append(row, "", "", "")[:5]
		m := oneroster.ActivityMapping{ActivityID: row[0], Target: oneroster.Target{LineItem: row[1], Class: row[2]}}
		switch {
		case row[3] == "" && row[4] == "":
		case row[3] == "" || row[4] == "":
			return nil, nil, fmt.Errorf("%s line %d: scaleMin and scaleMax: both or neither", file, lines[i])
		default:
			lo, err1 := strconv.ParseFloat(row[3], 64)
			hi, err2 := strconv.ParseFloat(row[4], 64)
			if err1 != nil || err2 != nil {
				return nil, nil, fmt.Errorf("%s line %d: scaleMin and scaleMax must be numbers, got %q and %q", file, lines[i], row[3], row[4])
			}
			m.Scale = &oneroster.Scale{Min: lo, Max: hi}
		}
		ms[i] = m
	}
	return ms, lines, nil
}
