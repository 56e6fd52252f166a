package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/digione/lrs/lrs"
)

// exportCommands is `lrs export`: one learner's data, the right of access.
var exportCommands = []adminCommand{{
	name: "export",
	flags: func(fs *flag.FlagSet, o *adminOptions) {
		fs.StringVar(&o.Tenant, "tenant", "", "the learner's tenant")
		fs.StringVar(&o.Agent, "agent", "", `the learner, an xAPI Agent object (JSON), e.g. {"account":{"homePage":"https://mpass-proxy.csc.fi","name":"..."}}`)
		fs.StringVar(&o.To, "to", "-", "the ZIP file to write; - for standard output")
	},
	run: runExport,
}}

// runExport writes the learner export of lrs.Admin.ExportLearner to
// o.To: a file appears there only whole (written beside it, then
// renamed); with "-", to out.
func runExport(ctx context.Context, ops *lrs.Admin, o *adminOptions, _ []string, out io.Writer) error {
	if o.Tenant == "" {
		return errors.New("lrs export: --tenant is required")
	}
	if o.Agent == "" {
		return errors.New("lrs export: --agent is required")
	}
	if o.To == "-" || o.To == "" {
		return ops.ExportLearner(ctx, cliActor, o.Tenant, []byte(o.Agent), func() (io.Writer, error) { return out, nil })
	}
	var f *os.File
	err := ops.ExportLearner(ctx, cliActor, o.Tenant, []byte(o.Agent), func() (io.Writer, error) {
		var err error
		f, err = os.CreateTemp(filepath.Dir(o.To), ".lrs-export-*")
		return f, err
	})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), o.To)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "exported to %s\n", o.To)
	return err
}
