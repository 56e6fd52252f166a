package kafkasink_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

// relayAll runs a Relay over store to sink until it has forwarded the
// whole log.
func relayAll(t *testing.T, store statements.Store, sink forwarders.Sink) {
	t.Helper()
	r, err := forwarders.New(forwarders.Config{Log: store, Sinks: []forwarders.Sink{sink}, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Shutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Relay.Run: %v", err)
	}
}

// TestSink_Erasure relays a learner's statements, erases the learner and
// relays again: a consumer reads the erasure event on the learner's
// partition after their last statement, keyed like them, naming the
// erased statements and nothing else about the learner.
func TestSink_Erasure(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(4, "lrs.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), Topic: "lrs.test", Targets: store})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	ann, bob := agent("ann"), agent("bob")
	var anns []string
	for i := range 12 {
		actor := ann
		if i%3 == 2 {
			actor = bob
		}
		r := storetest.Record(t, []byte(`{"actor":`+actor+`,"verb":{"id":"https://example.org/v"},"object":{"id":"https://example.org/a"}}`))
		if err := store.InsertStatements(t.Context(), "espoo", []*statements.Record{r}); err != nil {
			t.Fatal(err)
		}
		if actor == ann {
			anns = append(anns, r.ID)
		}
	}
	taught := storetest.Record(t, []byte(`{"actor":`+bob+`,"verb":{"id":"https://example.org/v"},"object":{"id":"https://example.org/a"},"context":{"instructor":`+ann+`}}`))
	if err := store.InsertStatements(t.Context(), "espoo", []*statements.Record{taught}); err != nil {
		t.Fatal(err)
	}
	relayAll(t, store, sink)

	annKey := "Agent|account|https://mpass-proxy.csc.fi|ann"
	key, err := store.ErasureKey(t.Context(), "espoo")
	if err != nil {
		t.Fatal(err)
	}
	e, err := statements.NewErasure(key, "espoo", annKey, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.EraseAgent(t.Context(), "espoo", e); err != nil {
		t.Fatal(err)
	}
	after := storetest.Record(t, []byte(`{"actor":`+bob+`,"verb":{"id":"https://example.org/v"},"object":{"id":"https://example.org/b"}}`))
	if err := store.InsertStatements(t.Context(), "espoo", []*statements.Record{after}); err != nil {
		t.Fatal(err)
	}
	relayAll(t, store, sink)

	recs := consume(t, c.ListenAddrs(), "lrs.test", 15)
	if len(recs) != 15 {
		t.Fatalf("%d messages, want 15", len(recs))
	}
	var erasure *kgo.Record
	var lastAnn *kgo.Record
	for _, r := range recs {
		switch header(r, "ce_type") {
		case kafkasink.ErasureType:
			if erasure != nil {
				t.Fatal("two erasure events")
			}
			erasure = r
		case kafkasink.Type:
			if slices.Contains(anns, header(r, "ce_id")) && (lastAnn == nil || r.Offset > lastAnn.Offset) {
				lastAnn = r
			}
		}
	}
	if erasure == nil || lastAnn == nil {
		t.Fatalf("erasure event %v, ann's last statement %v", erasure, lastAnn)
	}
	if string(erasure.Key) != kafkasink.Key("espoo", annKey) || erasure.Partition != lastAnn.Partition || erasure.Offset <= lastAnn.Offset {
		t.Errorf("erasure event: key %s partition %d offset %d; ann's last statement: key %s partition %d offset %d",
			erasure.Key, erasure.Partition, erasure.Offset, lastAnn.Key, lastAnn.Partition, lastAnn.Offset)
	}
	for k, want := range map[string]string{"ce_specversion": "1.0", "ce_source": "espoo", "content-type": "application/json"} {
		if got := header(erasure, k); got != want {
			t.Errorf("header %s: %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(header(erasure, "ce_id"), e.ID+"-") || header(erasure, "ce_time") == "" {
		t.Errorf("ce_id %q, ce_time %q", header(erasure, "ce_id"), header(erasure, "ce_time"))
	}
	var v kafkasink.Erased
	if err := json.Unmarshal(erasure.Value, &v); err != nil {
		t.Fatal(err)
	}
	slices.Sort(v.Statements)
	slices.Sort(anns)
	if !slices.Equal(v.Statements, anns) || !slices.Equal(v.Pseudonymised, []string{taught.ID}) {
		t.Errorf("value %s; want erased %v, pseudonymised %s", erasure.Value, anns, taught.ID)
	}
	if strings.Contains(string(erasure.Value), "ann") || strings.Contains(string(erasure.Value), "mpass") {
		t.Errorf("value names the learner: %s", erasure.Value)
	}
}
