package kafkasink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

// DefaultTopic is the topic of stored statements when none is configured.
const DefaultTopic = "xapi.statements"

// Type is the CloudEvents type of a stored statement, with its version.
const Type = "fi.digione.lrs.statement.stored.v1"

// Targets finds the statement a voiding statement voids; statements.Store
// is one.
type Targets interface {
	Statement(ctx context.Context, tenant, id string, voided bool) (*statements.Record, error)
}

// Config configures a Sink. Only Brokers is required.
type Config struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// Topic receives the statements; default DefaultTopic.
	Topic string
	// TopicTemplate, when set, gives each tenant a topic of its own: the
	// template with TenantPlaceholder replaced by the tenant id, e.g.
	// "xapi.statements.{tenant}" (see CheckTopicTemplate). Default none:
	// every statement goes to Topic. Setting both is an error.
	TopicTemplate string
	// Name names the sink's cursor in the store; default "kafka:" + Topic,
	// or "kafka:" + TopicTemplate. A new name starts from the beginning of
	// the log.
	Name string
	// Targets finds the statements voiding statements void, for their
	// key. Without it (nil), a voiding statement is keyed by its own actor.
	Targets Targets
	// Compression is "none", "gzip", "snappy", "lz4" or "zstd"; default
	// "lz4".
	Compression string
	// TLS enables TLS with this configuration; default none (plain TCP).
	TLS *tls.Config
	// SASLMechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512" with
	// SASLUser and SASLPassword; default none.
	SASLMechanism, SASLUser, SASLPassword string
	// BatchBytes bounds the bytes of one produce request per partition;
	// default 1 MiB (Kafka's default message.max.bytes). A statement whose
	// message would take more than half of it is sent as a reference
	// (header ce_xapitruncated, value {"id","stored"}): the consumer reads
	// it from the LRS by id.
	BatchBytes int64
	// Linger is how long a partly filled batch waits for more messages;
	// default 1 ms (the relay hands over whole batches anyway).
	Linger time.Duration
	// WriteTimeout bounds one produce request; default 10 s.
	WriteTimeout time.Duration
	// AllowAutoTopicCreation lets the broker create Topic, or a tenant's
	// topic, on first use (when the broker allows it); default false: the
	// topics must exist.
	AllowAutoTopicCreation bool
}

// Sink publishes statements to Kafka; it is a forwarders.Sink.
type Sink struct {
	name       string
	topic      string // the one topic; "" with a template
	template   string // the topic of each tenant; "" with one topic
	autoCreate bool
	transport  *kafka.Transport
	targets    Targets
	batchBytes int64
	w          *kafka.Writer
}

var _ forwarders.Sink = (*Sink)(nil)

