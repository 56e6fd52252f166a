package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/digione/lrs/validation"
	"github.com/digione/lrs/validation/profile"
	"github.com/digione/lrs/validation/profile/digione"
)

// exitError ends the process with its code; err, when not nil, is
// printed first.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a wrong command line: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

const checkUsage = `usage: lrs check [--xapi-version 1.0.3|2.0.0] [--profile FILE] [--home-page URL] [--json] FILE...

Validates statements offline, as the LRS would at ingest: each FILE holds one
statement or an array of statements ("-" reads standard input). Every
statement is checked against the xAPI version (default 2.0.0) and the xAPI
profile (default the DigiOne profile); with --home-page, also that the
actor's account.homePage is the tenant's identity home page, as the LRS
checks per tenant. Each problem is printed with its file,
the statement's index and id, the path and the rule broken.
Exit status: 0 when all is well, 1 when a statement has an error, 2 when the
command line is wrong.`

// checkFinding is one problem lrs check found in a statement (or a file).
type checkFinding struct {
	File  string `json:"file"`
	Index int    `json:"index"` // the statement's index in the file; -1: the file
	ID    string `json:"id,omitempty"`
	// Kind is "json" (not a statement file), "xapi" (the xAPI version's
	// rules), "profile" (a template rule) or, among notes, "unchecked" or
	// "unmatched".
	Kind string `json:"kind"`
	// Path is a JSON Pointer for xapi, the rule's JSONPath for profile.
	Path string `json:"path,omitempty"`
	// Template and Rule name a profile rule: template id and rule index
	// (-1: the template's StatementRef requirement).
	Template string `json:"template,omitempty"`
	Rule     *int   `json:"rule,omitempty"`
	Message  string `json:"message"`
}

// text is the finding as a line of lrs check's output.
func (f checkFinding) text(version string) string {
	where := f.File
	if f.Index >= 0 {
		where += ":" + strconv.Itoa(f.Index)
	}
	if f.ID != "" {
		where += " (id " + f.ID + ")"
	}
	switch f.Kind {
	case "xapi":
		p := f.Path
		if p == "" {
			p = "statement"
		}
		return fmt.Sprintf("%s: xAPI %s: %s: %s", where, version, p, f.Message)
	case "profile", "unchecked":
		return fmt.Sprintf("%s: profile: template %s rule %d (%s): %s", where, f.Template, *f.Rule, f.Path, f.Message)
	}
	return where + ": " + f.Message
}

// checkReport is the output of lrs check --json.
type checkReport struct {
	XAPIVersion string         `json:"xapiVersion"`
	Profile     string         `json:"profile"`
	Files       int            `json:"files"`
	Statements  int            `json:"statements"`
	OK          bool           `json:"ok"`
	Errors      []checkFinding `json:"errors"`
	Notes       []checkFinding `json:"notes"`
}

