package lrstest

import (
	"fmt"

	"github.com/digione/lrs/lrs"
)

// SandboxStatement is a scored statement of a sandbox learner on a
// sandbox line item, as the DigiOne profile wants it: the learner's
// MPASSid account as actor, the line item's activity, a raw score with
// min and max, the line item and class extensions and a timestamp. edit,
// when not nil, changes its JSON text, e.g. to break a rule.
func SandboxStatement(id string, learner lrs.SandboxPerson, li lrs.SandboxLineItem, raw float64, edit func(string) string) string {
	s := fmt.Sprintf(`{"id":%q,"actor":%s,"verb":{"id":"http://adlnet.gov/expapi/verbs/scored","display":{"en":"scored"}},
		"object":{"objectType":"Activity","id":%q,"definition":{"type":"http://adlnet.gov/expapi/activities/assessment"}},
		"result":{"score":{"raw":%g,"min":0,"max":%g}},
		"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":%q,"https://digione.fi/xapi/extensions/oneroster/class":%q}},
		"timestamp":"2026-12-01T08:15:00+02:00"}`, id, learner.Agent, li.Activity, raw, li.Max, li.SourcedID, li.Class)
	if edit != nil {
		s = edit(s)
	}
	return s
}
