package kafkasink

import (
	"encoding/json"
	"strconv"

	"github.com/segmentio/kafka-go"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// ErasureType is the CloudEvents type of an erasure event, with its
// version.
const ErasureType = "fi.digione.lrs.learner.erased.v1"

var _ forwarders.ErasureSink = (*Sink)(nil)

// ReceivesErasures marks the Sink as one that sends erasure events.
func (s *Sink) ReceivesErasures() {}

// Erased is the value of an erasure event: the ids of the statements the
// LRS deleted, and of those it kept with the learner replaced by a
// pseudonym (read them again to have the kept form). Nothing else: the
// learner is named by the message key only, the key of their statements.
type Erased struct {
	Statements    []string `json:"statements"`
	Pseudonymised []string `json:"pseudonymised"`
}

// erasureMessage returns the event of a step of an erasure: keyed like
// the learner's statements (Key of the tenant and the learner), so it
// lands on their partition after them. Its ce_id is the erasure's id and
// the entry's position, the same each time the entry is sent.
func erasureMessage(e statements.LogEntry) kafka.Message {
	x := e.Erasure
	v, _ := json.Marshal(Erased{Statements: orEmpty(x.Erased), Pseudonymised: orEmpty(x.Pseudonymised)})
	return kafka.Message{
		Key:   []byte(x.Subject),
		Value: v,
		Headers: []kafka.Header{
			{Key: "ce_specversion", Value: []byte("1.0")},
			{Key: "ce_id", Value: []byte(x.ID + "-" + strconv.FormatInt(e.Record.Position, 10))},
			{Key: "ce_source", Value: []byte(e.Tenant)},
			{Key: "ce_type", Value: []byte(ErasureType)},
			{Key: "ce_time", Value: []byte(statements.FormatTime(e.Record.Stored))},
			{Key: "content-type", Value: []byte("application/json")},
		},
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
