package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// opStats are the measurements of one kind of request.
type opStats struct {
	lat        []uint32 // latency of every request, µs
	statements int64    // written or returned
	empty      int64    // queries that returned no statement
	errors     int64
}

// recorder collects one worker's measurements; merged when the run ends.
type recorder struct {
	ops     map[string]*opStats
	errors  map[string]int64  // by HTTP status, or "transport", "bad-response"
	samples map[string]string // the first error message of each status
}

func newRecorder() *recorder {
	return &recorder{ops: map[string]*opStats{}, errors: map[string]int64{}, samples: map[string]string{}}
}

func (r *recorder) op(name string) *opStats {
	o := r.ops[name]
	if o == nil {
		o = &opStats{lat: make([]uint32, 0, 1024)}
		r.ops[name] = o
	}
	return o
}

// latency records one request; d is capped at about 71 minutes.
func (o *opStats) latency(d time.Duration) {
	us := d.Microseconds()
	o.lat = append(o.lat, uint32(min(max(us, 0), math.MaxUint32)))
}

func (r *recorder) fail(o *opStats, status, sample string) {
	o.errors++
	r.errors[status]++
	if _, ok := r.samples[status]; !ok {
		if len(sample) > 300 {
			sample = sample[:300] + "…"
		}
		r.samples[status] = strings.TrimSpace(sample)
	}
}

func (r *recorder) merge(from *recorder) {
	for name, o := range from.ops {
		to := r.op(name)
		to.lat = append(to.lat, o.lat...)
		to.statements += o.statements
		to.empty += o.empty
		to.errors += o.errors
	}
	for k, n := range from.errors {
		r.errors[k] += n
	}
	for k, s := range from.samples {
		if _, ok := r.samples[k]; !ok {
			r.samples[k] = s
		}
	}
}

// Names of operations: writes are "post" and "batch"; queries "query:KIND".
const (
	opPost  = "post"
	opBatch = "batch"
)

func isWrite(op string) bool { return op == opPost || op == opBatch }

// report is the outcome of a run (or of its preload).
type report struct {
	Mode         string  `json:"mode"`
	XAPIVersion  string  `json:"xapi_version"`
	Seed         int64   `json:"seed"`
	Concurrency  int     `json:"concurrency"`
	BatchSize    int     `json:"batch_size,omitempty"`
	ReadFraction float64 `json:"read_fraction,omitempty"`
	// Rate, OfferedPerSecond and MaxBacklog describe an open-loop run
	// (--rate): the rate asked for, the requests per second that fell due,
	// and the most that waited for a worker at once.
	Rate             float64 `json:"rate,omitempty"`
	OfferedPerSecond float64 `json:"offered_per_second,omitempty"`
	MaxBacklog       *int64  `json:"max_backlog,omitempty"`
	DurationS        float64 `json:"duration_s"`
	Requests         int64   `json:"requests"`
	Statements       int64   `json:"statements"`      // written
	StatementsRead   int64   `json:"statements_read"` // returned by queries

	StatementsPerSecond     float64 `json:"statements_per_second"` // written
	StatementsReadPerSecond float64 `json:"statements_read_per_second"`
	RequestsPerSecond       float64 `json:"requests_per_second"`

	latency
	Errors         int64             `json:"errors"`
	ErrorsByStatus map[string]int64  `json:"errors_by_status"`
	ErrorSamples   map[string]string `json:"error_samples,omitempty"`

	Operations map[string]*opReport `json:"operations"`
	Preload    *report              `json:"preload,omitempty"`
}

// latency are percentiles of request latency in milliseconds.
type latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// opReport is the outcome of one kind of request.
type opReport struct {
	Requests     int64 `json:"requests"`
	Statements   int64 `json:"statements"`
	EmptyResults int64 `json:"empty_results,omitempty"`
	Errors       int64 `json:"errors"`
	latency
}

