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
