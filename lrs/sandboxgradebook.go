package lrs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

// The sandbox gradebook is a OneRoster gradebook inside the LRS: the
// results a sandbox's statements make, by the production mapping of the
// OneRoster write-back (oneroster.Mapper, newer statement wins, results
// named by the same sourcedId), with the seeded roster as the student
// table and the seeded line items as the activity table. It is read from
// the sandbox's stored statements, so nothing of a sandbox is ever sent
// to a gradebook, and a reset empties it with the statements.

// maxSandboxStatements bounds the statements the sandbox gradebook reads:
// the newest ones of a sandbox with more are left out (Truncated).
const maxSandboxStatements = 20000

// maxSandboxExamples bounds the examples of each kind per day in a
// sandbox report.
const maxSandboxExamples = 3

// SandboxResultsJSON is the sandbox gradebook: the results it holds.
type SandboxResultsJSON struct {
	Vendor  string             `json:"vendor"`
	Tenant  string             `json:"tenant"`
	Results []oneroster.Result `json:"results"`
	// Statements is how many stored statements were read; Truncated that
	// the sandbox has more, which were not.
	Statements int  `json:"statements"`
	Truncated  bool `json:"truncated,omitempty"`
}

// SandboxMapping is the dry run of the OneRoster mapping of one
// gradebook-bound statement: the result it writes, or why none.
type SandboxMapping struct {
	Statement string            `json:"statement"` // its id
	Stored    time.Time         `json:"stored"`
	Verb      string            `json:"verb"`
	Result    *oneroster.Result `json:"result,omitempty"`
	// Reason says why the statement writes no result, naming what is
	// missing: "no line item: ...", "unknown student: ...", "no score:
	// ...".
	Reason string `json:"reason,omitempty"`
}

// SandboxGradebookDay is one day of a sandbox's gradebook-bound
// statements: how many wrote a result and how many did not, by reason,
// with examples.
type SandboxGradebookDay struct {
	Day            string           `json:"day"`
	Results        int              `json:"results"`
	ResultExamples []SandboxMapping `json:"resultExamples"`
	NoResult       []SandboxSkipped `json:"noResult"`
}

// SandboxSkipped counts the statements of a day that wrote no result for
// one reason, with an example.
type SandboxSkipped struct {
	Reason  string         `json:"reason"`
	Count   int            `json:"count"`
	Example SandboxMapping `json:"example"`
}

// SandboxReportJSON is a sandbox's report: each credential's daily report
// (accepted, rejected by rule, flagged), the dry run of the OneRoster
// mapping per day, and the results now in the sandbox gradebook.
type SandboxReportJSON struct {
	Vendor      string                `json:"vendor"`
	Tenant      string                `json:"tenant"`
	Since       string                `json:"since"`
	Credentials []ReportJSON          `json:"credentials"`
	Gradebook   []SandboxGradebookDay `json:"gradebook"`
	Results     []oneroster.Result    `json:"results"`
	Truncated   bool                  `json:"truncated,omitempty"`
}

// sandboxResolver is the sandbox gradebook's student and activity table:
// the seeded roster's learners and line items. It remembers the students
// it looked up, so that a run over a sandbox's statements asks the store
// once per actor, not once per statement.
type sandboxResolver struct {
	store    statements.RosterStore
	tenant   string
	seed     SandboxSchool
	students map[string]string // account → student sourcedId, "" for none
}

func (r *sandboxResolver) Student(ctx context.Context, account string) (string, bool, error) {
	if id, ok := r.students[account]; ok {
		return id, id != "", nil
	}
	u, err := r.store.RosterPerson(ctx, r.tenant, account)
	if err != nil && statements.ErrorCode(err) != statements.ENotFound {
		return "", false, err
	}
	id := ""
	if err == nil && slices.ContainsFunc(u.Roles, func(role statements.RosterRole) bool { return role.Role == statements.RoleStudent }) {
		id = u.SourcedID
	}
	if r.students == nil {
		r.students = map[string]string{}
	}
	if len(r.students) < 10000 {
		r.students[account] = id
	}
	return id, id != "", nil
}

func (r *sandboxResolver) Activity(_ context.Context, id string) (oneroster.Target, bool, error) {
	for _, li := range r.seed.LineItems {
		if li.Activity == id {
			return oneroster.Target{LineItem: li.SourcedID, Class: li.Class, Scale: &oneroster.Scale{Min: li.Min, Max: li.Max}}, true, nil
		}
	}
	return oneroster.Target{}, false, nil
}