// newReport summarises rec, measured over elapsed.
func newReport(rec *recorder, elapsed time.Duration) *report {
	rep := &report{DurationS: round(elapsed.Seconds(), 3), ErrorsByStatus: rec.errors, ErrorSamples: rec.samples,
		Operations: map[string]*opReport{}}
	var all []uint32
	for name, o := range rec.ops {
		n := int64(len(o.lat))
		rep.Requests += n
		if isWrite(name) {
			rep.Statements += o.statements
		} else {
			rep.StatementsRead += o.statements
		}
		rep.Operations[name] = &opReport{Requests: n, Statements: o.statements, EmptyResults: o.empty, Errors: o.errors,
			latency: percentiles(o.lat)}
		all = append(all, o.lat...)
	}
	for _, n := range rec.errors {
		rep.Errors += n
	}
	rep.latency = percentiles(all)
	if s := elapsed.Seconds(); s > 0 {
		rep.StatementsPerSecond = round(float64(rep.Statements)/s, 1)
		rep.StatementsReadPerSecond = round(float64(rep.StatementsRead)/s, 1)
		rep.RequestsPerSecond = round(float64(rep.Requests)/s, 1)
	}
	return rep
}

// percentiles returns the exact (nearest-rank) percentiles of samples in
// µs, as milliseconds; it sorts samples.
func percentiles(samples []uint32) latency {
	if len(samples) == 0 {
		return latency{}
	}
	slices.Sort(samples)
	at := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(samples)))) - 1
		return float64(samples[max(i, 0)]) / 1000
	}
	return latency{P50: at(50), P95: at(95), P99: at(99), Max: at(100)}
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

func (r *report) totalErrors() int64 {
	n := r.Errors
	if r.Preload != nil {
		n += r.Preload.Errors
	}
	return n
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	if r.Mode == modePreload {
		writePreload(&b, r)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.Preload != nil {
		writePreload(&b, r.Preload)
	}
	fmt.Fprintf(&b, "mode %s, xAPI %s, seed %d, concurrency %d", r.Mode, r.XAPIVersion, r.Seed, r.Concurrency)
	if r.Mode != modeQuery {
		fmt.Fprintf(&b, ", batch size %d", r.BatchSize)
	}
	if r.Mode == modeMixed {
		fmt.Fprintf(&b, ", read fraction %.2f", r.ReadFraction)
	}
	if r.Rate > 0 {
		fmt.Fprintf(&b, ", open loop at %g requests/s (offered %.1f/s, backlog at most %d)", r.Rate, r.OfferedPerSecond, *r.MaxBacklog)
	}
	fmt.Fprintf(&b, ", %.1f s\n", r.DurationS)
	fmt.Fprintf(&b, "statements   %d written (%.1f/s), %d read (%.1f/s)\n", r.Statements, r.StatementsPerSecond, r.StatementsRead, r.StatementsReadPerSecond)
	fmt.Fprintf(&b, "requests     %d (%.1f/s)\n", r.Requests, r.RequestsPerSecond)
	fmt.Fprintf(&b, "latency      p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.P50, r.P95, r.P99, r.Max)
	fmt.Fprintf(&b, "%-26s %9s %11s %9s %9s %9s %9s %7s\n", "operation", "requests", "statements", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
	for _, name := range slices.Sorted(maps.Keys(r.Operations)) {
		o := r.Operations[name]
		fmt.Fprintf(&b, "%-26s %9d %11d %9.2f %9.2f %9.2f %9.2f %7d", name, o.Requests, o.Statements, o.P50, o.P95, o.P99, o.Max, o.Errors)
		if o.EmptyResults > 0 {
			fmt.Fprintf(&b, "  (%d empty)", o.EmptyResults)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "errors       %d\n", r.Errors)
	writeErrors(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writePreload(b *strings.Builder, p *report) {
	fmt.Fprintf(b, "preload: %d statements in %.1f s: %.0f statements/s, %.1f requests/s (batches of %d, concurrency %d), p50 %.1f ms, p99 %.1f ms, %d errors\n",
		p.Statements, p.DurationS, p.StatementsPerSecond, p.RequestsPerSecond, p.BatchSize, p.Concurrency, p.P50, p.P99, p.Errors)
	writeErrors(b, p)
}

func writeErrors(b *strings.Builder, r *report) {
	for _, status := range slices.Sorted(maps.Keys(r.ErrorsByStatus)) {
		fmt.Fprintf(b, "  %-12s %d  first: %s\n", status, r.ErrorsByStatus[status], r.ErrorSamples[status])
	}
}
