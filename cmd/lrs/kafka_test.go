package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/digione/lrs/forwarders/kafkasink"
)

// TestMain lets a test run this test binary as the lrs command
// (LRS_TEST_MAIN=1), so that a test can kill an LRS process for real.
func TestMain(m *testing.M) {
	if os.Getenv("LRS_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "lrs:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testTopic = "xapi.statements"

// startKafka starts an in-process Kafka-wire cluster (kfake) with the topic
// in 3 partitions.
func startKafka(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.SeedTopics(3, testTopic)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// learnerStatement is a statement of learner number n, the seq-th it makes.
func learnerStatement(id string, n, seq int) []byte {
	return fmt.Appendf(nil, `{"id":%q,"actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-%d"}},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced","display":{"en-US":"experienced"}},
		"object":{"id":"https://oppimateriaali.example.fi/t/%d"}}`, id, n, seq)
}

// poster posts statements as one learner, one batch at a time.
type poster struct {
	base, key, secret string
}

// postRaw stores one statement given as JSON.
func (p poster) postRaw(stmt string) error {
	req, _ := http.NewRequest("POST", p.base+"/xapi/statements", strings.NewReader(stmt))
	req.SetBasicAuth(p.key, p.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST: %d %s", resp.StatusCode, body)
	}
	return nil
}

// post stores a batch; it returns the ids when the LRS acknowledged them.
func (p poster) post(learner, seq, n int) ([]string, error) {
	ids := make([]string, n)
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range ids {
		ids[i] = uuid.NewString()
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(learnerStatement(ids[i], learner, seq+i))
	}
	b.WriteByte(']')
	req, _ := http.NewRequest("POST", p.base+"/xapi/statements", &b)
	req.SetBasicAuth(p.key, p.secret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("POST: %d %s", resp.StatusCode, body)
	}
	return ids, nil
}

// acked collects the ids the LRS acknowledged, per learner in order.
type acked struct {
	mu     sync.Mutex
	byUser map[int][]string
	at     map[string]time.Time
}

func newAcked() *acked { return &acked{byUser: map[int][]string{}, at: map[string]time.Time{}} }

func (a *acked) add(learner int, ids []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byUser[learner] = append(a.byUser[learner], ids...)
	now := time.Now()
	for _, id := range ids {
		a.at[id] = now
	}
}

func (a *acked) all() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]bool{}
	for _, ids := range a.byUser {
		for _, id := range ids {
			out[id] = true
		}
	}
	return out
}

// clients runs learners concurrent clients, each posting batches of 1–3
// statements until stop is closed or it has posted perClient batches; a
// failed POST is not acknowledged and not retried.
func clients(p poster, got *acked, learners, perClient int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for l := range learners {
		wg.Go(func() {
			seq := 0
			for i := range perClient {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + (l+i)%3
				ids, err := p.post(l, seq, n)
				seq += n
				if err == nil {
					got.add(l, ids)
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	return &wg
}

// message is one consumed record.
type message struct {
	partition int32
	key       string
	headers   map[string]string
	value     []byte
	at        time.Time
}

// consumer reads a topic from the start.
type consumer struct {
	cl  *kgo.Client
	mu  sync.Mutex
	all []message
	ids map[string]int
}

func newConsumer(t *testing.T, brokers []string) *consumer {
	t.Helper()
	return newTopicConsumer(t, brokers, testTopic)
}

func newTopicConsumer(t *testing.T, brokers []string, topic string) *consumer {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := &consumer{cl: cl, ids: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				m := message{partition: r.Partition, key: string(r.Key), headers: map[string]string{}, value: r.Value, at: now}
				for _, h := range r.Headers {
					m.headers[h.Key] = string(h.Value)
				}
				c.mu.Lock()
				c.all = append(c.all, m)
				c.ids[m.headers["ce_id"]]++
				c.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return c
}

// waitFor waits until every id of want was consumed.
func (c *consumer) waitFor(t *testing.T, want map[string]bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		missing := 0
		for id := range want {
			if c.ids[id] == 0 {
				missing++
			}
		}
		c.mu.Unlock()
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged statements never reached the topic", missing, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *consumer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.all)
}

// checkOrder checks that each learner's statements appear, in their
// partition and by first appearance, in the order the LRS acknowledged them.
func (c *consumer) checkOrder(t *testing.T, got *acked) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	first := map[string]int{} // id -> index of its first appearance
	for i, m := range c.all {
		if _, ok := first[m.headers["ce_id"]]; !ok {
			first[m.headers["ce_id"]] = i
		}
	}
	for l, ids := range got.byUser {
		prev, key := -1, ""
		for _, id := range ids {
			i := first[id]
			if i < prev {
				t.Errorf("learner %d: statement %s arrived before the one stored before it", l, id)
				return
			}
			if key == "" {
				key = c.all[i].key
			} else if c.all[i].key != key {
				t.Errorf("learner %d: keys %s and %s", l, key, c.all[i].key)
			}
			prev = i
		}
	}
}

// stores are the stores the Kafka tests run on.
var stores = []string{"sqlite", "mongo"}

// eachStore runs test on each store.
func eachStore(t *testing.T, test func(t *testing.T, store string)) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) { test(t, store) })
	}
}

// storeArgs returns the flags of an lrs serve on a fresh, empty store of
// kind store: a data directory, or a database of the test MongoDB server.
func storeArgs(t *testing.T, store string) []string {
	t.Helper()
	if store == "mongo" {
		return []string{"--store", "mongo", "--mongo-uri", testMongoURI(t),
			"--mongo-database", fmt.Sprintf("lrs_kafka_%d_%d", os.Getpid(), time.Now().UnixNano()), "--mongo-lease", "2s"}
	}
	return []string{"--data-dir", t.TempDir()}
}

func kafkaApp(t *testing.T, c *kfake.Cluster, store string) (runningApp, poster) {
	t.Helper()
	cfg, err := parseServeConfig(append(storeArgs(t, store), "--addr", "127.0.0.1:0", "--log-level", "disabled",
		"--kafka-brokers", strings.Join(c.ListenAddrs(), ",")),
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	return a, poster{base: "http://" + a.Addr(), key: "k", secret: "s3cret-s3cret"}
}

// TestKafka_TopicPerTenant: with --kafka-topic-template, lrs serve
// publishes each tenant's statements to its own topic. While a tenant's
// topic is missing (no auto-creation) the relay retries and the store keeps
// the statements; once the topic is created, every statement arrives, each
// topic holding only its tenant's, each learner's in the order stored.
func TestKafka_TopicPerTenant(t *testing.T) {
	const template = "xapi.statements.{tenant}"
	c := startKafka(t, kfake.SeedTopics(3, "xapi.statements.espoo"))
	dir := t.TempDir()
	posters := map[string]poster{}
	for _, tenant := range []string{"espoo", "vantaa"} {
		mustCLI(t, dir, nil, "tenant", "create", tenant)
		var cred struct{ Key, Secret string }
		if err := json.Unmarshal([]byte(mustCLI(t, dir, nil, "credential", "create", "--tenant", tenant, "--scopes", "all", "--json")), &cred); err != nil {
			t.Fatal(err)
		}
		posters[tenant] = poster{key: cred.Key, secret: cred.Secret}
	}
	cfg, err := parseServeConfig([]string{"--data-dir", dir, "--addr", "127.0.0.1:0", "--log-level", "disabled",
		"--kafka-brokers", strings.Join(c.ListenAddrs(), ",")},
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret", "LRS_KAFKA_TOPIC_TEMPLATE": template}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	cons := map[string]*consumer{}
	got := map[string]*acked{}
	for tenant, p := range posters {
		p.base = "http://" + a.Addr()
		posters[tenant] = p
		cons[tenant] = newTopicConsumer(t, c.ListenAddrs(), "xapi.statements."+tenant)
		got[tenant] = newAcked()
	}
	// Both tenants post, learner numbers overlapping; vantaa's topic is
	// missing.
	for round := range 3 {
		for _, tenant := range []string{"espoo", "vantaa"} {
			for l := range 3 {
				ids, err := posters[tenant].post(l, round*5, 5)
				if err != nil {
					t.Fatal(err)
				}
				got[tenant].add(l, ids)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond) // the relay tries and fails meanwhile
	if st := a.relay.Stats()[0]; st.LastError == "" || !strings.Contains(st.LastError, "xapi.statements.vantaa") {
		t.Errorf("with xapi.statements.vantaa missing, the sink's last error is %q", st.LastError)
	}
	if n := cons["vantaa"].count(); n != 0 {
		t.Fatalf("%d messages on a topic that does not exist", n)
	}

	adm, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "xapi.statements.vantaa", 3, 1
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(t.Context(), adm); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	for _, tenant := range []string{"espoo", "vantaa"} {
		want := got[tenant].all()
		cons[tenant].waitFor(t, want, 30*time.Second)
	}
	time.Sleep(200 * time.Millisecond) // anything extra would be here by now
	for _, tenant := range []string{"espoo", "vantaa"} {
		want := got[tenant].all()
		cons[tenant].mu.Lock()
		for _, m := range cons[tenant].all {
			if !want[m.headers["ce_id"]] || m.headers["ce_source"] != tenant {
				t.Errorf("topic xapi.statements.%s holds %s of %q", tenant, m.headers["ce_id"], m.headers["ce_source"])
			}
		}
		cons[tenant].mu.Unlock()
		cons[tenant].checkOrder(t, got[tenant])
	}
}

// TestKafka_ConcurrentClients: N statements posted by concurrent clients
// reach the topic, exactly once each with no failure, each learner's in the
// order stored and under one key, with the CloudEvents headers.
func TestKafka_ConcurrentClients(t *testing.T) { eachStore(t, testKafkaConcurrentClients) }

func testKafkaConcurrentClients(t *testing.T, store string) {
	c := startKafka(t)
	a, p := kafkaApp(t, c, store)
	cons := newConsumer(t, c.ListenAddrs())
	got := newAcked()
	clients(p, got, 12, 20, nil).Wait()
	want := got.all()
	cons.waitFor(t, want, 15*time.Second)
	time.Sleep(100 * time.Millisecond) // anything extra would be here by now
	if n := cons.count(); n != len(want) {
		t.Errorf("%d messages for %d statements, want exactly one each", n, len(want))
	}
	for id, n := range cons.ids {
		if !want[id] {
			t.Errorf("message %s was never acknowledged", id)
		}
		_ = n
	}
	cons.checkOrder(t, got)

	m := cons.all[0]
	for h, want := range map[string]string{"ce_specversion": "1.0", "ce_source": "default",
		"ce_type": kafkasink.Type, "content-type": "application/json"} {
		if m.headers[h] != want {
			t.Errorf("header %s = %q, want %q", h, m.headers[h], want)
		}
	}
	var st struct{ ID, Stored string }
	if err := json.Unmarshal(m.value, &st); err != nil || st.ID != m.headers["ce_id"] || st.Stored != m.headers["ce_time"] {
		t.Errorf("value %s: id/stored do not match ce_id %s / ce_time %s", m.value, m.headers["ce_id"], m.headers["ce_time"])
	}
	stats := a.relay.Stats()
	if stats[0].Sent != uint64(len(want)) || stats[0].Failed != 0 {
		t.Errorf("stats: %+v", stats[0])
	}

	// A teacher voids a statement of learner 0: the voiding statement is
	// keyed like the statement it voids, so it follows it in its partition.
	target := got.byUser[0][0]
	voidID := uuid.NewString()
	void := fmt.Sprintf(`{"id":%q,"actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"teacher-1"}},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/voided","display":{"en-US":"voided"}},
		"object":{"objectType":"StatementRef","id":%q}}`, voidID, target)
	if err := p.postRaw(void); err != nil {
		t.Fatal(err)
	}
	cons.waitFor(t, map[string]bool{voidID: true}, 15*time.Second)
	cons.mu.Lock()
	defer cons.mu.Unlock()
	var targetMsg, voidMsg message
	for _, m := range cons.all {
		switch m.headers["ce_id"] {
		case target:
			targetMsg = m
		case voidID:
			voidMsg = m
		}
	}
	if voidMsg.key != targetMsg.key || voidMsg.partition != targetMsg.partition {
		t.Errorf("voiding statement key %s partition %d, want its target's %s partition %d",
			voidMsg.key, voidMsg.partition, targetMsg.key, targetMsg.partition)
	}
}

// freePort returns a TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestKafka_BrokerRestart stops the broker mid-stream and starts it again
// on the same port and data: after recovery every statement the LRS
// acknowledged is on the topic, also those stored while it was down.
func TestKafka_BrokerRestart(t *testing.T) { eachStore(t, testKafkaBrokerRestart) }

func testKafkaBrokerRestart(t *testing.T, store string) {
	dir, port := t.TempDir(), freePort(t)
	opts := []kfake.Opt{kfake.Ports(port), kfake.DataDir(dir)}
	c := startKafka(t, opts...)
	a, p := kafkaApp(t, c, store)
	brokers := c.ListenAddrs()
	cons := newConsumer(t, brokers)

	got := newAcked()
	stop := make(chan struct{})
	wg := clients(p, got, 6, 1000, stop)
	for cons.count() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	time.Sleep(700 * time.Millisecond) // statements are stored meanwhile
	c2, err := kfake.NewCluster(append([]kfake.Opt{kfake.SeedTopics(3, testTopic)}, opts...)...)
	if err != nil {
		t.Fatalf("restart kfake: %v", err)
	}
	t.Cleanup(c2.Close)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	cons.waitFor(t, got.all(), 20*time.Second)
	cons.checkOrder(t, got)
	if st := a.relay.Stats()[0]; st.Failed == 0 {
		t.Errorf("no failed send while the broker was down: %+v", st)
	}
	t.Logf("%d statements acknowledged, %d messages (duplicates after the failure are allowed)", len(got.all()), cons.count())
}

// lrsProcess is the lrs command in a process of its own.
type lrsProcess struct {
	cmd  *exec.Cmd
	base string
}

func startLRSProcess(t *testing.T, storeArgs []string, port int, brokers []string) *lrsProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port),
		"--log-level", "disabled", "--relay-lease-ttl", "1s", "--kafka-brokers", strings.Join(brokers, ",")}, storeArgs...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LRS_TEST_MAIN=1", "LRS_BOOTSTRAP_KEY=k", "LRS_BOOTSTRAP_SECRET=s3cret-s3cret")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lrsProcess{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	t.Cleanup(p.kill)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lrs process does not answer: %v", err)
		}
	}
}

