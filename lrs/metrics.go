package lrs

import (
	"bytes"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
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
			Help: "Failed logins, by kind: credential (xAPI, Basic) or admin (bearer token).",
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
