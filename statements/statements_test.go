package statements_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

func TestAssign(t *testing.T) {
	authority := []byte(`{"objectType":"Agent","account":{"homePage":"https://lrs.example","name":"k"}}`)
	t.Run("SetsMissingKeepsGiven", func(t *testing.T) {
		raw := []byte(`{"actor":{"mbox":"mailto:a@example.fi"}, "verb":{"id":"http://x.fi/v"},"object":{"id":"http://x.fi/o"},
			"stored":"2020-01-01T00:00:00Z","authority":{"mbox":"mailto:forged@example.fi"}}`)
		out, st, err := statements.Assign(raw, statements.Assigned{ID: "0f8e4b8c-1111-4aaa-8bbb-222233334444", Authority: authority, Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := st.ID, "0f8e4b8c-1111-4aaa-8bbb-222233334444"; got != want {
			t.Errorf("id = %q, want %q", got, want)
		}
		if st.Timestamp != "" {
			t.Errorf("timestamp = %q, want none: the store stamps it with stored", st.Timestamp)
		}
		if got, want := st.Version, "1.0.0"; got != want {
			t.Errorf("version = %q, want %q", got, want)
		}
		if st.Authority == nil || st.Authority.Account == nil || st.Authority.Account.Name != "k" {
			t.Errorf("authority = %+v, want the credential's", st.Authority)
		}
		if strings.Contains(string(out), "stored") || strings.Contains(string(out), "forged") {
			t.Errorf("received stored/authority kept: %s", out)
		}
		// Values the client sent are kept byte for byte.
		if !strings.Contains(string(out), `"actor":{"mbox":"mailto:a@example.fi"}`) {
			t.Errorf("actor not kept as sent: %s", out)
		}
	})
	t.Run("KeepsGivenIDTimestampVersion", func(t *testing.T) {
		raw := []byte(`{"id":"AAAAAAAA-1111-4aaa-8bbb-222233334444","actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},
			"object":{"id":"http://x.fi/o"},"timestamp":"2026-01-01T10:00:00+02:00","version":"1.0.3"}`)
		_, st, err := statements.Assign(raw, statements.Assigned{ID: "ignored", Authority: authority, Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if st.ID != "AAAAAAAA-1111-4aaa-8bbb-222233334444" || st.Timestamp != "2026-01-01T10:00:00+02:00" || st.Version != "1.0.3" {
			t.Errorf("given properties changed: %+v", st)
		}
	})
	t.Run("ContextActivitiesBecomeArrays", func(t *testing.T) {
		raw := []byte(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},
			"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"id":"http://x.fi/o"},
			  "context":{"contextActivities":{"parent":{"id":"http://x.fi/sp"}}}},
			"context":{"contextActivities":{"parent":{"id":"http://x.fi/p"},"other":[{"id":"http://x.fi/q"}]}}}`)
		out, _, err := statements.Assign(raw, statements.Assigned{ID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"parent":[{"id":"http://x.fi/p"}]`, `"parent":[{"id":"http://x.fi/sp"}]`, `"other":[{"id":"http://x.fi/q"}]`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s lacks %s", out, want)
			}
		}
	})
}