func (p *lrsProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// TestKafka_LRSKilled kills the LRS process (SIGKILL) mid-stream and starts
// it again on the same data: it resumes from its cursor and every
// acknowledged statement reaches the topic.
func TestKafka_LRSKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts LRS processes")
	}
	eachStore(t, testKafkaLRSKilled)
}

func testKafkaLRSKilled(t *testing.T, store string) {
	c := startKafka(t)
	cons := newConsumer(t, c.ListenAddrs())
	sargs, port := storeArgs(t, store), freePort(t)
	proc := startLRSProcess(t, sargs, port, c.ListenAddrs())
	p := poster{base: proc.base, key: "k", secret: "s3cret-s3cret"}

	got := newAcked()
	stop := make(chan struct{})
	wg := clients(p, got, 6, 1000, stop)
	for cons.count() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	proc.kill()
	close(stop)
	wg.Wait()
	before := len(got.all())

	startLRSProcess(t, sargs, port, c.ListenAddrs())
	clients(p, got, 3, 5, nil).Wait()
	cons.waitFor(t, got.all(), 30*time.Second)
	cons.checkOrder(t, got)
	dups := cons.count() - len(got.all())
	t.Logf("%d statements acknowledged before the kill, %d in all; %d duplicates", before, len(got.all()), dups)
	if dups > 500 {
		t.Errorf("%d duplicates: the restarted LRS did not resume from its cursor", dups)
	}
}

