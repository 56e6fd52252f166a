package statements

import "context"

// Kinds of ReportCount.
const (
	ReportAccepted = "accepted" // statements the credential had stored
	ReportFlagged  = "flagged"  // stored statements that broke a profile rule
	ReportRejected = "rejected" // statements refused for breaking a profile rule
)

// ReportCount is one row of a credential's daily report: how many
// statements of one kind, on one day, broke one rule of one template
// (Template "" and Rule 0 for ReportAccepted), and one of them.
type ReportCount struct {
	Day      string // YYYY-MM-DD, UTC
	Kind     string // ReportAccepted, ReportFlagged or ReportRejected
	Template string // the profile template's id, an extra rule's name, or the xAPI rule broken
	Rule     int    // the rule's index in the template; -1 for its StatementRef requirement
	Count    int64
	Example  string // the id of one of the statements counted
}

// ReportStore keeps credentials' daily reports.
type ReportStore interface {
	// AddReport adds counts to the report of the credential key of tenant:
	// each Count is added to its row (Day, Kind, Template, Rule), which a
	// first count creates with its Example; a row keeps its first Example.
	// Each row is added atomically; a call that fails may have added some
	// of its rows.
	AddReport(ctx context.Context, tenant, key string, counts []ReportCount) error
	// Report returns the rows of the credential key of tenant of days
	// since (YYYY-MM-DD; "" for all) and after, ordered by Day, Kind,
	// Template and Rule.
	Report(ctx context.Context, tenant, key, since string) ([]ReportCount, error)
}