// New returns a Sink for cfg. It does not connect until the first Send.
func New(cfg Config) (*Sink, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafkasink: no brokers")
	}
	if cfg.TopicTemplate != "" {
		if cfg.Topic != "" {
			return nil, errors.New("kafkasink: set Topic or TopicTemplate, not both")
		}
		if err := CheckTopicTemplate(cfg.TopicTemplate); err != nil {
			return nil, fmt.Errorf("kafkasink: %w", err)
		}
	} else if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if cfg.Name == "" {
		cfg.Name = "kafka:" + cfg.Topic + cfg.TopicTemplate
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 1 << 20
	}
	if cfg.Linger <= 0 {
		cfg.Linger = time.Millisecond
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	var codec kafka.Compression
	switch strings.ToLower(cfg.Compression) {
	case "", "lz4":
		codec = kafka.Lz4
	case "none":
	case "gzip":
		codec = kafka.Gzip
	case "snappy":
		codec = kafka.Snappy
	case "zstd":
		codec = kafka.Zstd
	default:
		return nil, fmt.Errorf("kafkasink: compression %q: want none, gzip, snappy, lz4 or zstd", cfg.Compression)
	}
	var mech sasl.Mechanism
	switch m := strings.ToUpper(cfg.SASLMechanism); m {
	case "":
	case "PLAIN":
		mech = plain.Mechanism{Username: cfg.SASLUser, Password: cfg.SASLPassword}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if m == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		var err error
		if mech, err = scram.Mechanism(algo, cfg.SASLUser, cfg.SASLPassword); err != nil {
			return nil, fmt.Errorf("kafkasink: SASL: %w", err)
		}
	default:
		return nil, fmt.Errorf("kafkasink: SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", cfg.SASLMechanism)
	}
	transport := &kafka.Transport{
		ClientID:    "digione-lrs",
		DialTimeout: 5 * time.Second,
		TLS:         cfg.TLS,
		SASL:        mech,
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.Topic,                                // "" with a template: each message names its topic
		Balancer:     &kafka.Murmur2Balancer{Consistent: true}, // the Java client's partitioner
		RequiredAcks: kafka.RequireAll,
		Compression:  codec,
		// One Send call is split into chunks that fit one batch per
		// partition (see Send), so these bounds never split a chunk.
		BatchSize: maxChunk, // kafka-go allocates this many per batch

		BatchBytes:             cfg.BatchBytes,
		BatchTimeout:           cfg.Linger,
		MaxAttempts:            3,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        500 * time.Millisecond,
		ReadTimeout:            cfg.WriteTimeout,
		WriteTimeout:           cfg.WriteTimeout,
		Transport:              transport,
		AllowAutoTopicCreation: cfg.AllowAutoTopicCreation,
	}
	return &Sink{name: cfg.Name, topic: cfg.Topic, template: cfg.TopicTemplate, autoCreate: cfg.AllowAutoTopicCreation,
		transport: transport, targets: cfg.Targets, batchBytes: cfg.BatchBytes, w: w}, nil
}

// Topic returns the topic of tenant's statements.
func (s *Sink) Topic(tenant string) string {
	if s.template == "" {
		return s.topic
	}
	return strings.Replace(s.template, TenantPlaceholder, tenant, 1)
}

// Name returns the name of the sink's cursor.
func (s *Sink) Name() string { return s.name }

// Send publishes entries and returns when the brokers acknowledged all of
// them (acks=all).
//
// The entries go in chunks, one after the other, each small enough to be
// one produce batch per partition: a chunk is written whole or not at all
// on each partition, and a chunk is written only after the one before was
// acknowledged. So messages of one key land in the order of the log, even
// when a write fails half-way and the relay sends again.
//
// With a topic per tenant, Send first checks that every topic of entries
// exists (or, with AllowAutoTopicCreation, has the broker create it); while
// one is missing or refused, it writes nothing and returns an error naming
// the topic, and the relay sends the same entries again later.
func (s *Sink) Send(ctx context.Context, entries []statements.LogEntry) error {
	msgs := make([]kafka.Message, 0, len(entries))
	var topics []string
	for _, e := range entries {
		m, err := s.Message(ctx, e)
		if err != nil {
			return err
		}
		if s.template != "" {
			m.Topic = s.Topic(e.Tenant)
			if !slices.Contains(topics, m.Topic) {
				if err := checkTopicName(m.Topic); err != nil {
					return fmt.Errorf("tenant %q: %w", e.Tenant, err)
				}
				topics = append(topics, m.Topic)
			}
		}
		msgs = append(msgs, m)
	}
	if len(topics) > 0 {
		if err := s.checkTopics(ctx, topics); err != nil {
			return err
		}
	}
	limit := s.batchBytes / 2 // room for kafka-go's accounting and record overhead
	for len(msgs) > 0 {
		n, size := 0, int64(0)
		for n < len(msgs) && n < maxChunk {
			sz := messageSize(msgs[n])
			if n > 0 && size+sz > limit {
				break
			}
			size += sz
			n++
		}
		if err := s.w.WriteMessages(ctx, msgs[:n]...); err != nil {
			if s.template != "" {
				return fmt.Errorf("kafka topics %s: %w", s.template, err)
			}
			return fmt.Errorf("kafka topic %s: %w", s.topic, err)
		}
		msgs = msgs[n:]
	}
	return nil
}

