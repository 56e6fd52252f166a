package sqlitestore

import (
	"math"
	"strings"
	"testing"
)

// explain returns the query plan of q, one line per step.
func explain(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestQueryPlans checks that every query shape reads an index in the
// order of the result: no full scan, no sort of the result.
func TestQueryPlans(t *testing.T) {
	s, err := New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	singles := []list{{term: 1}, {term: 2}, {term: 3}, {term: 4}}
	withPairs := []list{{term: 1, other: 2}, {term: 3}, {term: 1, other: 4}, {term: 5}}
	type shape struct {
		name  string
		q     string
		args  []any
		first string // the first step: the index that drives the query
	}
	var shapes []shape
	for _, asc := range []bool{false, true} {
		for k := 0; k <= 4; k++ {
			for _, bounded := range []bool{false, true} {
				for _, pairs := range []bool{false, true} {
					since, until := int64(math.MinInt64), int64(math.MaxInt64)
					if bounded {
						since, until = 1, 2
					}
					lists := singles[:k]
					first := "SEARCH s USING INDEX statements_tenant_position (tenant=? AND position>? AND position<?)"
					if k > 0 {
						first = "SEARCH p USING PRIMARY KEY (term_id=? AND position>? AND position<?)"
					}
					if pairs {
						if k == 0 {
							continue
						}
						lists = withPairs[:k]
						first = "SEARCH p USING PRIMARY KEY (agent=? AND other=? AND position>? AND position<?)"
					}
					q, args := querySQL("t", lists, 0, math.MaxInt64, since, until, asc, 11)
					shapes = append(shapes, shape{first: first, name: strings.Join([]string{
						map[bool]string{false: "desc", true: "asc"}[asc],
						string(rune('0' + k)), map[bool]string{false: "terms", true: "lists with pairs"}[pairs],
						map[bool]string{false: "", true: "since-until"}[bounded]}, " "), q: q, args: args})
				}
			}
		}
	}
	shapes = append(shapes,
		shape{"last position at", qLastPositionAt, []any{"t", 1}, "SEARCH statements USING COVERING INDEX statements_tenant_stored"},
		shape{"statement", `SELECT ` + recordColumns + ` FROM statements s WHERE s.tenant = ? AND s.id = ?`, []any{"t", "x"}, ""},
		shape{"term", qTerm, []any{"t", "x"}, ""},
		shape{"statements at positions", bStatementsAt.sizes[2], []any{"t", 1, 2, 3, 4, 5, 6}, "SEARCH s USING INTEGER PRIMARY KEY"},
		shape{"agent documents", qAgentDocuments, []any{"t", "a", "state", "x", "", "y", 10},
			"SEARCH documents USING INDEX documents_agent (tenant=? AND agent=? AND (kind,activity_id,registration,id)>(?,?,?,?))"},
	)
	for _, q := range writerQueries {
		if strings.HasPrefix(q, "SELECT") || strings.HasPrefix(q, "UPDATE") {
			shapes = append(shapes, shape{"writer: " + q, q, make([]any, strings.Count(q, "?")), ""})
		}
	}
	for _, sh := range shapes {
		plan := explain(t, s, sh.q, sh.args...)
		joined := strings.Join(plan, "; ")
		t.Logf("%s: %s", sh.name, joined)
		if len(plan) == 0 || !strings.HasPrefix(plan[0], sh.first) {
			t.Errorf("%s: driven by %q, want %q", sh.name, joined, sh.first)
		}
		for _, step := range plan {
			// A list of VALUES (named v) is the statement's own input, not
			// a table.
			if strings.HasPrefix(step, "SCAN") && !strings.HasPrefix(step, "SCAN CONSTANT") &&
				!strings.HasSuffix(step, "-ROW VALUES CLAUSE") && step != "SCAN v" {
				t.Errorf("%s: full scan: %s", sh.name, joined)
			}
			if strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s: sorts: %s", sh.name, joined)
			}
		}
	}
}

// TestRosterQueryPlans checks that the roster's queries read indexes only:
// their cost grows with the answer, not with the tenant's roster.
func TestRosterQueryPlans(t *testing.T) {
	s, err := New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, q := range map[string]string{"RosterUser": qRosterUser, "RosterPerson": qRosterPerson, "RosterOrg": qRosterOrg,
		"RosterClass": qRosterClass, "ClassesOf": qClassesOf, "ClassMembers": qClassMembers, "SchoolClasses": qSchoolClasses,
		"OrgMembers": qOrgMembers} {
		plan := explain(t, s, q, "t", "x", "student")
		joined := strings.Join(plan, "; ")
		t.Logf("%s: %s", name, joined)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") || strings.HasSuffix(step, "(tenant=?)") {
				t.Errorf("%s: scans the tenant's roster: %s", name, joined)
			}
			if strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s: sorts: %s", name, joined)
			}
		}
	}
}
