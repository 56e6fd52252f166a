package oneroster_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/statements"
)

const base = "https://gb.example/ims/oneroster/gradebook/v1p2"

// entry returns a log entry of tenant "t1" with a statement of verb by the
// student "s-1", in line item "li-1" and class "c-1", with result res and
// the timestamp 2026-03-01T10:00:00+02:00; edit changes the statement.
func entry(tb testing.TB, pos int64, verb, res string, edit func(map[string]any)) statements.LogEntry {
	tb.Helper()
	st := map[string]any{
		"id":     "6a1c0f4e-0000-4000-8000-00000000000" + string(rune('0'+pos%10)),
		"actor":  map[string]any{"account": map[string]any{"homePage": "https://mpass-proxy.csc.fi", "name": "s-1"}},
		"verb":   map[string]any{"id": verb},
		"object": map[string]any{"id": "https://example.org/course/1"},
		"context": map[string]any{"extensions": map[string]any{
			oneroster.ExtLineItem: "li-1", oneroster.ExtClass: "c-1",
		}},
		"timestamp": "2026-03-01T10:00:00+02:00",
	}
	if res != "" {
		st["result"] = json.RawMessage(res)
	}
	if edit != nil {
		edit(st)
	}
	b, err := json.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	return statements.LogEntry{Tenant: "t1", Record: &statements.Record{
		ID: st["id"].(string), Statement: b, Position: pos,
		Stored: time.Date(2026, 3, 1, 9, 0, 1, 0, time.UTC),
	}}
}