// checkTopics returns an error naming the first of topics the brokers do
// not have (and do not create). The transport answers from its cached
// metadata while every topic is known.
func (s *Sink) checkTopics(ctx context.Context, topics []string) error {
	r, err := s.transport.RoundTrip(ctx, s.w.Addr, &metadata.Request{TopicNames: topics, AllowAutoTopicCreation: s.autoCreate})
	if err != nil {
		return fmt.Errorf("kafka topics %s: metadata: %w", strings.Join(topics, ","), err)
	}
	found := map[string]int16{}
	for _, t := range r.(*metadata.Response).Topics {
		if len(t.Partitions) == 0 && t.ErrorCode == 0 {
			t.ErrorCode = int16(kafka.UnknownTopicOrPartition)
		}
		found[t.Name] = t.ErrorCode
	}
	for _, topic := range topics {
		code, ok := found[topic]
		if !ok {
			code = int16(kafka.UnknownTopicOrPartition)
		}
		if code != 0 {
			return fmt.Errorf("kafka topic %s: %w", topic, kafka.Error(code))
		}
	}
	return nil
}

// maxChunk is the most messages written at once.
const maxChunk = 1000

func messageSize(m kafka.Message) int64 {
	n := len(m.Key) + len(m.Value) + 64
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value) + 8
	}
	return int64(n)
}

// Message returns the message of one stored statement, or of one
// erasure entry (see erasureMessage).
func (s *Sink) Message(ctx context.Context, e statements.LogEntry) (kafka.Message, error) {
	if e.Erasure != nil {
		return erasureMessage(e), nil
	}
	r := e.Record
	key, err := s.key(ctx, e)
	if err != nil {
		return kafka.Message{}, err
	}
	headers := []kafka.Header{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte(r.ID)},
		{Key: "ce_source", Value: []byte(e.Tenant)},
		{Key: "ce_type", Value: []byte(Type)},
		{Key: "ce_time", Value: []byte(statements.FormatTime(r.Stored))},
		{Key: "content-type", Value: []byte("application/json")},
	}
	if r.Voids != "" {
		headers = append(headers, kafka.Header{Key: "ce_xapivoids", Value: []byte(r.Voids)})
	}
	m := kafka.Message{Key: key, Value: r.JSON(), Headers: headers}
	if messageSize(m) > s.batchBytes/2 {
		// Too large for the topic: a message the broker refuses would hold
		// up every statement after it. Send where to read it instead.
		m.Value = fmt.Appendf(nil, `{"id":%q,"stored":%q}`, r.ID, statements.FormatTime(r.Stored))
		m.Headers = append(m.Headers, kafka.Header{Key: "ce_xapitruncated", Value: []byte("true")})
	}
	return m, nil
}

// key returns the message key of e: Key of its tenant and actor, or, for a
// voiding statement, of the statement it voids.
func (s *Sink) key(ctx context.Context, e statements.LogEntry) ([]byte, error) {
	r := e.Record
	if r.Voids != "" && s.targets != nil {
		t, err := s.target(ctx, e.Tenant, r.Voids)
		if err != nil {
			return nil, err
		}
		if t != nil {
			r = t
		}
	}
	var st struct {
		Actor statements.Actor `json:"actor"`
	}
	if err := json.Unmarshal(r.Statement, &st); err != nil {
		return nil, fmt.Errorf("statement %s: %w", r.ID, err)
	}
	id := st.Actor.Key()
	if id == "" {
		// An anonymous group has no identity: its statement is its own key.
		id = "statement|" + r.ID
	}
	return []byte(Key(e.Tenant, id)), nil
}

// target returns the stored statement id, voided or not; nil when it is
// not stored (yet): the voiding statement then keeps its own key.
func (s *Sink) target(ctx context.Context, tenant, id string) (*statements.Record, error) {
	for _, voided := range []bool{true, false} {
		t, err := s.targets.Statement(ctx, tenant, id, voided)
		if err == nil {
			return t, nil
		}
		if statements.ErrorCode(err) != statements.ENotFound {
			return nil, fmt.Errorf("voided statement %s: %w", id, err)
		}
	}
	return nil, nil
}

// Key returns the message key of the statements of tenant whose actor has
// the identity actorKey (statements.Actor.Key): the hex SHA-256 of both,
// so the key names no learner.
func Key(tenant, actorKey string) string { return statements.ActorHash(tenant, actorKey) }

// Close flushes and closes the writer.
func (s *Sink) Close() error { return s.w.Close() }