// runCheck is lrs check.
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lrs check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, checkUsage); fs.PrintDefaults() }
	version := fs.String("xapi-version", validation.V200, "the xAPI version whose rules apply: 1.0.3 or 2.0.0")
	profileFile := fs.String("profile", "", "an xAPI Profile (JSON-LD) file; default the DigiOne profile")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	homePage := fs.String("home-page", "", "the tenant's identity home page: statements a template matches must have an account of it (default: not checked)")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return &exitError{code: 2}
		}
		if fs.NArg() == 0 {
			break
		}
		files, args = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) == 0 {
		fs.Usage()
		return usageError("check: no files (give FILE... or - for standard input)")
	}
	if *version != validation.V103 && *version != validation.V200 {
		return usageError("check: --xapi-version %q: want %s or %s", *version, validation.V103, validation.V200)
	}
	p := digione.Profile()
	if *profileFile != "" {
		var err error
		if p, err = loadProfile(*profileFile); err != nil {
			return usageError("check: --profile: %v", err)
		}
	}
	var opts *profile.Options
	if *homePage != "" {
		x, err := digione.HomePageRule(*homePage)
		if err != nil {
			return usageError("check: --home-page: %v", err)
		}
		opts = &profile.Options{Extra: []*profile.ExtraRule{x}}
	}
	rep := checkReport{XAPIVersion: *version, Profile: p.ID, Files: len(files), Errors: []checkFinding{}, Notes: []checkFinding{}}
	stdinRead := false
	for _, name := range files {
		var data []byte
		var err error
		if name == "-" {
			if stdinRead {
				return usageError("check: - given twice")
			}
			stdinRead = true
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			return usageError("check: %v", err)
		}
		n, errs, notes := checkFile(name, data, *version, p, opts)
		rep.Statements += n
		rep.Errors = append(rep.Errors, errs...)
		rep.Notes = append(rep.Notes, notes...)
	}
	rep.OK = len(rep.Errors) == 0
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, f := range rep.Errors {
			fmt.Fprintln(stdout, f.text(*version))
		}
		for _, f := range rep.Notes {
			fmt.Fprintln(stdout, "note: "+f.text(*version))
		}
		fmt.Fprintf(stdout, "%d statements in %d files: %d errors (xAPI %s, profile %s)\n", rep.Statements, rep.Files, len(rep.Errors), *version, p.ID)
	}
	if !rep.OK {
		return &exitError{code: 1}
	}
	return nil
}

// checkFile checks the statements of one file and returns how many it
// holds, the errors and the notes.
func checkFile(name string, data []byte, version string, p *profile.Profile, opts *profile.Options) (n int, errs, notes []checkFinding) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return 0, []checkFinding{{File: name, Index: -1, Kind: "json", Message: "not JSON: " + err.Error()}}, nil
	}
	list, batch := v.([]any)
	if !batch {
		list = []any{v}
	}
	ids := make([]string, len(list))
	for i, st := range list {
		if m, ok := st.(map[string]any); ok {
			ids[i], _ = m["id"].(string)
		}
	}
	// The xAPI rules, as the LRS applies them to a POST body: paths of
	// an array start with the statement's index.
	if _, _, err := validation.ParseStatements(version, data); err != nil {
		var verrs validation.Errors
		var verr validation.Error
		switch {
		case errors.As(err, &verrs):
		case errors.As(err, &verr):
			verrs = validation.Errors{verr}
		default:
			verrs = validation.Errors{{Rule: err.Error()}}
		}
		for _, e := range verrs {
			f := checkFinding{File: name, Index: 0, Kind: "xapi", Path: e.Path, Message: e.Rule}
			if batch {
				f.Index = -1
				if rest, ok := strings.CutPrefix(e.Path, "/"); ok {
					head, tail, hasTail := strings.Cut(rest, "/")
					if i, err := strconv.Atoi(head); err == nil && i < len(list) {
						f.Index, f.Path = i, ""
						if hasTail {
							f.Path = "/" + tail
						}
					}
				}
			}
			if f.Index >= 0 {
				f.ID = ids[f.Index]
			}
			errs = append(errs, f)
		}
	}
	// The profile, on every statement that is a JSON object.
	for i, st := range list {
		m, ok := st.(map[string]any)
		if !ok {
			continue
		}
		res := p.Check(m, opts)
		for _, v := range res.Violations {
			rule := v.Rule
			errs = append(errs, checkFinding{File: name, Index: i, ID: ids[i], Kind: "profile", Path: v.Location, Template: v.Template, Rule: &rule, Message: v.Message})
		}
		for _, v := range res.Unchecked {
			rule := v.Rule
			notes = append(notes, checkFinding{File: name, Index: i, ID: ids[i], Kind: "unchecked", Path: v.Location, Template: v.Template, Rule: &rule, Message: v.Message})
		}
		if res.Outcome == profile.Unmatched {
			notes = append(notes, checkFinding{File: name, Index: i, ID: ids[i], Kind: "unmatched", Message: "follows no template of the profile"})
		}
	}
	sortFindings(errs)
	return len(list), errs, notes
}

// sortFindings orders findings by statement, xAPI errors first.
func sortFindings(fs []checkFinding) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Index < fs[j-1].Index; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
