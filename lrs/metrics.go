package lrs

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/digione/lrs/statements"
)

// serverMetrics are the metrics of the HTTP service, in a registry of the
// server's own (so that two servers in one process, as in tests, do not
// share them), with the Go runtime and process collectors.
type serverMetrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	stored    *prometheus.CounterVec
	authFails *prometheus.CounterVec
	throttled *prometheus.CounterVec
}

func newServerMetrics() *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lrs_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lrs_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_statements_stored_total",
			Help: "Statements stored (acknowledged), by tenant.",
		}, []string{"tenant"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_auth_failures_total",
			Help: "Failed logins, by kind: credential (xAPI, Basic), admin (bearer token) or oneroster-token (a token of the sandboxes' OneRoster provider).",
		}, []string{"kind"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_throttled_total",
			Help: "Requests answered 429, by reason: login (failed-login slowdown) or rate (a credential's rate limit).",
		}, []string{"reason"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "lrs_build_info",
		Help:        "The build of the LRS: always 1, with its version and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": ProductVersion(), "goversion": runtime.Version()},
	})
	build.Set(1)
	m.reg.MustRegister(m.requests, m.durations, m.inFlight, m.stored, m.authFails, m.throttled, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts a request answered with status after d.
func (m *serverMetrics) observe(c *gin.Context, status int, d time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	m.durations.WithLabelValues(route, c.Request.Method).Observe(d.Seconds())
}

// handleMetrics serves GET /metrics in the Prometheus text format: the
// server's metrics, then those of Config.Metrics (the relay's, the
// OneRoster write-back's).
func (s *Server) handleMetrics(c *gin.Context) {
	if s.sizes != nil {
		if err := s.sizes.refresh(c.Request.Context()); err != nil {
			s.log.Warn().Err(err).Msg("metrics: cannot read the size of the store; reporting the last one")
		}
	}
	var b bytes.Buffer
	mfs, err := s.prom.reg.Gather()
	if err == nil {
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err = enc.Encode(mf); err != nil {
				break
			}
		}
	}
	if err == nil && s.metrics != nil {
		err = s.metrics(&b)
	}
	if err != nil {
		s.log.Error().Err(err).Msg("metrics")
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, string(expfmt.NewFormat(expfmt.TypeTextPlain)), b.Bytes())
}

// replicasGauge is lrs_replicas: the replicas r last counted.
func replicasGauge(r *Replicas) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lrs_replicas",
		Help: "LRS replicas serving the deployment as this one last counted them (itself included); credentials' rates and bursts and the failed-login slowdown are divided among them.",
	}, func() float64 { return float64(r.Count()) })
}

// StoreSizeEvery is how long a size of the store read for /metrics is
// reported before it is read again.
const StoreSizeEvery = 30 * time.Second

var (
	storeBytesDesc = prometheus.NewDesc("lrs_store_size_bytes",
		"Space the store takes: SQLite, its database file and write-ahead log; MongoDB, the database's storage and index size (dbStats). Read at most every 30 s.", nil, nil)
	storeStatementsDesc = prometheus.NewDesc("lrs_store_statements",
		"Statements in the store, as the database counts them (MongoDB); absent where it keeps no count (SQLite). Read at most every 30 s.", nil, nil)
)

// sizeCache is the collector of the store's size: it reports the size
// last read, and refresh reads it again when it is older than
// StoreSizeEvery, so scrapes do not each ask the store.
type sizeCache struct {
	sizer statements.Sizer
	now   func() time.Time

	mu    sync.Mutex
	size  statements.StoreSize
	read  time.Time // of size; zero: never
	tried time.Time // the last attempt to read it
}

// refresh reads the size when the last attempt is older than
// StoreSizeEvery, within storeSizeTimeout. On failure the last size
// stays; a store that does not answer is asked again only after
// StoreSizeEvery too.
func (z *sizeCache) refresh(ctx context.Context) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	now := z.now()
	if !z.tried.IsZero() && now.Sub(z.tried) < StoreSizeEvery {
		return nil
	}
	z.tried = now
	ctx, cancel := context.WithTimeout(ctx, storeSizeTimeout)
	defer cancel()
	size, err := z.sizer.Size(ctx)
	if err != nil {
		return err
	}
	z.size, z.read = size, now
	return nil
}

// storeSizeTimeout bounds a read of the store's size, so that a store
// that does not answer does not hold a scrape for long.
const storeSizeTimeout = 5 * time.Second

func (z *sizeCache) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeBytesDesc
	ch <- storeStatementsDesc
}

func (z *sizeCache) Collect(ch chan<- prometheus.Metric) {
	z.mu.Lock()
	size, read := z.size, z.read
	z.mu.Unlock()
	if read.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(storeBytesDesc, prometheus.GaugeValue, float64(size.Bytes))
	if size.Statements >= 0 {
		ch <- prometheus.MustNewConstMetric(storeStatementsDesc, prometheus.GaugeValue, float64(size.Statements))
	}
}
