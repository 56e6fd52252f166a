package lrs

import (
	"context"
	"strings"
	"testing"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// BenchmarkProfile_Ingest measures what a credential's profile mode adds
// to storing one statement: the check before the store and the record
// after it, for a DigiOne scored statement that follows the profile, one
// that breaks a rule (flagged: recorded) and one whose verb the profile
// has no template for.
func BenchmarkProfile_Ingest(b *testing.B) {
	s := New(Config{})
	const good = `{"id":"3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01","actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"8b2f7e1c-learner"}},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/scored"},
		"object":{"id":"https://app.example/quiz/1","definition":{"type":"http://adlnet.gov/expapi/activities/assessment"}},
		"result":{"score":{"raw":7,"min":0,"max":10}},
		"context":{"registration":"ec231277-b27b-4c15-8291-d29225b2b8f7","extensions":{
			"https://digione.fi/xapi/extensions/oneroster/lineitem":"li-1","https://digione.fi/xapi/extensions/oneroster/class":"class-7a"}},
		"timestamp":"2026-12-01T08:15:00+02:00"}`
	for _, bc := range []struct{ name, mode, stmt string }{
		{"off", statements.ProfileOff, good},
		{"flag/follows", statements.ProfileFlag, good},
		{"flag/breaks", statements.ProfileFlag, strings.Replace(good, `,"max":10`, ``, 1)},
		{"flag/unmatched", statements.ProfileFlag, strings.Replace(good, `verbs/scored`, `verbs/experienced`, 1)},
		{"strict/follows", statements.ProfileStrict, good},
	} {
		p, err := validation.ParseStatement(Version200, []byte(bc.stmt))
		if err != nil {
			b.Fatal(err)
		}
		raws := []validation.Parsed{p}
		recs := []*statements.Record{{ID: "3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01"}}
		cred := &statements.Credential{Key: "k", Tenant: "t", ProfileMode: bc.mode}
		ctx := context.Background()
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				flags, err := s.checkProfile(ctx, cred, raws, recs)
				if err != nil {
					b.Fatal(err)
				}
				s.recordProfile(ctx, cred, 1, flags)
			}
		})
	}
}
