package conformance

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteJUnit writes the report as JUnit XML, for continuous integration:
// a testsuite per version and section, a testcase per check, a <failure>
// for a failed check and <skipped> for one that did not run. A failed
// preflight is a testsuite "preflight" with one <error>.
func (r Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "lrs-conformance " + r.Endpoint, Time: seconds(r.Duration.Seconds())}
	if r.PreflightErr != nil {
		out.Tests, out.Errors = 1, 1
		out.Suites = append(out.Suites, junitSuite{
			Name: "preflight", Tests: 1, Errors: 1,
			Cases: []junitCase{{Name: "preflight", ClassName: "preflight",
				Error: &junitProblem{Message: r.PreflightErr.Error(), Type: "preflight", Text: r.PreflightErr.Error()}}},
		})
	}
	for _, v := range r.Summaries() {
		for _, s := range v.Sections {
			suite := junitSuite{
				Name:  "xAPI " + v.Version + " " + s.Section,
				Tests: s.Total(), Failures: s.Failed, Skipped: s.NotRun, Time: seconds(s.Duration.Seconds()),
			}
			class := "xAPI_" + strings.ReplaceAll(v.Version, ".", "_") + "." + s.Section
			for _, res := range r.Results {
				if res.Version != v.Version || res.Section != s.Section {
					continue
				}
				tc := junitCase{
					Name:      res.Requirement.ID + ": " + res.Requirement.Text,
					ClassName: class,
					Time:      seconds(res.Duration.Seconds()),
				}
				switch res.Status() {
				case StatusFail:
					msg, _, _ := strings.Cut(res.Err.Error(), "\n")
					text := res.Err.Error()
					if ex := res.Exchange; ex != nil {
						text += "\n\n" + ex.text()
					}
					tc.Failure = &junitProblem{Message: msg, Type: "fail", Text: text}
				case StatusNotRun:
					tc.Skipped = &junitSkipped{Message: res.NotRun}
				}
				suite.Cases = append(suite.Cases, tc)
			}
			out.Tests += suite.Tests
			out.Failures += suite.Failures
			out.Skipped += suite.Skipped
			out.Suites = append(out.Suites, suite)
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type seconds float64

func (s seconds) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%.3f", float64(s)), nil }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     seconds      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     seconds     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      seconds       `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// text describes the exchange in full, as the text of a JUnit failure.
func (e *Exchange) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", e.Request.Method, e.Request.URL)
	writeHeader(&b, e.Request.Header)
	if e.Request.Body != "" {
		fmt.Fprintf(&b, "\n%s\n", e.Request.Body)
	}
	switch {
	case e.Response != nil:
		fmt.Fprintf(&b, "\n-> %d\n", e.Response.Status)
		writeHeader(&b, e.Response.Header)
		if e.Response.Body != "" {
			fmt.Fprintf(&b, "\n%s\n", e.Response.Body)
		}
	case e.Err != "":
		fmt.Fprintf(&b, "\n-> %s\n", e.Err)
	}
	return b.String()
}

func writeHeader(w io.Writer, h map[string][]string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}
