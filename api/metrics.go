package api

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tesuji/tesuji/queue"
)

// metrics are the API's Prometheus metrics, in a registry of their own so that several
// APIs (tests, or two servers in one process) never share counters.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	sse       prometheus.Gauge
	sockets   prometheus.Gauge
	limited   *prometheus.CounterVec
	submitted *prometheus.CounterVec
	// socketFinals counts final results the websocket got straight from local engines,
	// which no worker counts.
	socketFinals atomic.Int64
}

func newMetrics(a *API) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tesuji_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status class (2xx, 4xx, ...).",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tesuji_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests other than streams, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"route"}),
		sse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tesuji_sse_clients",
			Help: "Server-Sent Events streams open now.",
		}),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tesuji_websocket_clients",
			Help: "KataGo-protocol websocket connections open now.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tesuji_limited_requests_total",
			Help: "Requests refused by a per-token limit (quota, jobs, streams), by limit.",
		}, []string{"limit"}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tesuji_jobs_submitted_total",
			Help: "Jobs enqueued by this API, by kind (analysis, position, katago).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.sse, m.sockets, m.limited, m.submitted,
		&queueCollector{q: a.q},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tesuji_positions_analyzed_total",
			Help: "Positions analyzed to a final result by this process's workers and engines.",
		}, func() float64 {
			n := m.socketFinals.Load()
			if a.cfg.PositionsAnalyzed != nil {
				n += a.cfg.PositionsAnalyzed()
			}
			return float64(n)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tesuji_engine_restarts_total",
			Help: "Times this process's KataGo engines were restarted after dying or hanging.",
		}, func() float64 {
			var n int64
			for _, e := range a.cfg.Engines {
				n += e.Restarts()
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tesuji_engines_ready",
			Help: "This process's KataGo engines that are ready.",
		}, func() float64 {
			n := 0
			for _, e := range a.cfg.Engines {
				if e.Ready() {
					n++
				}
			}
			return float64(n)
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Both priorities and both live states are present from the start, so dashboards
	// never see a series appear.
	for _, l := range []string{"quota", "jobs", "streams"} {
		m.limited.WithLabelValues(l)
	}
	for _, k := range []string{"analysis", "position", "katago"} {
		m.submitted.WithLabelValues(k)
	}
	return m
}

// observe is the middleware that counts every request. Every label comes from a fixed
// set, so no client can make series without end: routes are gin's patterns (an id in a
// path never makes a series of its own), methods the standard ones or "other", statuses
// their class.
func (m *metrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(c.Request.Method), statusClass(c.Writer.Status())).Inc()
	if !c.GetBool(streamKey) {
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

// methodLabel is the method as a label: one of HTTP's methods, or "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// statusClass is the status as a label: "2xx", "4xx" and so on.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func (m *metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// queueCollector reads queue depth and jobs by state at scrape time.
type queueCollector struct{ q queue.Queue }

var (
	queueDepthDesc = prometheus.NewDesc("tesuji_queue_depth",
		"Jobs waiting in the queue, by priority.", []string{"priority"}, nil)
	jobsDesc = prometheus.NewDesc("tesuji_jobs",
		"Jobs that are not final, by state.", []string{"state"}, nil)
	backlogDesc = prometheus.NewDesc("tesuji_queue_backlog_positions",
		"Positions times visits waiting in queued jobs and in the unfinished turns of running ones.", nil, nil)
	finishedDesc = prometheus.NewDesc("tesuji_jobs_finished_total",
		"Jobs that reached a final state, by state (done, failed, cancelled).", []string{"state"}, nil)
	queueUpDesc = prometheus.NewDesc("tesuji_queue_up",
		"1 when the queue answered the scrape, 0 when it did not.", nil, nil)
)

func (qc *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- jobsDesc
	ch <- backlogDesc
	ch <- finishedDesc
	ch <- queueUpDesc
}

func (qc *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := qc.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	queued := 0
	for _, p := range []queue.Priority{queue.PriorityInteractive, queue.PriorityReview} {
		queued += st.Queued[p]
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Queued[p]), priorityName(p))
	}
	ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(queued), string(queue.StateQueued))
	ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(st.Running), string(queue.StateRunning))
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(st.PositionsWaiting))
	for _, s := range []queue.State{queue.StateDone, queue.StateFailed, queue.StateCancelled} {
		ch <- prometheus.MustNewConstMetric(finishedDesc, prometheus.CounterValue, float64(st.Finished[s]), string(s))
	}
}

func priorityName(p queue.Priority) string {
	if p == queue.PriorityInteractive {
		return "interactive"
	}
	return "review"
}
