package kafkasink_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/digione/lrs/forwarders/kafkasink"
	"github.com/digione/lrs/statements"
)

// targets is a Targets over a map of tenant/id.
type targets map[string]*statements.Record

func (m targets) Statement(_ context.Context, tenant, id string, voided bool) (*statements.Record, error) {
	r, ok := m[tenant+"/"+id]
	if !ok || r.Voided != voided {
		return nil, statements.Errorf(statements.ENotFound, "no statement %s", id)
	}
	return r, nil
}

func record(id, actor string, pos int64, voids string) *statements.Record {
	obj := `{"id":"https://example.org/a"}`
	if voids != "" {
		obj = fmt.Sprintf(`{"objectType":"StatementRef","id":%q}`, voids)
	}
	return &statements.Record{ID: id, Position: pos, Voids: voids,
		Stored:    time.Date(2026, 3, 1, 8, 0, 0, int(pos)*int(time.Millisecond), time.UTC),
		Statement: fmt.Appendf(nil, `{"id":%q,"actor":%s,"verb":{"id":"https://example.org/v"},"object":%s}`, id, actor, obj)}
}

func agent(name string) string {
	return fmt.Sprintf(`{"account":{"homePage":"https://mpass-proxy.csc.fi","name":%q}}`, name)
}

// TestSink_Contract publishes statements of two learners of two tenants and
// a voiding statement to a Kafka-wire broker, and reads them back: headers,
// value, keys (a learner's key per tenant; a void keyed like its target) and
// the order of each key.
func TestSink_Contract(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(4, "lrs.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ann1 := record("00000000-0000-4000-8000-000000000001", agent("ann"), 1, "")
	voided := *ann1
	voided.Voided = true
	tg := targets{"espoo/" + ann1.ID: &voided}
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), Topic: "lrs.test", Targets: tg, Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if got, want := sink.Name(), "kafka:lrs.test"; got != want {
		t.Errorf("Name: %q, want %q", got, want)
	}

	var entries []statements.LogEntry
	entries = append(entries, statements.LogEntry{Tenant: "espoo", Record: ann1})
	for i := range 30 {
		tenant, who := "espoo", "ann"
		if i%3 == 1 {
			who = "bob"
		}
		if i%3 == 2 {
			tenant = "vantaa"
		}
		entries = append(entries, statements.LogEntry{Tenant: tenant,
			Record: record(fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+i), agent(who), int64(2+i), "")})
	}
	void := record("00000000-0000-4000-8000-000000000999", agent("teacher"), 40, ann1.ID)
	entries = append(entries, statements.LogEntry{Tenant: "espoo", Record: void})
	if err := sink.Send(t.Context(), entries); err != nil {
		t.Fatalf("Send: %v", err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("lrs.test"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for len(recs) < len(entries) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) != len(entries) {
		t.Fatalf("%d messages, want %d", len(recs), len(entries))
	}
	byID := map[string]*kgo.Record{}
	lastPos := map[string]int64{} // key -> position of its last message
	for _, r := range recs {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		byID[h["ce_id"]] = r
		var e statements.LogEntry
		for _, x := range entries {
			if x.Record.ID == h["ce_id"] {
				e = x
			}
		}
		if e.Record == nil {
			t.Fatalf("message with unknown ce_id %q", h["ce_id"])
		}
		want := map[string]string{"ce_specversion": "1.0", "ce_source": e.Tenant, "ce_type": kafkasink.Type,
			"ce_time": statements.FormatTime(e.Record.Stored), "content-type": "application/json"}
		if e.Record.Voids != "" {
			want["ce_xapivoids"] = e.Record.Voids
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("%s: header %s = %q, want %q", e.Record.ID, k, h[k], v)
			}
		}
		if len(h) != len(want)+1 {
			t.Errorf("%s: headers %v", e.Record.ID, h)
		}
		if string(r.Value) != string(e.Record.JSON()) {
			t.Errorf("%s: value %s, want %s", e.Record.ID, r.Value, e.Record.JSON())
		}
		// Messages of one key come in position order (they share a partition).
		if p, ok := lastPos[string(r.Key)]; ok && p > e.Record.Position && e.Record.Voids == "" {
			t.Errorf("key %s: position %d after %d", r.Key, e.Record.Position, p)
		}
		lastPos[string(r.Key)] = e.Record.Position
	}

	annKey := kafkasink.Key("espoo", "Agent|account|https://mpass-proxy.csc.fi|ann")
	if got := string(byID[ann1.ID].Key); got != annKey {
		t.Errorf("ann's key %s, want %s", got, annKey)
	}
	if got := string(byID[void.ID].Key); got != annKey {
		t.Errorf("the voiding statement's key %s, want its target's %s", got, annKey)
	}
	if byID[void.ID].Partition != byID[ann1.ID].Partition {
		t.Errorf("the voiding statement is in partition %d, its target in %d", byID[void.ID].Partition, byID[ann1.ID].Partition)
	}
	if got, other := annKey, kafkasink.Key("vantaa", "Agent|account|https://mpass-proxy.csc.fi|ann"); got == other {
		t.Error("one learner id in two tenants has one key")
	}
}