func TestAssign_UTC(t *testing.T) {
	raw := []byte(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},"timestamp":"2026-01-01T10:00:00.250+02:00",
		"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"id":"http://x.fi/o"},"timestamp":"2026-01-01T01:00:00-05:00"}}`)
	out, _, err := statements.Assign(raw, statements.Assigned{ID: "x", UTC: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timestamp":"2026-01-01T08:00:00.25Z"`, `"timestamp":"2026-01-01T06:00:00Z"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}
	out, _, _ = statements.Assign(raw, statements.Assigned{ID: "x"})
	if !strings.Contains(string(out), `"timestamp":"2026-01-01T10:00:00.250+02:00"`) {
		t.Errorf("without UTC the timestamp changed: %s", out)
	}
}

func TestWithStored(t *testing.T) {
	stored := time.Date(2026, 11, 22, 8, 0, 0, 5e6, time.UTC)
	for _, tc := range []struct {
		in            string
		withTimestamp bool
		want          string
	}{
		{`{"id":"x"}`, false, `{"id":"x","stored":"2026-11-22T08:00:00.005Z"}`},
		{"{}\n", false, `{"stored":"2026-11-22T08:00:00.005Z"}`},
		{`{"id":"x"}`, true, `{"id":"x","timestamp":"2026-11-22T08:00:00.005Z","stored":"2026-11-22T08:00:00.005Z"}`},
	} {
		if got := string(statements.WithStored([]byte(tc.in), stored, tc.withTimestamp)); got != tc.want {
			t.Errorf("WithStored(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func fingerprint(t *testing.T, s string) string {
	t.Helper()
	fp, err := statements.Fingerprint([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestFingerprint(t *testing.T) {
	base := `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:a@example.fi"},{"mbox":"mailto:b@example.fi"}],"mbox":"mailto:g@Example.FI"},
		"verb":{"id":"http://x.fi/v","display":{"en":"did"}},"object":{"id":"http://x.fi/o","definition":{"name":{"en":"O"}}},
		"result":{"score":{"raw":1.0},"duration":"P1DT12H36M0.12S"},"timestamp":"2026-01-01T10:00:00+02:00"}`
	same := []string{
		// Durations beyond 0.01 s, trailing and leading zeros.
		strings.Replace(base, "P1DT12H36M0.12S", "P1DT12H36M0.1237S", 1),
		strings.Replace(base, "P1DT12H36M0.12S", "P1DT12H36M0.120S", 1),
		strings.Replace(base, "P1DT12H36M0.12S", "P01DT12H036M00.12999S", 1),
		// Properties the LRS assigns.
		strings.Replace(base, `{"actor"`, `{"id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee","stored":"2026-01-01T00:00:00Z","version":"1.0.0","authority":{"mbox":"mailto:z@example.fi"},"actor"`, 1),
		// Same instant in another zone.
		strings.Replace(base, "2026-01-01T10:00:00+02:00", "2026-01-01T08:00:00Z", 1),
		// Members in another order, domain in another case.
		strings.Replace(strings.Replace(base, `{"mbox":"mailto:a@example.fi"},{"mbox":"mailto:b@example.fi"}`, `{"mbox":"mailto:b@example.fi"},{"mbox":"mailto:a@example.fi"}`, 1), "g@Example.FI", "g@example.fi", 1),
		// Verb display and activity definition are not part of the statement.
		strings.Replace(strings.Replace(base, `"display":{"en":"did"}`, `"display":{"fi":"teki"}`, 1), `"name":{"en":"O"}`, `"name":{"en":"Other"}`, 1),
		// Number serialisation.
		strings.Replace(base, `"raw":1.0`, `"raw":1`, 1),
	}
	different := []string{
		strings.Replace(base, "http://x.fi/v", "http://x.fi/w", 1),
		strings.Replace(base, `"raw":1.0`, `"raw":2`, 1),
		strings.Replace(base, "P1DT12H36M0.12S", "P1DT12H36M0.13S", 1),
		strings.Replace(base, "P1DT12H36M0.12S", "P1DT12H36M0.1S", 1),
		strings.Replace(base, "2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00Z", 1),
		strings.Replace(base, "mailto:a@example.fi", "mailto:A@example.fi", 1), // the local part is case sensitive
	}
	want := fingerprint(t, base)
	for i, s := range same {
		if got := fingerprint(t, s); got != want {
			t.Errorf("same[%d]: fingerprint differs", i)
		}
	}
	for i, s := range different {
		if got := fingerprint(t, s); got == want {
			t.Errorf("different[%d]: fingerprint equal", i)
		}
	}
}

func TestNormalizeDuration(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PT1.5S", "PT1.5S"},
		{"PT1.50S", "PT1.5S"},
		{"PT1.5049S", "PT1.5S"},
		{"PT1.00S", "PT1S"},
		{"PT0.001S", "PT0S"},
		{"P1DT12H36M0.1237S", "P1DT12H36M0.12S"},
		{"PT4H35M59.14S", "PT4H35M59.14S"},
		{"PT1H0M0S", "PT1H0M0S"},
		{"P01Y002M", "P1Y2M"},
		{"PT0.50H", "PT0.5H"},
		{"PT1,25S", "PT1.25S"},
		{"P4W", "P4W"},
		{"P3Y", "P3Y"},
		{"PT", "PT"},
		{"P", "P"},
		{"not a duration", "not a duration"},
		{"PT1.5", "PT1.5"},
		{"PTTS", "PTTS"},
		{"P1X", "P1X"},
	} {
		if got := statements.NormalizeDuration(tc.in); got != tc.want {
			t.Errorf("NormalizeDuration(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestActorKey(t *testing.T) {
	for _, tc := range []struct {
		json, want string
	}{
		{`{"mbox":"MAILTO:Anna@Example.FI"}`, "Agent|mbox|mailto:Anna@example.fi"},
		{`{"objectType":"Group","mbox_sha1sum":"ABCDEF0123456789ABCDEF0123456789ABCDEF01"}`, "Group|mbox_sha1sum|abcdef0123456789abcdef0123456789abcdef01"},
		{`{"openid":"http://id.example.fi/anna"}`, "Agent|openid|http://id.example.fi/anna"},
		{`{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"8b2f"}}`, "Agent|account|https://mpass-proxy.csc.fi|8b2f"},
		{`{"objectType":"Group","member":[{"mbox":"mailto:a@example.fi"}]}`, ""},
	} {
		var a statements.Actor
		if err := json.Unmarshal([]byte(tc.json), &a); err != nil {
			t.Fatal(err)
		}
		if got := a.Key(); got != tc.want {
			t.Errorf("Key(%s) = %q, want %q", tc.json, got, tc.want)
		}
	}
	if _, err := statements.AgentKey([]byte(`{"name":"nobody"}`)); statements.ErrorCode(err) != statements.EInvalid {
		t.Errorf("AgentKey without IFI: err = %v, want invalid", err)
	}
}

func TestFilterTermsMatchStatementTerms(t *testing.T) {
	raw := `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:m@example.fi"}],"account":{"homePage":"https://h.fi","name":"g"}},
		"verb":{"id":"http://x.fi/v"},"object":{"id":"http://x.fi/o"},
		"authority":{"mbox":"mailto:auth@example.fi"},
		"context":{"registration":"AAAAAAAA-1111-4aaa-8bbb-222233334444","instructor":{"mbox":"mailto:i@example.fi"},
		  "contextActivities":{"parent":{"id":"http://x.fi/p"}},
		  "contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:ca@example.fi"}}]}}`
	var st statements.Statement
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	terms := map[string]bool{}
	for _, x := range st.Terms() {
		terms[x] = true
	}
	agent := func(mbox string) string { return "Agent|mbox|mailto:" + mbox }
	for _, tc := range []struct {
		name  string
		f     statements.Filter
		match bool
	}{
		{"group by IFI", statements.Filter{Agent: "Group|account|https://h.fi|g"}, true},
		{"group member", statements.Filter{Agent: agent("m@example.fi")}, true},
		{"instructor needs related", statements.Filter{Agent: agent("i@example.fi")}, false},
		{"instructor related", statements.Filter{Agent: agent("i@example.fi"), RelatedAgents: true}, true},
		{"authority related", statements.Filter{Agent: agent("auth@example.fi"), RelatedAgents: true}, true},
		{"context agent related", statements.Filter{Agent: agent("ca@example.fi"), RelatedAgents: true}, true},
		{"verb", statements.Filter{Verb: "http://x.fi/v"}, true},
		{"activity", statements.Filter{Activity: "http://x.fi/o"}, true},
		{"parent needs related", statements.Filter{Activity: "http://x.fi/p"}, false},
		{"parent related", statements.Filter{Activity: "http://x.fi/p", RelatedActivities: true}, true},
		{"registration", statements.Filter{Registration: "aaaaaaaa-1111-4aaa-8bbb-222233334444"}, true},
		{"combined", statements.Filter{Verb: "http://x.fi/v", Activity: "http://x.fi/o", Agent: agent("m@example.fi")}, true},
		{"combined miss", statements.Filter{Verb: "http://x.fi/other", Activity: "http://x.fi/o"}, false},
	} {
		all := true
		for _, x := range tc.f.Terms() {
			all = all && terms[x]
		}
		if all != tc.match {
			t.Errorf("%s: match = %v, want %v (terms %v)", tc.name, all, tc.match, st.Terms())
		}
	}
}

func TestFormat(t *testing.T) {
	stmt := []byte(`{"id":"x","actor":{"objectType":"Group","name":"Team","member":[{"name":"A","mbox":"mailto:a@example.fi"}]},
		"verb":{"id":"http://x.fi/v","display":{"en-US":"did","fi-FI":"teki"}},
		"object":{"id":"http://x.fi/o","definition":{"name":{"en-US":"O","fi-FI":"Ö"},"description":{"en-US":"d"}}},
		"context":{"instructor":{"name":"I","mbox":"mailto:i@example.fi"},"contextActivities":{"parent":[{"id":"http://x.fi/p","definition":{"name":{"en":"P"}}}]}}}`)
	t.Run("IDs", func(t *testing.T) {
		out, err := statements.Format(stmt, statements.FormatIDs, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		json.Unmarshal(out, &got)
		want := map[string]any{
			"id":      "x",
			"actor":   map[string]any{"objectType": "Group", "member": []any{map[string]any{"mbox": "mailto:a@example.fi"}}},
			"verb":    map[string]any{"id": "http://x.fi/v"},
			"object":  map[string]any{"id": "http://x.fi/o"},
			"context": map[string]any{"instructor": map[string]any{"mbox": "mailto:i@example.fi"}, "contextActivities": map[string]any{"parent": []any{map[string]any{"id": "http://x.fi/p"}}}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ids format:\n got %s\nwant %v", out, want)
		}
	})
	t.Run("IDsActivityObjectType", func(t *testing.T) {
		// An Activity is its id alone, also when objectType was sent, at
		// the top level and inside a SubStatement.
		stmt := []byte(`{"id":"x","actor":{"objectType":"Agent","mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},
			"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:b@example.fi"},"verb":{"id":"http://x.fi/w"},
				"object":{"objectType":"Activity","id":"http://x.fi/inner","definition":{"name":{"en":"I"}}}},
			"context":{"contextActivities":{"grouping":[{"objectType":"Activity","id":"http://x.fi/g"}]}}}`)
		top := []byte(`{"id":"y","actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://x.fi/v"},"object":{"objectType":"Activity","id":"http://x.fi/o"}}`)
		for _, tc := range []struct {
			stmt []byte
			want []string
		}{
			{stmt, []string{`"object":{"id":"http://x.fi/inner"}`, `"grouping":[{"id":"http://x.fi/g"}]`, `"objectType":"SubStatement"`, `"actor":{"mbox":"mailto:a@example.fi","objectType":"Agent"}`}},
			{top, []string{`"object":{"id":"http://x.fi/o"}`}},
		} {
			out, err := statements.Format(tc.stmt, statements.FormatIDs, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("ids format %s lacks %s", out, want)
				}
			}
		}
	})
	t.Run("Canonical", func(t *testing.T) {
		out, err := statements.Format(stmt, statements.FormatCanonical, statements.ParseAcceptLanguage("fi;q=0.9, de;q=1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"display":{"fi-FI":"teki"}`, `"name":{"fi-FI":"Ö"}`, `"description":{"en-US":"d"}`, `"name":"A"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("canonical %s lacks %s", out, want)
			}
		}
	})
	t.Run("Exact", func(t *testing.T) {
		out, _ := statements.Format(stmt, statements.FormatExact, nil)
		if string(out) != string(stmt) {
			t.Error("exact format changed the statement")
		}
	})
}

func TestBestLanguage(t *testing.T) {
	tags := []string{"en-US", "fi-FI", "sv"}
	for _, tc := range []struct {
		accept, want string
	}{
		{"fi-FI", "fi-FI"},
		{"fi", "fi-FI"},
		{"sv-FI", "sv"},
		{"de, sv;q=0.5", "sv"},
		{"fi;q=0.1, en;q=0.9", "en-US"},
		{"de", "en-US"},
		{"", "en-US"},
		{"*", "en-US"},
	} {
		if got := statements.BestLanguage(append([]string(nil), tags...), statements.ParseAcceptLanguage(tc.accept)); got != tc.want {
			t.Errorf("Accept-Language %q: got %q, want %q", tc.accept, got, tc.want)
		}
	}
}

func BenchmarkRecordParts(b *testing.B) {
	raw, err := os.ReadFile("../validation/testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	authority := []byte(`{"objectType":"Agent","account":{"homePage":"https://lrs.example","name":"k"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := statements.Fingerprint(raw); err != nil {
			b.Fatal(err)
		}
		_, st, err := statements.Assign(raw, statements.Assigned{ID: "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", Authority: authority, Version: "1.0.0"})
		if err != nil {
			b.Fatal(err)
		}
		st.Terms()
	}
}
