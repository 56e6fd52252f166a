package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/digione/lrs/lrs"
)

// eraseCommands is `lrs erase`: one learner erased, the right to erasure.
var eraseCommands = []adminCommand{{
	name: "erase",
	flags: func(fs *flag.FlagSet, o *adminOptions) {
		fs.StringVar(&o.Tenant, "tenant", "", "the learner's tenant")
		fs.StringVar(&o.Agent, "agent", "", `the learner, an xAPI Agent object (JSON), e.g. {"account":{"homePage":"https://mpass-proxy.csc.fi","name":"..."}}`)
	},
	run: runErase,
}}

// runErase erases the learner (lrs.Admin.EraseLearner) and prints the
// receipt, which names the learner by a keyed hash only.
func runErase(ctx context.Context, ops *lrs.Admin, o *adminOptions, _ []string, out io.Writer) error {
	if o.Tenant == "" {
		return errors.New("lrs erase: --tenant is required")
	}
	if o.Agent == "" {
		return errors.New("lrs erase: --agent is required")
	}
	rc, err := ops.EraseLearner(ctx, cliActor, o.Tenant, []byte(o.Agent))
	if err != nil {
		return err
	}
	return printResult(out, o, rc, "erasure %s completed: %d statements deleted, %d pseudonymised, %d documents, %d attachments deleted\n",
		rc.ID, rc.StatementsDeleted, rc.StatementsPseudonymised, rc.Documents, rc.Attachments)
}

// retentionCommands is `lrs retention`: how long a tenant keeps its
// statements, shown, or set with --days.
var retentionCommands = []adminCommand{{
	name: "retention",
	flags: func(fs *flag.FlagSet, o *adminOptions) {
		fs.StringVar(&o.Tenant, "tenant", "", "the tenant")
		fs.IntVar(&o.RetentionDays, "days", -1, "days a statement is kept after it was stored; 0 = for ever; without it, show the retention")
	},
	run: runRetention,
}}

func runRetention(ctx context.Context, ops *lrs.Admin, o *adminOptions, _ []string, out io.Writer) error {
	if o.Tenant == "" {
		return errors.New("lrs retention: --tenant is required")
	}
	if o.RetentionDays >= 0 {
		if err := ops.SetRetention(ctx, cliActor, o.Tenant, o.RetentionDays); err != nil {
			return err
		}
	}
	r, err := ops.Retention(ctx, o.Tenant)
	if err != nil {
		return err
	}
	if r.StatementsDays == 0 {
		return printResult(out, o, r, "%s keeps its statements for ever\n", o.Tenant)
	}
	return printResult(out, o, r, "%s keeps its statements %d days\n", o.Tenant, r.StatementsDays)
}

// tenantDeleteCommands is `lrs tenant delete ID`: the tenant's credentials
// revoked, then all its data removed; it returns when the tenant is gone.
var tenantDeleteCommands = []adminCommand{{
	name: "tenant delete", args: "ID", nargs: 1,
	run: func(ctx context.Context, ops *lrs.Admin, o *adminOptions, args []string, out io.Writer) error {
		if err := ops.DeleteTenant(ctx, cliActor, args[0]); err != nil {
			return err
		}
		return printResult(out, o, map[string]string{"tenant": args[0], "status": "deleted"}, "deleted tenant %s\n", args[0])
	},
}}
