package storetest

import (
	"slices"
	"testing"

	"github.com/digione/lrs/statements"
)

// reportTests cover statements.ReportStore.
var reportTests = []test{
	{"AddOK", testReportAddOK},
	{"Isolation", testReportIsolation},
}

const tmplScored = "https://digione.fi/xapi/profiles/digione/templates/scored"

func testReportAddOK(t *testing.T, s statements.Store) {
	ctx := t.Context()
	if got, err := s.Report(ctx, "espoo", "k1", ""); err != nil || len(got) != 0 {
		t.Fatalf("Report of nothing: %+v, %v; want none", got, err)
	}
	first := []statements.ReportCount{
		{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 3},
		{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: tmplScored, Rule: 8, Count: 2, Example: "id-1"},
		{Day: "2026-12-01", Kind: statements.ReportRejected, Template: tmplScored, Rule: -1, Count: 1, Example: "id-0"},
	}
	if err := s.AddReport(ctx, "espoo", "k1", first); err != nil {
		t.Fatalf("AddReport: %v", err)
	}
	second := []statements.ReportCount{
		{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 4},
		{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: tmplScored, Rule: 8, Count: 5, Example: "id-2"},
		{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: tmplScored, Rule: 6, Count: 1, Example: "id-3"},
	}
	if err := s.AddReport(ctx, "espoo", "k1", second); err != nil {
		t.Fatalf("AddReport: %v", err)
	}
	if err := s.AddReport(ctx, "espoo", "k1", nil); err != nil {
		t.Fatalf("AddReport of nothing: %v", err)
	}
	want := []statements.ReportCount{
		{Day: "2026-12-01", Kind: statements.ReportRejected, Template: tmplScored, Rule: -1, Count: 1, Example: "id-0"},
		{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 7},
		{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: tmplScored, Rule: 6, Count: 1, Example: "id-3"},
		// A row keeps its first example.
		{Day: "2026-12-02", Kind: statements.ReportFlagged, Template: tmplScored, Rule: 8, Count: 7, Example: "id-1"},
	}
	got, err := s.Report(ctx, "espoo", "k1", "")
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Report:\n got %+v, %v\nwant %+v", got, err, want)
	}
	got, err = s.Report(ctx, "espoo", "k1", "2026-12-02")
	if err != nil || !slices.Equal(got, want[1:]) {
		t.Fatalf("Report since 2026-12-02:\n got %+v, %v\nwant %+v", got, err, want[1:])
	}
}

func testReportIsolation(t *testing.T, s statements.Store) {
	ctx := t.Context()
	row := []statements.ReportCount{{Day: "2026-12-02", Kind: statements.ReportAccepted, Count: 1}}
	for _, tk := range [][2]string{{"espoo", "k1"}, {"espoo", "k2"}, {"vantaa", "k1"}} {
		if err := s.AddReport(ctx, tk[0], tk[1], row); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range [][2]string{{"espoo", "k1"}, {"espoo", "k2"}, {"vantaa", "k1"}} {
		got, err := s.Report(ctx, tk[0], tk[1], "")
		if err != nil || len(got) != 1 || got[0].Count != 1 {
			t.Errorf("Report(%s, %s): %+v, %v; want its one row", tk[0], tk[1], got, err)
		}
	}
	if got, _ := s.Report(ctx, "helsinki", "k1", ""); len(got) != 0 {
		t.Errorf("Report of another tenant: %+v", got)
	}
}