// TestKafka_Throughput measures the relay's throughput and the lag from a
// POST's acknowledgement to the consumer. It runs only with
// LRS_KAFKA_BENCH=1:
//
//	LRS_KAFKA_BENCH=1 go test -run TestKafka_Throughput -v ./cmd/lrs
func TestKafka_Throughput(t *testing.T) {
	if os.Getenv("LRS_KAFKA_BENCH") != "1" {
		t.Skip("a measurement: set LRS_KAFKA_BENCH=1 to run it")
	}
	c := startKafka(t)
	_, p := kafkaApp(t, c, "sqlite")
	cons := newConsumer(t, c.ListenAddrs())
	got := newAcked()
	const clientsN, batches, batch = 16, 60, 20
	start := time.Now()
	var wg sync.WaitGroup
	for l := range clientsN {
		wg.Go(func() {
			for i := range batches {
				ids, err := p.post(l, i*batch, batch)
				if err != nil {
					t.Error(err)
					return
				}
				got.add(l, ids)
			}
		})
	}
	wg.Wait()
	posted := time.Since(start)
	want := got.all()
	cons.waitFor(t, want, 60*time.Second)
	cons.mu.Lock()
	defer cons.mu.Unlock()
	var lags []time.Duration
	last := cons.all[0].at
	for _, m := range cons.all {
		lags = append(lags, m.at.Sub(got.at[m.headers["ce_id"]]))
		if m.at.After(last) {
			last = m.at
		}
	}
	slices.Sort(lags)
	n := len(want)
	t.Logf("%d statements: POSTed in %v (%.0f/s); on the topic %v after the first POST (%.0f/s end to end); lag from POST ack to consumer p50 %v p99 %v max %v",
		n, posted.Round(time.Millisecond), float64(n)/posted.Seconds(), last.Sub(start).Round(time.Millisecond),
		float64(n)/last.Sub(start).Seconds(), lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1])
}