// sandboxGradebook maps the sandbox's stored statements, oldest first,
// and returns the dry run of each gradebook-bound one and the results the
// gradebook holds (newest statement per result).
func (a *Admin) sandboxGradebook(ctx context.Context, t statements.Tenant) ([]SandboxMapping, []oneroster.Result, int, bool, error) {
	seed := SandboxSeed(t.Sandbox)
	m := oneroster.NewMapper(SandboxBaseURL, oneroster.DefaultIdentityHomePage, nil)
	m.RequireStudent = true
	res := &sandboxResolver{store: a.Store, tenant: t.ID, seed: seed}
	type held struct {
		r    oneroster.Result
		when time.Time
	}
	results := map[string]held{}
	var runs []SandboxMapping
	read, after, truncated := 0, int64(0), false
pages:
	for {
		page, err := a.Store.QueryStatements(ctx, t.ID, statements.Filter{Ascending: true, After: after, Limit: statements.MaxLimit})
		if err != nil {
			return nil, nil, 0, false, err
		}
		for _, rec := range page.Records {
			if read == maxSandboxStatements {
				truncated = true
				break pages
			}
			read++
			after = rec.Position
			r, when, skip, err := m.MapWith(ctx, statements.LogEntry{Tenant: t.ID, Record: rec}, res)
			if err != nil {
				return nil, nil, 0, false, err
			}
			if skip == oneroster.SkipVerb {
				continue // not gradebook-bound
			}
			run := SandboxMapping{Statement: rec.ID, Stored: rec.Stored, Verb: verbOfStatement(rec.Statement)}
			switch {
			case skip != "":
				run.Reason = skipReason(skip)
			case !slices.ContainsFunc(seed.LineItems, func(li SandboxLineItem) bool { return li.SourcedID == r.LineItem.SourcedID }):
				run.Reason = fmt.Sprintf("unknown line item: %q is not a line item of the sandbox gradebook", r.LineItem.SourcedID)
			default:
				run.Result = r
				if h, ok := results[r.SourcedID]; !ok || !when.Before(h.when) {
					results[r.SourcedID] = held{r: *r, when: when}
				}
			}
			runs = append(runs, run)
		}
		if !page.More || len(page.Records) == 0 {
			break
		}
	}
	out := make([]oneroster.Result, 0, len(results))
	for _, h := range results {
		out = append(out, h.r)
	}
	return runs, sortResults(out), read, truncated, nil
}

func sortResults(rs []oneroster.Result) []oneroster.Result {
	slices.SortFunc(rs, func(a, b oneroster.Result) int {
		if c := compareStrings(a.LineItem.SourcedID, b.LineItem.SourcedID); c != 0 {
			return c
		}
		return compareStrings(a.Student.SourcedID, b.Student.SourcedID)
	})
	return rs
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// skipReason says in words why the mapping writes no result.
func skipReason(s oneroster.Skip) string {
	switch s {
	case oneroster.SkipStudent:
		return "unknown student: the actor is not the account (homePage " + oneroster.DefaultIdentityHomePage + ") of a learner of the sandbox's school"
	case oneroster.SkipLineItem:
		return "no line item: no context extension " + oneroster.ExtLineItem + " and the object is not the activity of a line item"
	case oneroster.SkipScore:
		return "no score: a scored statement without result.score"
	case oneroster.SkipVoided:
		return "voided: a voiding statement or a statement reference writes no result"
	case oneroster.SkipInvalid:
		return "invalid: the statement's timestamp cannot be read"
	}
	return string(s)
}

// verbOfStatement returns the verb id of a stored statement, "" when it
// has none that reads.
func verbOfStatement(b []byte) string {
	var st struct {
		Verb struct {
			ID string `json:"id"`
		} `json:"verb"`
	}
	_ = json.Unmarshal(b, &st)
	return st.Verb.ID
}

// SandboxResults returns the results in vendor's sandbox gradebook.
func (a *Admin) SandboxResults(ctx context.Context, vendor string) (*SandboxResultsJSON, error) {
	t, err := a.sandboxTenant(ctx, vendor)
	if err != nil {
		return nil, err
	}
	_, results, read, truncated, err := a.sandboxGradebook(ctx, *t)
	if err != nil {
		return nil, err
	}
	return &SandboxResultsJSON{Vendor: vendor, Tenant: t.ID, Results: results, Statements: read, Truncated: truncated}, nil
}

// SandboxReport returns vendor's sandbox report from since (YYYY-MM-DD;
// "" for all): each credential's report as stored, the dry run of the
// OneRoster mapping per day (counts, up to maxSandboxExamples examples
// of results, one example per reason of none) and the gradebook's
// results.
func (a *Admin) SandboxReport(ctx context.Context, vendor, since string) (*SandboxReportJSON, error) {
	if since != "" {
		if _, err := time.Parse(time.DateOnly, since); err != nil {
			return nil, statements.Errorf(statements.EInvalid, "since: must be a date, YYYY-MM-DD, got %q", since)
		}
	}
	t, err := a.sandboxTenant(ctx, vendor)
	if err != nil {
		return nil, err
	}
	rep := &SandboxReportJSON{Vendor: vendor, Tenant: t.ID, Since: since, Credentials: []ReportJSON{}, Gradebook: []SandboxGradebookDay{}}
	cs, err := a.Admin.Credentials(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		cr, err := a.CredentialReport(ctx, t.ID, c.Key, since)
		if err != nil {
			return nil, err
		}
		rep.Credentials = append(rep.Credentials, *cr)
	}
	runs, results, _, truncated, err := a.sandboxGradebook(ctx, *t)
	if err != nil {
		return nil, err
	}
	rep.Results, rep.Truncated = results, truncated
	days := map[string]*SandboxGradebookDay{}
	var order []string
	for _, r := range runs {
		day := r.Stored.UTC().Format(time.DateOnly)
		if since != "" && day < since {
			continue
		}
		d := days[day]
		if d == nil {
			d = &SandboxGradebookDay{Day: day, ResultExamples: []SandboxMapping{}, NoResult: []SandboxSkipped{}}
			days[day] = d
			order = append(order, day)
		}
		if r.Result != nil {
			d.Results++
			if len(d.ResultExamples) < maxSandboxExamples {
				d.ResultExamples = append(d.ResultExamples, r)
			}
			continue
		}
		i := slices.IndexFunc(d.NoResult, func(s SandboxSkipped) bool { return s.Reason == r.Reason })
		if i < 0 {
			d.NoResult = append(d.NoResult, SandboxSkipped{Reason: r.Reason, Example: r})
			i = len(d.NoResult) - 1
		}
		d.NoResult[i].Count++
	}
	for _, day := range order {
		rep.Gradebook = append(rep.Gradebook, *days[day])
	}
	return rep, nil
}
