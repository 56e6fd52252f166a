package profile

import "testing"

// BenchmarkProfile_Check measures a statement that matches no template
// (the verb index answers) and one that matches a template and follows
// its rules.
func BenchmarkProfile_Check(b *testing.B) {
	p := sports(b)
	for _, bc := range []struct{ name, stmt string }{
		{"unmatched", `{"actor": {"account": {"homePage": "https://h", "name": "1"}}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
			"object": {"id": "http://example.org/race/1"}, "timestamp": "2026-01-01T00:00:00Z"}`},
		{"matched", `{"actor": {"account": {"homePage": "https://h", "name": "1"}}, "verb": {"id": "http://example.org/profiles/sports/verbs/placed"},
			"object": {"id": "http://example.org/race/1", "definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}},
			"context": {"contextActivities": {"grouping": [{"id": "http://example.org/race", "definition": {"type": "http://example.org/profiles/sports/activitytypes/event"}}]}},
			"result": {"extensions": {"http://example.org/profiles/sports/extensions/place": {"rank": 1}}}}`},
	} {
		d := doc(b, bc.stmt)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Check(d, nil)
			}
		})
	}
}
