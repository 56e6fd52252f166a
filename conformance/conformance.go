package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"
)

// The xAPI versions the harness checks.
const (
	V103 = "1.0.3"
	V200 = "2.0.0"
)

// Versions lists the xAPI versions the harness checks, oldest first.
func Versions() []string { return []string{V103, V200} }

var (
	both    = []string{V103, V200}
	only103 = []string{V103}
	only200 = []string{V200}
)

// Config says which LRS to check and how.
type Config struct {
	// Endpoint is the base URL of the xAPI API, e.g. "http://127.0.0.1:8080/xapi/";
	// statements live at Endpoint+"statements". A missing final slash is added.
	Endpoint string
	// Key and Secret are an HTTP Basic credential of any scopes: the
	// preflight learns what it may do, and checks it may not run are
	// reported as not run.
	Key, Secret string
	// Scopes, when set, declares the credential's scopes instead of
	// learning them by probing; the preflight still probes and refuses a
	// declared scope the LRS denies. Only a declaration tells a credential
	// holds "define" when it lacks another scope. Nil means probe.
	Scopes []string
	// Version is "1.0.3" or "2.0.0"; "" means every version the LRS's /about lists.
	Version string
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// Match selects checks by "ID text" of their requirement; nil means all.
	Match *regexp.Regexp
	// Settle is how long a check waits for a stored statement to become
	// retrievable (the LRS MAY respond before it is); 0 means 5 s.
	Settle time.Duration
	// ClockSkew is the tolerated difference between the LRS's clock and ours;
	// 0 means 10 s.
	ClockSkew time.Duration
}

// Requirement is one requirement of the xAPI specification.
type Requirement struct {
	// ID is the spec anchor, e.g. "Data 2.4.1.s2.b1" or "Communication 2.1.3.s2.b1"
	// (anchors of the 1.0.3 text in adlnet/xAPI-Spec), or for rules that exist
	// only in 2.0 the section of the 2.0 text.
	ID string
	// Text is the requirement's words, shortened.
	Text string
	// Versions lists the xAPI versions the requirement belongs to.
	Versions []string
}

// AppliesTo reports whether the requirement belongs to the xAPI version.
func (r Requirement) AppliesTo(version string) bool { return slices.Contains(r.Versions, version) }

// String returns the ID and the text.
func (r Requirement) String() string { return r.ID + ": " + r.Text }

// Check verifies one requirement against an LRS.
type Check struct {
	Requirement Requirement
	// Section names the area of the specification the check belongs to,
	// e.g. "Statement POST"; Checks sets it.
	Section string
	// Needs lists the scopes the credential must hold for the check to
	// run; a credential lacking one gets the check reported as not run.
	// Nil means the default of its section (Checks fills it in); an empty
	// list means none.
	Needs []string
	// Run returns nil when the LRS meets the requirement, a SkipError when the
	// check cannot decide, and any other error when the LRS fails it.
	Run func(ctx context.Context, c *Client) error
}

// SkipError is returned by a check that cannot decide, with the reason.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

func skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// Statuses of a Result.
const (
	StatusPass   = "pass"
	StatusFail   = "fail"
	StatusNotRun = "not-run"
)

// Result is the outcome of one check for one xAPI version.
type Result struct {
	Requirement Requirement
	Section     string   // the check's section
	Needs       []string // the scopes the check needs
	Version     string
	Err         error  // nil = pass (unless NotRun)
	NotRun      string // non-empty: the check did not run, and why
	Duration    time.Duration
	// Exchange is the last HTTP exchange of a failed check: usually the
	// one that failed it.
	Exchange *Exchange
}

// Status returns StatusPass, StatusFail or StatusNotRun.
func (r Result) Status() string {
	switch {
	case r.Err != nil:
		return StatusFail
	case r.NotRun != "":
		return StatusNotRun
	}
	return StatusPass
}

