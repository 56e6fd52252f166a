package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
)

// bench is one benchmark run against one LRS.
type bench struct {
	cfg        config
	gen        *gen.Generator
	client     *http.Client
	auth       string // Authorization header
	statements string // URL of the statements resource
	stderr     io.Writer

	next    atomic.Uint64 // index of the next statement to write
	stored  known         // indices of the statements stored
	started atomic.Int64  // when the first write of this run began, Unix ns

	// Live counts for the progress bar.
	requests, written, read, failed atomic.Int64
}

func newBench(cfg config, stderr io.Writer) (*bench, error) {
	g, err := gen.New(cfg.genConfig(time.Now()))
	if err != nil {
		return nil, usagef("%v", err)
	}
	conns := max(cfg.Concurrency, cfg.PreloadConcurrency)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	b := &bench{
		cfg:        cfg,
		gen:        g,
		client:     &http.Client{Transport: tr, Timeout: cfg.Timeout},
		auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Key+":"+cfg.Secret)),
		statements: cfg.URL.JoinPath("statements").String(),
		stderr:     stderr,
	}
	b.next.Store(uint64(cfg.Preloaded))
	b.stored.add(0, cfg.Preloaded)
	return b, nil
}

// Run checks that the LRS answers, runs the preload and the mode, and
// returns the report.
func (b *bench) Run(ctx context.Context) (*report, error) {
	defer b.client.CloseIdleConnections()
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	var pre *report
	if b.cfg.Preload > 0 {
		pre = b.preload(ctx)
		if b.cfg.PreloadOnly || ctx.Err() != nil {
			return pre, nil
		}
	}
	rep := b.runMode(ctx)
	rep.Preload = pre
	return rep, nil
}

// check asks the LRS for one statement, so a wrong URL or credential stops
// the run before it starts.
func (b *bench) check(ctx context.Context) error {
	res, err := b.do(ctx, http.MethodGet, b.statements+"?limit=1", nil)
	if err != nil {
		return fmt.Errorf("cannot reach the LRS: %w", err)
	}
	if res.status != http.StatusOK {
		return fmt.Errorf("GET %s?limit=1: HTTP %d: %s", b.statements, res.status, truncate(res.body, 300))
	}
	return nil
}

// response is what a request returned.
type response struct {
	status int
	body   []byte
}

// do sends one request with the credential and the xAPI version.
func (b *bench) do(ctx context.Context, method, u string, body []byte) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", b.auth)
	req.Header.Set("User-Agent", "lrs-bench")
	req.Header.Set("X-Experience-API-Version", b.cfg.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, body: out}, nil
}

// worker is one client: it sends one request at a time.
type worker struct {
	b   *bench
	rec *recorder
	rnd *rand.Rand
	buf []byte
}

// preload stores cfg.Preload statements in batches, as fast as the LRS
// takes them.
func (b *bench) preload(ctx context.Context) *report {
	total := uint64(b.cfg.Preload)
	first := b.next.Add(total) - total
	var claimed atomic.Uint64
	rctx := context.WithoutCancel(ctx) // an interrupt lets requests in flight finish
	prog := b.startProgress(modePreload, 0, int64(total))
	rep := b.workers(b.cfg.PreloadConcurrency, func(w *worker) bool {
		off := claimed.Add(uint64(b.cfg.PreloadBatch)) - uint64(b.cfg.PreloadBatch)
		if off >= total || ctx.Err() != nil {
			return false
		}
		n := int(min(uint64(b.cfg.PreloadBatch), total-off))
		w.write(rctx, opBatch, first+off, n, true)
		return true
	})
	prog.stop()
	rep.Mode, rep.BatchSize, rep.Concurrency = modePreload, b.cfg.PreloadBatch, b.cfg.PreloadConcurrency
	rep.XAPIVersion, rep.Seed = b.cfg.Version, b.cfg.Seed
	return rep
}

