// Package metrics owns the Prometheus metrics a node exports on its
// private metrics listener (--metrics-addr). Labels are bounded: outcomes
// only, never a tenant, event or endpoint id.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slotwire/slotwire/internal/maintenance"
	"github.com/slotwire/slotwire/internal/store"
)

// Metrics are one node's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	ingested prometheus.Counter
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	runs     *prometheus.CounterVec
	retained *prometheus.CounterVec
}

// Sources are read at scrape time.
type Sources struct {
	// Backlog reads the queue (store.Queue.Backlog).
	Backlog func(context.Context) (store.Backlog, error)
	// InFlight is the requests this node is sending (nil on API nodes).
	InFlight func() int
	Logger   *slog.Logger
	Now      func() time.Time
}

// New registers the metrics.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.ingested = prometheus.NewCounter(prometheus.CounterOpts{Name: "slotwire_events_ingested_total",
		Help: "Events stored by this node (idempotent duplicates not counted)."})
	m.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slotwire_delivery_attempts_total",
		Help: "Delivery attempts made by this node, by what followed: succeeded, retrying, failed or filtered."}, []string{"outcome"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "slotwire_attempt_duration_seconds",
		Help: "How long delivery attempts took, request to answer.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slotwire_retention_runs_total",
		Help: "Retention runs on this node (the elected one), by result: ok or error."}, []string{"result"})
	m.retained = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slotwire_retention_rows_total",
		Help: "Rows the retention job handled: deliveries or events, archived or deleted."}, []string{"kind", "action"})
	m.reg.MustRegister(m.ingested, m.outcomes, m.latency, m.runs, m.retained, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{"succeeded", "retrying", "failed", "filtered"} {
		m.outcomes.WithLabelValues(o)
	}
	if src.InFlight != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "slotwire_inflight_requests",
			Help: "Delivery requests this node is sending now."}, func() float64 { return float64(src.InFlight()) }))
	}
	if src.Backlog != nil {
		m.reg.MustRegister(&backlogCollector{src: src})
	}
	return m
}

// Ingested counts n stored events.
func (m *Metrics) Ingested(n int) { m.ingested.Add(float64(n)) }

// Observe counts one attempt's outcome and latency.
func (m *Metrics) Observe(o store.Outcome, took time.Duration) {
	name := o.Status
	if name == "pending" {
		name = "retrying"
	}
	m.outcomes.WithLabelValues(name).Inc()
	if !o.NoContact {
		m.latency.Observe(took.Seconds())
	}
}

// Retention counts one retention run and the rows it handled.
func (m *Metrics) Retention(r maintenance.RetentionRun) {
	result := "ok"
	if r.Err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(result).Inc()
	m.retained.WithLabelValues("deliveries", "archived").Add(float64(r.Archived))
	m.retained.WithLabelValues("events", "archived").Add(float64(r.ArchivedEvents))
	m.retained.WithLabelValues("deliveries", "deleted").Add(float64(r.Deleted))
	m.retained.WithLabelValues("events", "deleted").Add(float64(r.DeletedEvents))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// backlogCollector reads the queue once a scrape.
type backlogCollector struct{ src Sources }

var (
	depthDesc = prometheus.NewDesc("slotwire_queue_depth", "Deliveries waiting to be sent (pending), on every node.", nil, nil)
	ageDesc   = prometheus.NewDesc("slotwire_queue_oldest_pending_age_seconds",
		"Age of the oldest pending delivery (0 when none is).", nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc; ch <- ageDesc }

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.src.Backlog(ctx)
	if err != nil {
		if c.src.Logger != nil {
			c.src.Logger.Warn("metrics: reading the queue failed", "err", err)
		}
		return
	}
	age := 0.0
	if !b.Oldest.IsZero() {
		age = max(0, c.src.Now().Sub(b.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age)
}