// areas are the sections of the checks, in the order of the report, with
// the scopes their checks need unless a check says otherwise.
var areas = []struct {
	section string
	checks  []Check
	needs   []string
}{
	{"About resource", aboutChecks, needsNothing},
	{"Versioning", versioningChecks, needsStatements},
	{"Authentication", authChecks, needsRead},
	{"Statement PUT", putChecks, needsStatements},
	{"Statement POST", postChecks, needsStatements},
	{"Statement GET", getChecks, needsStatements},
	{"Statement properties", propertyChecks, needsStatements},
	{"Voiding", voidingChecks, needsStatements},
	{"Statement queries", queryChecks, needsStatements},
	{"Paging", pagingChecks, needsStatements},
	{"Statement formats", formatChecks, needsStatements},
	{"Headers", headerChecks, needsStatements},
	{"Statement validation", validationChecks, needsStatements},
	{"Alternate request syntax", altSyntaxChecks, needsStatements},
	{"CORS", corsChecks, needsNothing},
	{"Attachments", attachmentChecks, needsStatements},
	{"Signed statements", signatureChecks, needsStatements},
	{"Activities resource", activityChecks, needsStatements},
	{"Agents resource", agentChecks, needsStatements},
	{"Document resources", documentChecks, []string{ScopeState, ScopeProfile}},
}

// Checks returns every check, grouped by section.
func Checks() []Check {
	var all []Check
	for _, a := range areas {
		for _, chk := range a.checks {
			chk.Section = a.section
			if chk.Needs == nil {
				chk.Needs = a.needs
			}
			all = append(all, chk)
		}
	}
	return all
}

// checkTimeout bounds one check's run.
const checkTimeout = 2 * time.Minute

// Run runs the preflight and then the checks that cfg selects against the
// LRS, version by version, in the order of Checks. When the preflight
// fails, the report holds its error and no results.
func Run(ctx context.Context, cfg Config) Report {
	rep := Report{Endpoint: cfg.Endpoint, Key: cfg.Key, Started: time.Now()}
	written := &writtenLog{}
	caps, err := preflight(ctx, cfg, written)
	if err != nil {
		rep.PreflightErr = err
		rep.Written = written.list()
		rep.Duration = time.Since(rep.Started)
		return rep
	}
	rep.Capabilities = caps
	versions := []string{cfg.Version}
	unsupported := map[string]string{}
	if cfg.Version == "" {
		versions = Versions()
		for _, v := range versions {
			if !slices.Contains(caps.Versions, v) {
				unsupported[v] = fmt.Sprintf("the LRS's /about does not list version %s", v)
			}
		}
	}
	for _, v := range versions {
		vcfg := cfg
		vcfg.Version = v
		client, err := newClient(vcfg, caps, written)
		for _, chk := range Checks() {
			req := chk.Requirement
			if !req.AppliesTo(v) || (cfg.Match != nil && !cfg.Match.MatchString(req.ID+" "+req.Text)) {
				continue
			}
			res := Result{Requirement: req, Section: chk.Section, Needs: chk.Needs, Version: v}
			switch {
			case err != nil:
				res.Err = err
			case unsupported[v] != "":
				res.NotRun = unsupported[v]
			case len(caps.Missing(chk.Needs)) > 0:
				res.NotRun = needsReason(caps.Missing(chk.Needs))
			default:
				start := time.Now()
				client.begin(req.ID)
				res.Err = runCheck(ctx, client, chk)
				res.Duration = time.Since(start)
				if se, ok := errors.AsType[*SkipError](res.Err); ok {
					res.Err, res.NotRun = nil, se.Reason
				}
				if res.Err != nil {
					res.Exchange = client.lastExchange()
				}
				client.begin("")
			}
			rep.Results = append(rep.Results, res)
		}
	}
	rep.Written = written.list()
	rep.Duration = time.Since(rep.Started)
	return rep
}

// runCheck runs one check with a deadline, turning a panic into a failure.
func runCheck(ctx context.Context, c *Client, chk Check) (err error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return chk.Run(ctx, c)
}