// runMode runs the mode for cfg.Duration.
func (b *bench) runMode(ctx context.Context) *report {
	if b.cfg.Rate > 0 {
		return b.runOpen(ctx)
	}
	var stop atomic.Bool
	timer := time.AfterFunc(b.cfg.Duration, func() { stop.Store(true) })
	defer timer.Stop()
	rctx := context.WithoutCancel(ctx) // an interrupt lets requests in flight finish
	prog := b.startProgress(b.cfg.Mode, b.cfg.Duration, 0)
	rep := b.workers(b.cfg.Concurrency, func(w *worker) bool {
		if stop.Load() || ctx.Err() != nil {
			return false
		}
		switch b.cfg.Mode {
		case modePost, modeBatch:
			w.writeNext(rctx)
		case modeQuery:
			w.query(rctx)
		case modeMixed:
			if w.rnd.Float64() < b.cfg.ReadFrac && b.stored.len() > 0 {
				w.query(rctx)
			} else {
				w.writeNext(rctx)
			}
		}
		return true
	})
	prog.stop()
	rep.Mode, rep.Concurrency, rep.XAPIVersion, rep.Seed = b.cfg.Mode, b.cfg.Concurrency, b.cfg.Version, b.cfg.Seed
	if b.cfg.Mode != modeQuery {
		rep.BatchSize = b.cfg.BatchSize
	}
	if b.cfg.Mode == modeMixed {
		rep.ReadFraction = b.cfg.ReadFrac
	}
	return rep
}