// TestSink_TooLarge: a statement too large for one message arrives as a
// reference to read from the LRS, and the statements after it follow.
func TestSink_TooLarge(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(1, "lrs.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), Topic: "lrs.test", BatchBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	big := record("00000000-0000-4000-8000-000000000001", agent("ann"), 1, "")
	big.Statement = []byte(strings.Replace(string(big.Statement), `"verb"`,
		`"result":{"response":"`+strings.Repeat("x", 16<<10)+`"},"verb"`, 1))
	small := record("00000000-0000-4000-8000-000000000002", agent("ann"), 2, "")
	if err := sink.Send(t.Context(), []statements.LogEntry{{Tenant: "espoo", Record: big}, {Tenant: "espoo", Record: small}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("lrs.test"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for len(recs) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	if len(recs) != 2 {
		t.Fatalf("%d messages, want 2", len(recs))
	}
	truncated := func(r *kgo.Record) bool {
		for _, h := range r.Headers {
			if h.Key == "ce_xapitruncated" {
				return string(h.Value) == "true"
			}
		}
		return false
	}
	want := fmt.Sprintf(`{"id":%q,"stored":%q}`, big.ID, statements.FormatTime(big.Stored))
	if got := string(recs[0].Value); got != want || !truncated(recs[0]) {
		t.Errorf("large statement: value %s (truncated %v), want %s with ce_xapitruncated", got, truncated(recs[0]), want)
	}
	if got := string(recs[1].Value); got != string(small.JSON()) || truncated(recs[1]) {
		t.Errorf("small statement: value %s (truncated %v), want it whole", got, truncated(recs[1]))
	}
}

// TestNew_Errors: bad options are refused.
func TestNew_Errors(t *testing.T) {
	for _, cfg := range []kafkasink.Config{
		{},
		{Brokers: []string{"x:9092"}, Compression: "brotli"},
		{Brokers: []string{"x:9092"}, SASLMechanism: "GSSAPI"},
		{Brokers: []string{"x:9092"}, Topic: "a", TopicTemplate: "a.{tenant}"},
		{Brokers: []string{"x:9092"}, TopicTemplate: "a/{tenant}"},
	} {
		if _, err := kafkasink.New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
	for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "scram-sha-512"} {
		s, err := kafkasink.New(kafkasink.Config{Brokers: []string{"x:9092"}, SASLMechanism: m, SASLUser: "u", SASLPassword: "p"})
		if err != nil {
			t.Errorf("SASL %s: %v", m, err)
			continue
		}
		s.Close()
	}
}

// consume reads the messages of topic from the start: n of them (fewer
// after 10 s), and then any more that come within half a second.
func consume(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for len(recs) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	more, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	for more.Err() == nil {
		cl.PollFetches(more).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestSink_TopicPerTenant publishes the statements of two tenants with a
// topic template: each tenant's topic holds its own statements and no
// other's, each key in the order of the log, with the usual key and
// headers.
func TestSink_TopicPerTenant(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(3, "lrs.espoo", "lrs.vantaa"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), TopicTemplate: "lrs.{tenant}"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if got, want := sink.Name(), "kafka:lrs.{tenant}"; got != want {
		t.Errorf("Name: %q, want %q", got, want)
	}
	if got, want := sink.Topic("espoo"), "lrs.espoo"; got != want {
		t.Errorf("Topic(espoo): %q, want %q", got, want)
	}

	var entries []statements.LogEntry
	want := map[string][]string{} // tenant -> ids in order
	for i := range 40 {
		tenant, who := "espoo", []string{"ann", "bob"}[i%2]
		if i%3 == 0 {
			tenant = "vantaa"
		}
		r := record(fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+i), agent(who), int64(1+i), "")
		entries = append(entries, statements.LogEntry{Tenant: tenant, Record: r})
		want[tenant] = append(want[tenant], r.ID)
	}
	// Two sends, so that a topic gets messages of both.
	if err := sink.Send(t.Context(), entries[:25]); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := sink.Send(t.Context(), entries[25:]); err != nil {
		t.Fatalf("Send: %v", err)
	}

	for _, tenant := range []string{"espoo", "vantaa"} {
		recs := consume(t, c.ListenAddrs(), "lrs."+tenant, len(want[tenant]))
		if got, want := len(recs), len(want[tenant]); got != want {
			t.Fatalf("topic lrs.%s: %d messages, want %d", tenant, got, want)
		}
		pos := map[string]int{} // id -> index in want
		for i, id := range want[tenant] {
			pos[id] = i
		}
		last := map[string]int{} // key -> index of its last message
		for _, r := range recs {
			id := header(r, "ce_id")
			i, ok := pos[id]
			if !ok {
				t.Fatalf("topic lrs.%s holds %s, not a statement of %s", tenant, id, tenant)
			}
			if got := header(r, "ce_source"); got != tenant {
				t.Errorf("topic lrs.%s: %s has ce_source %q", tenant, id, got)
			}
			var e statements.LogEntry
			for _, x := range entries {
				if x.Record.ID == id {
					e = x
				}
			}
			if got, want := string(r.Value), string(e.Record.JSON()); got != want {
				t.Errorf("%s: value %s, want %s", id, got, want)
			}
			who := "ann"
			if strings.Contains(string(e.Record.Statement), `"bob"`) {
				who = "bob"
			}
			if got, want := string(r.Key), kafkasink.Key(tenant, "Agent|account|https://mpass-proxy.csc.fi|"+who); got != want {
				t.Errorf("%s: key %s, want %s", id, got, want)
			}
			if j, ok := last[string(r.Key)]; ok && j > i {
				t.Errorf("topic lrs.%s: %s after a later statement of its key", tenant, id)
			}
			last[string(r.Key)] = i
		}
	}
}

// TestSink_MissingTopic: without auto-creation, a statement of a tenant
// whose topic is missing fails the send and nothing of it is written;
// once the topic exists, the same send delivers every statement once.
func TestSink_MissingTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.SeedTopics(1, "lrs.espoo"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), TopicTemplate: "lrs.{tenant}"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	entries := []statements.LogEntry{
		{Tenant: "espoo", Record: record("00000000-0000-4000-8000-000000000001", agent("ann"), 1, "")},
		{Tenant: "vantaa", Record: record("00000000-0000-4000-8000-000000000002", agent("ann"), 2, "")},
		{Tenant: "espoo", Record: record("00000000-0000-4000-8000-000000000003", agent("ann"), 3, "")},
	}
	err = sink.Send(t.Context(), entries)
	if err == nil || !strings.Contains(err.Error(), "lrs.vantaa") {
		t.Fatalf("Send with lrs.vantaa missing: %v, want an error naming lrs.vantaa", err)
	}
	if recs := consume(t, c.ListenAddrs(), "lrs.espoo", 0); len(recs) != 0 {
		t.Errorf("topic lrs.espoo: %d messages after the failed send, want 0", len(recs))
	}

	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "lrs.vantaa", 1, 1
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(t.Context(), adm); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for err = sink.Send(ctx, entries); err != nil && ctx.Err() == nil; err = sink.Send(ctx, entries) {
		time.Sleep(100 * time.Millisecond) // the relay's retry, quicker
	}
	if err != nil {
		t.Fatalf("Send after creating lrs.vantaa: %v", err)
	}
	for tenant, n := range map[string]int{"espoo": 2, "vantaa": 1} {
		if recs := consume(t, c.ListenAddrs(), "lrs."+tenant, n); len(recs) != n {
			t.Errorf("topic lrs.%s: %d messages, want %d", tenant, len(recs), n)
		}
	}
}

// TestCheckTopicTemplate: a template renders a legal topic name for every
// tenant id, or is refused.
func TestCheckTopicTemplate(t *testing.T) {
	for _, tt := range []struct {
		template string
		ok       bool
	}{
		{"xapi.statements.{tenant}", true},
		{"{tenant}", true},
		{"lrs-{tenant}_statements", true},
		{"LRS.{tenant}.v1", true},
		{strings.Repeat("x", 249-63) + "{tenant}", true},
		{strings.Repeat("x", 249-62) + "{tenant}", false},
		{"xapi.statements", false},
		{"", false},
		{"{tenant}.{tenant}", false},
		{"xapi/statements/{tenant}", false},
		{"xapi statements {tenant}", false},
		{"xapi.{TENANT}", false},
		{"xapi.{tenant}.ä", false},
		{"xapi.{tenant", false},
	} {
		err := kafkasink.CheckTopicTemplate(tt.template)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTopicTemplate(%q): %v, want ok %v", tt.template, err, tt.ok)
		}
	}
}

// TestSink_TopicPerTenantAutoCreate: with AllowAutoTopicCreation and a
// broker that allows it, a tenant's topic is created on first use.
func TestSink_TopicPerTenantAutoCreate(t *testing.T) {
	c, err := kfake.NewCluster(kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sink, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), TopicTemplate: "lrs.{tenant}", AllowAutoTopicCreation: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	e := statements.LogEntry{Tenant: "oulu", Record: record("00000000-0000-4000-8000-000000000001", agent("ann"), 1, "")}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for err = sink.Send(ctx, []statements.LogEntry{e}); err != nil && ctx.Err() == nil; err = sink.Send(ctx, []statements.LogEntry{e}) {
		time.Sleep(100 * time.Millisecond) // the topic is being created
	}
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if recs := consume(t, c.ListenAddrs(), "lrs.oulu", 1); len(recs) != 1 || header(recs[0], "ce_id") != e.Record.ID {
		t.Errorf("topic lrs.oulu: %d messages, want the one sent", len(recs))
	}
}
