package conformance

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report holds the results of a run.
type Report struct {
	// Endpoint and Key say which LRS and credential were checked.
	Endpoint, Key string
	Started       time.Time
	Duration      time.Duration
	// Capabilities is what the preflight learned; nil when it failed.
	Capabilities *Capabilities
	// PreflightErr, when not nil, says why no check ran.
	PreflightErr error
	Results      []Result
	// Written lists the data the run stored in the LRS, in order.
	Written []Written
}

// Passed returns the results of the checks the LRS passed.
func (r Report) Passed() []Result { return r.withStatus(StatusPass) }

// Failed returns the results of the checks the LRS failed.
func (r Report) Failed() []Result { return r.withStatus(StatusFail) }

// NotRun returns the results of the checks that did not run.
func (r Report) NotRun() []Result { return r.withStatus(StatusNotRun) }

func (r Report) withStatus(status string) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status() == status {
			out = append(out, res)
		}
	}
	return out
}

// OK reports whether the run ended well: the preflight passed and no check
// that ran failed. Checks that did not run do not spoil it.
func (r Report) OK() bool { return r.PreflightErr == nil && len(r.Failed()) == 0 }

// Tally counts results by status.
type Tally struct {
	Passed, Failed, NotRun int
	Duration               time.Duration
}

func (t *Tally) add(res Result) {
	switch res.Status() {
	case StatusPass:
		t.Passed++
	case StatusFail:
		t.Failed++
	default:
		t.NotRun++
	}
	t.Duration += res.Duration
}

// Total returns the number of results counted.
func (t Tally) Total() int { return t.Passed + t.Failed + t.NotRun }

// VersionSummary tallies the results of one xAPI version, and of each of
// its sections.
type VersionSummary struct {
	Version string
	Tally
	Sections []SectionSummary
}

// SectionSummary tallies the results of one section of one version.
type SectionSummary struct {
	Section string
	Tally
}

// Summaries tallies the results by version and section, in the order of
// the results.
func (r Report) Summaries() []VersionSummary {
	var out []VersionSummary
	for _, res := range r.Results {
		i := slices.IndexFunc(out, func(v VersionSummary) bool { return v.Version == res.Version })
		if i < 0 {
			out = append(out, VersionSummary{Version: res.Version})
			i = len(out) - 1
		}
		v := &out[i]
		v.add(res)
		j := slices.IndexFunc(v.Sections, func(s SectionSummary) bool { return s.Section == res.Section })
		if j < 0 {
			v.Sections = append(v.Sections, SectionSummary{Section: res.Section})
			j = len(v.Sections) - 1
		}
		v.Sections[j].add(res)
	}
	return out
}

// Totals tallies every result.
func (r Report) Totals() Tally {
	var t Tally
	for _, res := range r.Results {
		t.add(res)
	}
	return t
}

// WriteText writes the report for people: what the preflight learned, one
// line per check with its requirement (a failure followed by its error and
// last exchange), the data the run wrote, a summary per version and
// section, and the line "N passed, M failed, K not run". A failed preflight
// is one line.
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if r.PreflightErr != nil {
		fmt.Fprintf(bw, "preflight failed, no check ran: %v\n", r.PreflightErr)
		return bw.Flush()
	}
	if caps := r.Capabilities; caps != nil {
		r.writePreflight(bw, caps)
	}
	section := ""
	for _, res := range r.Results {
		if s := res.Version + " " + res.Section; s != section {
			section = s
			fmt.Fprintf(bw, "\n# xAPI %s\n", section)
		}
		req := res.Requirement
		switch res.Status() {
		case StatusFail:
			fmt.Fprintf(bw, "FAIL    %s %s: %s\n", res.Version, req.ID, req.Text)
			for _, line := range strings.Split(strings.TrimRight(res.Err.Error(), "\n"), "\n") {
				fmt.Fprintf(bw, "        %s\n", line)
			}
			if ex := res.Exchange; ex != nil {
				fmt.Fprintf(bw, "        last exchange: %s\n", ex.summary())
			}
		case StatusNotRun:
			fmt.Fprintf(bw, "not run %s %s (%s): %s\n", res.Version, req.ID, res.NotRun, req.Text)
		default:
			fmt.Fprintf(bw, "ok      %s %s: %s\n", res.Version, req.ID, req.Text)
		}
	}
	r.writeWritten(bw)
	if sums := r.Summaries(); len(sums) > 0 {
		fmt.Fprintf(bw, "\n%-40s %6s %6s %7s\n", "summary", "passed", "failed", "not run")
		for _, v := range sums {
			for _, s := range v.Sections {
				fmt.Fprintf(bw, "%-40s %6d %6d %7d\n", v.Version+" "+s.Section, s.Passed, s.Failed, s.NotRun)
			}
			fmt.Fprintf(bw, "%-40s %6d %6d %7d\n", v.Version+" all sections", v.Passed, v.Failed, v.NotRun)
		}
	}
	t := r.Totals()
	fmt.Fprintf(bw, "%d passed, %d failed, %d not run\n", t.Passed, t.Failed, t.NotRun)
	return bw.Flush()
}

func (r Report) writePreflight(w io.Writer, caps *Capabilities) {
	fmt.Fprintf(w, "LRS %s speaks xAPI %s\n", r.Endpoint, strings.Join(caps.Versions, ", "))
	how := "seen by the preflight"
	if caps.Declared {
		how = "declared"
	}
	var held, lacking []string
	for _, s := range []string{ScopeStatementsWrite, ScopeStatementsReadMine, ScopeState, ScopeProfile, ScopeDefine} {
		if caps.Grants(s) {
			if slices.Contains(caps.Assumed, s) {
				s += " (assumed: every other scope is held)"
			}
			held = append(held, s)
		} else {
			lacking = append(lacking, s)
		}
	}
	fmt.Fprintf(w, "credential %s: scopes %s (%s)", r.Key, strings.Join(held, ", "), how)
	if len(lacking) > 0 {
		fmt.Fprintf(w, "; lacks %s: checks that need them do not run", strings.Join(lacking, ", "))
	}
	fmt.Fprintln(w)
	if caps.Authority != nil {
		fmt.Fprintf(w, "authority the LRS sets on its statements: %s\n", jsonString(caps.Authority))
	}
}

func (r Report) writeWritten(w io.Writer) {
	if len(r.Written) == 0 {
		return
	}
	stmts := 0
	for _, d := range r.Written {
		if d.Kind == WrittenStatement {
			stmts++
		}
	}
	fmt.Fprintf(w, "\n# data written: %d statements, %d documents\n", stmts, len(r.Written)-stmts)
	for _, d := range r.Written {
		fmt.Fprintf(w, "%s %s", d.Kind, d.ID)
		for _, p := range [][2]string{{"activityId", d.ActivityID}, {"agent", d.Agent}, {"registration", d.Registration}} {
			if p[1] != "" {
				fmt.Fprintf(w, " %s=%s", p[0], p[1])
			}
		}
		fmt.Fprintf(w, " (%s %s)", d.Version, d.Check)
		if d.Deleted {
			fmt.Fprint(w, " deleted again")
		}
		fmt.Fprintln(w)
	}
}

// summary returns the exchange in one line: method, URL and status.
func (e *Exchange) summary() string {
	s := e.Request.Method + " " + e.Request.URL
	switch {
	case e.Response != nil:
		s += fmt.Sprintf(" -> %d", e.Response.Status)
	case e.Err != "":
		s += " -> " + e.Err
	}
	return s
}