func TestMapper_Map(t *testing.T) {
	m := oneroster.NewMapper(base, "", nil)
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		verb, res string
		edit      func(map[string]any)
		skip      oneroster.Skip
		status    string
		score     *float64
		text      string
	}{
		{name: "PassedRaw", verb: oneroster.VerbPassed, res: `{"score":{"raw":87,"scaled":0.5}}`, status: "fully graded", score: f(87)},
		{name: "FailedScaled", verb: oneroster.VerbFailed, res: `{"score":{"scaled":0.07}}`, status: "fully graded", score: f(7)},
		{name: "ScoredRaw", verb: oneroster.VerbScored, res: `{"score":{"raw":3.5}}`, status: "fully graded", score: f(3.5)},
		{name: "CompletedNoScore", verb: oneroster.VerbCompleted, res: `{"completion":true}`, status: "submitted"},
		{name: "CompletedWithScore", verb: oneroster.VerbCompleted, res: `{"score":{"raw":10}}`, status: "fully graded", score: f(10)},
		{name: "SatisfiedNoResult", verb: oneroster.VerbSatisfied, status: "submitted"},
		{name: "PassedNoScore", verb: oneroster.VerbPassed, status: "fully graded", text: "pass"},
		{name: "FailedNoScore", verb: oneroster.VerbFailed, status: "fully graded", text: "fail"},
		{name: "SkipScoredNoScore", verb: oneroster.VerbScored, skip: oneroster.SkipScore},
		{name: "SkipVerb", verb: "http://adlnet.gov/expapi/verbs/experienced", skip: oneroster.SkipVerb},
		{name: "SkipMbox", verb: oneroster.VerbPassed, skip: oneroster.SkipStudent, edit: func(s map[string]any) {
			s["actor"] = map[string]any{"mbox": "mailto:a@example.org"}
		}},
		{name: "SkipOtherHomePage", verb: oneroster.VerbPassed, skip: oneroster.SkipStudent, edit: func(s map[string]any) {
			s["actor"] = map[string]any{"account": map[string]any{"homePage": "https://other.example", "name": "s-1"}}
		}},
		{name: "SkipNoLineItem", verb: oneroster.VerbPassed, skip: oneroster.SkipLineItem, edit: func(s map[string]any) {
			s["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtClass: "c-1"}}
		}},
		{name: "SkipNoContext", verb: oneroster.VerbPassed, skip: oneroster.SkipLineItem, edit: func(s map[string]any) {
			delete(s, "context")
		}},
		{name: "SkipLineItemNotString", verb: oneroster.VerbPassed, skip: oneroster.SkipLineItem, edit: func(s map[string]any) {
			s["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: 42}}
		}},
		{name: "SkipStatementRef", verb: oneroster.VerbPassed, skip: oneroster.SkipVoided, edit: func(s map[string]any) {
			s["object"] = map[string]any{"objectType": "StatementRef", "id": "6a1c0f4e-0000-4000-8000-000000000009"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skip := m.Map(entry(t, 1, tt.verb, tt.res, tt.edit))
			if skip != tt.skip {
				t.Fatalf("skip: got %q, want %q", skip, tt.skip)
			}
			if tt.skip != "" {
				if got != nil {
					t.Fatalf("got a result %+v for a skipped statement", got)
				}
				return
			}
			if got.ScoreStatus != tt.status {
				t.Errorf("scoreStatus: got %q, want %q", got.ScoreStatus, tt.status)
			}
			switch {
			case tt.score == nil && got.Score != nil:
				t.Errorf("score: got %v, want none", *got.Score)
			case tt.score != nil && (got.Score == nil || *got.Score != *tt.score):
				t.Errorf("score: got %v, want %v", got.Score, *tt.score)
			}
			if got.TextScore != tt.text {
				t.Errorf("textScore: got %q, want %q", got.TextScore, tt.text)
			}
		})
	}
}

func TestMapper_Map_Fields(t *testing.T) {
	m := oneroster.NewMapper(base+"/", "https://mpass-proxy.csc.fi/", nil)
	got, skip := m.Map(entry(t, 1, oneroster.VerbPassed, `{"score":{"raw":87},"response":"well done"}`, nil))
	if skip != "" {
		t.Fatalf("skip %q", skip)
	}
	want := &oneroster.Result{
		SourcedID:   oneroster.ResultID("t1", "li-1", "s-1"),
		Status:      "active",
		Metadata:    map[string]string{"xapiStatementId": "6a1c0f4e-0000-4000-8000-000000000001"},
		LineItem:    oneroster.GUIDRef{Href: base + "/lineItems/li-1", SourcedID: "li-1", Type: "lineItem"},
		Student:     oneroster.GUIDRef{Href: base + "/users/s-1", SourcedID: "s-1", Type: "user"},
		Class:       &oneroster.GUIDRef{Href: base + "/classes/c-1", SourcedID: "c-1", Type: "class"},
		ScoreStatus: "fully graded",
		ScoreDate:   "2026-03-01T08:00:00.000Z",
		Comment:     "well done",
	}
	want.Score = got.Score
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}

	t.Run("StampedTimestamp", func(t *testing.T) {
		e := entry(t, 1, oneroster.VerbCompleted, "", func(s map[string]any) { delete(s, "timestamp") })
		e.Record.StampTimestamp = true
		got, _ := m.Map(e)
		if want := "2026-03-01T09:00:01.000Z"; got.ScoreDate != want {
			t.Errorf("scoreDate: got %q, want %q", got.ScoreDate, want)
		}
	})
	t.Run("NoClass", func(t *testing.T) {
		got, _ := m.Map(entry(t, 1, oneroster.VerbCompleted, "", func(s map[string]any) {
			s["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: "li-1"}}
		}))
		if got.Class != nil {
			t.Errorf("class: got %+v, want none", got.Class)
		}
	})
	t.Run("ConfiguredVerbs", func(t *testing.T) {
		m := oneroster.NewMapper(base, "", []string{oneroster.VerbPassed})
		if _, skip := m.Map(entry(t, 1, oneroster.VerbCompleted, "", nil)); skip != oneroster.SkipVerb {
			t.Errorf("completed with only passed configured: skip %q, want %q", skip, oneroster.SkipVerb)
		}
	})
}

func TestResultID(t *testing.T) {
	a := oneroster.ResultID("t1", "li-1", "s-1")
	if got := oneroster.ResultID("t1", "li-1", "s-1"); got != a {
		t.Errorf("not deterministic: %s, %s", got, a)
	}
	// A pinned value: changing Namespace would rewrite every result.
	if want := "4ec1addd-78f1-5799-9749-d3738020ed50"; a != want {
		t.Errorf("got %s, want %s", a, want)
	}
	for _, other := range []string{
		oneroster.ResultID("t2", "li-1", "s-1"),
		oneroster.ResultID("t1", "li-2", "s-1"),
		oneroster.ResultID("t1", "li-1", "s-2"),
		oneroster.ResultID("t1", "li-1s", "-1"), // no ambiguity at the joints
	} {
		if other == a {
			t.Errorf("%s collides", other)
		}
	}
	if a[14] != '5' {
		t.Errorf("%s is not a version 5 UUID", a)
	}
}

// tableOf is a Resolver over fixed tables.
type tableOf struct {
	students   map[string]string
	activities map[string]oneroster.Target
}

func (r tableOf) Student(_ context.Context, a string) (string, bool, error) {
	id, ok := r.students[a]
	return id, ok, nil
}

func (r tableOf) Activity(_ context.Context, id string) (oneroster.Target, bool, error) {
	t, ok := r.activities[id]
	return t, ok, nil
}

func TestMapper_MapWith_Scale(t *testing.T) {
	m := oneroster.NewMapper(base, "", nil)
	scale := &oneroster.Scale{Min: 4, Max: 10} // the Finnish school scale
	r := tableOf{activities: map[string]oneroster.Target{"https://example.org/course/1": {LineItem: "li-1", Scale: scale}}}
	tests := []struct {
		name, res string
		want      float64
	}{
		{"RawOnTheScale", `{"score":{"raw":9,"min":4,"max":10,"scaled":0.2}}`, 9},
		{"Scaled", `{"score":{"scaled":0.5}}`, 7},
		{"RawOnAnotherScale", `{"score":{"raw":50,"min":0,"max":100}}`, 7},
		{"ScaledWins", `{"score":{"raw":50,"min":0,"max":100,"scaled":1}}`, 10},
		{"RawAlone", `{"score":{"raw":8}}`, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, skip, err := m.MapWith(context.Background(), entry(t, 1, oneroster.VerbPassed, tt.res, nil), r)
			if err != nil || skip != "" {
				t.Fatalf("skip %q, err %v", skip, err)
			}
			if got.Score == nil || *got.Score != tt.want {
				t.Errorf("score: got %v, want %v", got.Score, tt.want)
			}
		})
	}
	t.Run("ExtensionLineItemWithoutScale", func(t *testing.T) {
		// The extension names another line item: the mapping's scale is
		// not that line item's.
		got, _, _, _ := m.MapWith(context.Background(), entry(t, 1, oneroster.VerbPassed, `{"score":{"scaled":0.5}}`, func(s map[string]any) {
			s["context"] = map[string]any{"extensions": map[string]any{oneroster.ExtLineItem: "li-other"}}
		}), r)
		if got.Score == nil || *got.Score != 50 {
			t.Errorf("score: got %v, want 50", got.Score)
		}
	})
	t.Run("RequireStudent", func(t *testing.T) {
		m := m
		m.RequireStudent = true
		if _, _, skip, _ := m.MapWith(context.Background(), entry(t, 1, oneroster.VerbPassed, "", nil), r); skip != oneroster.SkipStudent {
			t.Errorf("unmapped student: skip %q, want %q", skip, oneroster.SkipStudent)
		}
		r := tableOf{students: map[string]string{"s-1": "u-1"}}
		got, _, _, _ := m.MapWith(context.Background(), entry(t, 1, oneroster.VerbPassed, "", nil), r)
		if got == nil || got.Student.SourcedID != "u-1" || got.SourcedID != oneroster.ResultID("t1", "li-1", "u-1") {
			t.Errorf("mapped student: %+v", got)
		}
	})
}
