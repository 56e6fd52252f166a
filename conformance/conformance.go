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
	// Key and Secret are an HTTP Basic credential with full rights (scope "all").
	Key, Secret string
	// Version is "1.0.3" or "2.0.0"; "" means every version the LRS's /about lists
	// (both when /about cannot be read).
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

// Result is the outcome of one check for one xAPI version.
type Result struct {
	Requirement Requirement
	Version     string
	Err         error  // nil = pass (unless Skipped)
	Skipped     string // non-empty: the check did not run, and why
	Duration    time.Duration
}

// Checks returns every check, grouped by area.
func Checks() []Check {
	areas := [][]Check{
		aboutChecks,
		versioningChecks,
		authChecks,
		putChecks,
		postChecks,
		getChecks,
		propertyChecks,
		voidingChecks,
		queryChecks,
		pagingChecks,
		formatChecks,
		headerChecks,
		validationChecks,
		altSyntaxChecks,
		corsChecks,
		attachmentChecks, signatureChecks, activityChecks, agentChecks,
		documentChecks,
	}
	var all []Check
	for _, a := range areas {
		all = append(all, a...)
	}
	return all
}

// checkTimeout bounds one check's run.
const checkTimeout = 2 * time.Minute

// Run runs the checks that cfg selects against the LRS and reports the
// results, version by version, in the order of Checks.
func Run(ctx context.Context, cfg Config) Report {
	versions := []string{cfg.Version}
	unsupported := map[string]string{}
	if cfg.Version == "" {
		versions = Versions()
		if listed, err := aboutVersions(ctx, cfg); err == nil {
			for _, v := range versions {
				if !slices.Contains(listed, v) {
					unsupported[v] = fmt.Sprintf("the LRS's /about does not list version %s", v)
				}
			}
		}
	}
	var rep Report
	for _, v := range versions {
		vcfg := cfg
		vcfg.Version = v
		client, err := NewClient(vcfg)
		for _, chk := range Checks() {
			req := chk.Requirement
			if !req.AppliesTo(v) || (cfg.Match != nil && !cfg.Match.MatchString(req.ID+" "+req.Text)) {
				continue
			}
			res := Result{Requirement: req, Version: v}
			switch {
			case err != nil:
				res.Err = err
			case unsupported[v] != "":
				res.Skipped = unsupported[v]
			default:
				start := time.Now()
				res.Err = runCheck(ctx, client, chk)
				res.Duration = time.Since(start)
				if se, ok := errors.AsType[*SkipError](res.Err); ok {
					res.Err, res.Skipped = nil, se.Reason
				}
			}
			rep.Results = append(rep.Results, res)
		}
	}
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

// aboutVersions returns the versions the LRS's /about lists.
func aboutVersions(ctx context.Context, cfg Config) ([]string, error) {
	vcfg := cfg
	vcfg.Version = V103
	c, err := NewClient(vcfg)
	if err != nil {
		return nil, err
	}
	r, err := c.do(ctx, request{method: http.MethodGet, path: "about"})
	if err != nil {
		return nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, err
	}
	var about struct {
		Version []string `json:"version"`
	}
	if err := r.decode(&about); err != nil {
		return nil, err
	}
	return about.Version, nil
}