// workers runs n workers, each calling step until it returns false, and
// reports what they measured.
func (b *bench) workers(n int, step func(*worker) bool) *report {
	recs := make([]*recorder, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		recs[i] = newRecorder()
		w := &worker{b: b, rec: recs[i], rnd: rand.New(rand.NewPCG(uint64(b.cfg.Seed), uint64(i)))}
		wg.Go(func() {
			for step(w) {
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	return newReport(all, elapsed)
}

// writeNext writes the next statement, or the next batch.
func (w *worker) writeNext(ctx context.Context) { w.writeNextDue(ctx, time.Time{}) }

// writeNextDue writes the next statement or batch, timed from due (zero:
// from now).
func (w *worker) writeNextDue(ctx context.Context, due time.Time) {
	n := w.b.cfg.BatchSize
	start := w.b.next.Add(uint64(n)) - uint64(n)
	op := opBatch
	if n == 1 {
		op = opPost
	}
	w.writeDue(ctx, op, start, n, op == opBatch, due)
}

// write POSTs statements [start, start+n), as an array when batch is true.
func (w *worker) write(ctx context.Context, op string, start uint64, n int, batch bool) {
	w.writeDue(ctx, op, start, n, batch, time.Time{})
}

// writeDue is write timed from due (zero: from now).
func (w *worker) writeDue(ctx context.Context, op string, start uint64, n int, batch bool, due time.Time) {
	if batch {
		w.buf = w.b.gen.AppendBatch(w.buf[:0], start, n)
	} else {
		w.buf = append(w.buf[:0], w.b.gen.Statement(start).JSON...)
	}
	o := w.rec.op(op)
	t0 := time.Now()
	w.b.started.CompareAndSwap(0, t0.UnixNano())
	if !due.IsZero() {
		t0 = due
	}
	res, err := w.b.do(ctx, http.MethodPost, w.b.statements, w.buf)
	o.latency(time.Since(t0))
	w.b.requests.Add(1)
	if !w.check(o, res, err) {
		return
	}
	var ids []string
	if err := json.Unmarshal(res.body, &ids); err != nil || len(ids) != n {
		w.failed(o, "bad-response", fmt.Sprintf("POST of %d statements returned %s", n, truncate(res.body, 200)))
		return
	}
	o.statements += int64(n)
	w.b.written.Add(int64(n))
	w.b.stored.add(start, n)
}

// check records a failed request and reports whether res is a 200.
func (w *worker) check(o *opStats, res response, err error) bool {
	switch {
	case err != nil:
		w.failed(o, "transport", err.Error())
		return false
	case res.status != http.StatusOK:
		w.failed(o, strconv.Itoa(res.status), string(res.body))
		return false
	}
	return true
}

func (w *worker) failed(o *opStats, status, msg string) {
	w.rec.fail(o, status, msg)
	w.b.failed.Add(1)
}

// queryKind is one kind of query of the mix, with its weight.
type queryKind struct {
	name   string
	weight int
}

var queryKinds = []queryKind{
	{"agent", 20},
	{"verb", 10},
	{"activity", 15},
	{"agent+verb", 10},
	{"agent+activity", 5},
	{"registration", 15},
	{"related_activities", 5},
	{"since", 10},
	{"more", 10},
}

var queryWeights = func() []int {
	w := make([]int, len(queryKinds))
	for i, k := range queryKinds {
		w[i] = k.weight
	}
	return w
}()

// maxPages is how many pages a "more" query reads.
const maxPages = 5

// query sends one query of the mix about a stored statement; "more" then
// follows the more links.
func (w *worker) query(ctx context.Context) {
	i, ok := w.b.stored.pick(w.rnd)
	if !ok {
		return
	}
	st := w.b.gen.Statement(i)
	kind := queryKinds[pickWeighted(w.rnd, queryWeights)].name
	if kind == "registration" && st.Registration == "" {
		kind = "agent"
	}
	q := url.Values{}
	limit := 10
	switch kind {
	case "agent":
		q.Set("agent", string(st.Agent))
	case "verb":
		q.Set("verb", st.Verb)
	case "activity":
		q.Set("activity", st.Activity)
	case "agent+verb":
		q.Set("agent", string(st.Agent))
		q.Set("verb", st.Verb)
	case "agent+activity":
		q.Set("agent", string(st.Agent))
		q.Set("activity", st.Activity)
	case "registration":
		q.Set("registration", st.Registration)
		limit = 50
	case "related_activities":
		q.Set("activity", st.Parent)
		q.Set("related_activities", "true")
	case "since":
		q.Set("since", w.b.sinceTime(w.rnd).Format(time.RFC3339Nano))
		limit = 50
	case "more":
		q.Set("agent", string(st.Agent))
		limit = 5
	}
	q.Set("limit", strconv.Itoa(limit))
	u := w.b.statements + "?" + q.Encode()
	op := "query:" + kind
	for page := 0; u != "" && page < maxPages; page++ {
		if page > 0 {
			op = "query:more-page"
		}
		more, ok := w.get(ctx, op, u, kind != "since")
		if !ok || kind != "more" || more == "" {
			return
		}
		next, err := w.b.cfg.URL.Parse(more)
		if err != nil {
			w.failed(w.rec.op(op), "bad-response", "more: "+err.Error())
			return
		}
		u = next.String()
	}
}

// get sends one query and returns its more link; ok is false when it
// failed. A query about a stored statement must find something.
func (w *worker) get(ctx context.Context, op, u string, mustFind bool) (more string, ok bool) {
	o := w.rec.op(op)
	t0 := time.Now()
	res, err := w.b.do(ctx, http.MethodGet, u, nil)
	o.latency(time.Since(t0))
	w.b.requests.Add(1)
	if !w.check(o, res, err) {
		return "", false
	}
	var page struct {
		Statements []json.RawMessage `json:"statements"`
		More       string            `json:"more"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		w.failed(o, "bad-response", "GET statements: "+err.Error())
		return "", false
	}
	n := int64(len(page.Statements))
	o.statements += n
	w.b.read.Add(n)
	if n == 0 && mustFind {
		o.empty++
	}
	return page.More, true
}

// sinceTime returns a time for a since query: between the first write of
// this run and now, or in the last hour when this run wrote nothing.
func (b *bench) sinceTime(r *rand.Rand) time.Time {
	now := time.Now()
	from := now.Add(-time.Hour)
	if ns := b.started.Load(); ns != 0 {
		from = time.Unix(0, ns)
	}
	span := now.Sub(from)
	if span <= 0 {
		return from
	}
	return from.Add(time.Duration(r.Int64N(int64(span))))
}

func pickWeighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
