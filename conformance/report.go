package conformance

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Report holds the results of a run.
type Report struct {
	Results []Result
}

// Passed returns the results of the checks the LRS passed.
func (r Report) Passed() []Result {
	return r.filter(func(res Result) bool { return res.Err == nil && res.Skipped == "" })
}

// Failed returns the results of the checks the LRS failed.
func (r Report) Failed() []Result {
	return r.filter(func(res Result) bool { return res.Err != nil })
}

// Skipped returns the results of the checks that did not run.
func (r Report) Skipped() []Result {
	return r.filter(func(res Result) bool { return res.Err == nil && res.Skipped != "" })
}

func (r Report) filter(keep func(Result) bool) []Result {
	var out []Result
	for _, res := range r.Results {
		if keep(res) {
			out = append(out, res)
		}
	}
	return out
}

// WriteText writes one line per check, the requirement and the error of each
// failure, and then the summary line "N passed, M failed".
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, res := range r.Results {
		req := res.Requirement
		switch {
		case res.Err != nil:
			fmt.Fprintf(bw, "FAIL %s %s\n", res.Version, req.ID)
			fmt.Fprintf(bw, "     requirement: %s\n", req.Text)
			for _, line := range strings.Split(strings.TrimRight(res.Err.Error(), "\n"), "\n") {
				fmt.Fprintf(bw, "     %s\n", line)
			}
		case res.Skipped != "":
			fmt.Fprintf(bw, "skip %s %s (%s)\n", res.Version, req.ID, res.Skipped)
		default:
			fmt.Fprintf(bw, "ok   %s %s\n", res.Version, req.ID)
		}
	}
	if n := len(r.Skipped()); n > 0 {
		fmt.Fprintf(bw, "%d skipped\n", n)
	}
	fmt.Fprintf(bw, "%d passed, %d failed\n", len(r.Passed()), len(r.Failed()))
	return bw.Flush()
}
