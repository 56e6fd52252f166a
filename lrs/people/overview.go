package people

import (
	"context"
	"encoding/json"
	"time"

	"github.com/digione/lrs/statements"
)

// The verbs an overview counts.
const (
	VerbCompleted = "http://adlnet.gov/expapi/verbs/completed"
	VerbPassed    = "http://adlnet.gov/expapi/verbs/passed"
	VerbFailed    = "http://adlnet.gov/expapi/verbs/failed"
)

// A student's status in an overview.
const (
	StatusNotStarted = "not-started"
	StatusActive     = "active"
	StatusStalled    = "stalled"
	StatusCompleted  = "completed"
)

// DefaultStalledAfter is how long without a statement makes a student
// stalled when the tenant sets nothing else.
const DefaultStalledAfter = 7 * 24 * time.Hour

// DefaultMaxPerStudent is how many statements of one student an overview
// reads at most.
const DefaultMaxPerStudent = 5000

// Row is one student of a class overview. Names come from the roster,
// now; nothing of them is kept.
type Row struct {
	SourcedID    string     `json:"sourcedId"`
	GivenName    string     `json:"givenName"`
	FamilyName   string     `json:"familyName"`
	Statements   int        `json:"statements"`
	LastActivity *time.Time `json:"lastActivity"`
	Completed    int        `json:"completed"`
	Passed       int        `json:"passed"`
	Failed       int        `json:"failed"`
	MeanScaled   *float64   `json:"meanScaled"`
	Status       string     `json:"status"`
	// Partial is true when the student has more statements in the window
	// than an overview reads (Overview.MaxPerStudent): the counts are of
	// the newest ones.
	Partial bool `json:"partial,omitempty"`
	// LineItemsDone is how many of Overview.LineItems the student has
	// completed or passed (the pages' progress; not in the API yet).
	LineItemsDone int `json:"-"`
}

// Overview says how an overview is made.
type Overview struct {
	Since time.Time // only statements stored after it; zero: all
	Now   time.Time
	// StalledAfter: a student whose last statement is older is stalled;
	// default DefaultStalledAfter.
	StalledAfter time.Duration
	// LineItems are the activities with a line item in the class: a
	// student with a completed or passed statement of each is completed.
	// None: no student is completed.
	LineItems []string
	// MaxPerStudent bounds the statements read per student; default
	// DefaultMaxPerStudent.
	MaxPerStudent int
	// Activity, when set, counts only the statements of this activity
	// (an IRI): the overview of one activity.
	Activity string
}

// Overview returns one row per student, in the order given.
func (r *Reader) Overview(ctx context.Context, tenant string, students []statements.RosterUser, o Overview) ([]Row, error) {
	if o.StalledAfter <= 0 {
		o.StalledAfter = DefaultStalledAfter
	}
	if o.MaxPerStudent <= 0 {
		o.MaxPerStudent = DefaultMaxPerStudent
	}
	rows := make([]Row, len(students))
	errs := make(chan error, len(students))
	slots := make(chan struct{}, 4)
	for i := range students {
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			errs <- r.row(ctx, tenant, &students[i], o, &rows[i])
		}()
	}
	var first error
	for range students {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return rows, nil
}

// summary is the part of a statement an overview reads.
type summary struct {
	Verb struct {
		ID string `json:"id"`
	} `json:"verb"`
	Object struct {
		ID string `json:"id"`
	} `json:"object"`
	Result *struct {
		Score *struct {
			Scaled *float64 `json:"scaled"`
		} `json:"score"`
	} `json:"result"`
}

func (r *Reader) row(ctx context.Context, tenant string, u *statements.RosterUser, o Overview, row *Row) error {
	*row = Row{SourcedID: u.SourcedID, GivenName: u.GivenName, FamilyName: u.FamilyName}
	done := map[string]bool{}
	var sum float64
	var scored int
	q := Query{Since: o.Since, Activity: o.Activity}
	for {
		p, err := r.Statements(ctx, tenant, u.SourcedID, q)
		if err != nil {
			return err
		}
		for _, rec := range p.Records {
			if row.Statements == o.MaxPerStudent {
				row.Partial = true
				break
			}
			if row.LastActivity == nil {
				t := rec.Stored
				row.LastActivity = &t
			}
			row.Statements++
			var s summary
			if json.Unmarshal(rec.Statement, &s) != nil {
				continue
			}
			switch s.Verb.ID {
			case VerbCompleted:
				row.Completed++
				done[s.Object.ID] = true
			case VerbPassed:
				row.Passed++
				done[s.Object.ID] = true
			case VerbFailed:
				row.Failed++
			}
			if s.Result != nil && s.Result.Score != nil && s.Result.Score.Scaled != nil {
				sum += *s.Result.Score.Scaled
				scored++
			}
		}
		if !p.More || row.Partial {
			break
		}
		q.Before = p.Next
	}
	if scored > 0 {
		m := sum / float64(scored)
		row.MeanScaled = &m
	}
	for _, a := range o.LineItems {
		if done[a] {
			row.LineItemsDone++
		}
	}
	row.Status = status(row, done, o)
	return nil
}

func status(row *Row, done map[string]bool, o Overview) string {
	if row.Statements == 0 {
		return StatusNotStarted
	}
	if len(o.LineItems) > 0 {
		all := true
		for _, a := range o.LineItems {
			all = all && done[a]
		}
		if all {
			return StatusCompleted
		}
	}
	if o.Now.Sub(*row.LastActivity) > o.StalledAfter {
		return StatusStalled
	}
	return StatusActive
}
