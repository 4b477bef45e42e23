// Package metrics exposes iamd's Prometheus metrics: requests by service,
// action and outcome, their latency, and authentication failures. It owns
// a registry of its own (no global state) and serves it at /_iamd/metrics.
//
// It does not decide what a request is; the HTTP layer reports finished
// calls to it.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New returns Metrics with Go runtime and process collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "iamd", Name: "requests_total",
			Help: "API requests by service, action and result (the AWS error code, or OK).",
		}, []string{"service", "action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "iamd", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival to its response, by service.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest counts one finished call. code is "OK" or the AWS error
// code; action is "Unknown" when the request never named a valid one, so
// that a hostile client cannot create unbounded label values.
func (m *Metrics) ObserveRequest(service, action, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(service, action, code).Inc()
	m.latency.WithLabelValues(service).Observe(d.Seconds())
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
