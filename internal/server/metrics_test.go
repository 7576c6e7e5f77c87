package server_test

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/slotwire/slotwire/internal/receiver"
)

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

func counter(f map[string]*dto.MetricFamily, name, outcome string) float64 {
	fam := f[name]
	if fam == nil {
		return -1
	}
	for _, m := range fam.Metric {
		if outcome == "" || (len(m.Label) == 1 && m.Label[0].GetValue() == outcome) {
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return -1
}

// The metrics listener reports what the node did: events stored (not
// duplicates), attempts by outcome with their latency, the queue; the API
// listener does not serve them.
func TestMetrics(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.MetricsAddr = "127.0.0.1:0"
	e := start(t, cfg)
	c := e.tenant("Acme")
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-id") == "" {
			w.WriteHeader(400)
		}
	})
	defer rc.Close()
	endpoint(t, c, rc.URL, "*")
	for i := 0; i < 5; i++ {
		publish(t, c, "visit.created", map[string]int{"n": i}, "")
	}
	publish(t, c, "visit.created", map[string]int{"n": 9}, "same")
	publish(t, c, "visit.created", map[string]int{"n": 9}, "same") // a duplicate: not counted
	var f map[string]*dto.MetricFamily
	e.eventually(func() bool {
		f = scrape(t, e.node.MetricsAddr())
		return counter(f, "slotwire_delivery_attempts_total", "succeeded") == 6
	})
	if n := counter(f, "slotwire_events_ingested_total", ""); n != 6 {
		t.Fatalf("events ingested = %v, want 6", n)
	}
	if h := f["slotwire_attempt_duration_seconds"].Metric[0].Histogram; h.GetSampleCount() != 6 {
		t.Fatalf("latency histogram count = %d", h.GetSampleCount())
	}
	for _, name := range []string{"slotwire_queue_depth", "slotwire_queue_oldest_pending_age_seconds", "slotwire_inflight_requests"} {
		if v := counter(f, name, ""); v != 0 {
			t.Errorf("%s = %v, want 0 once everything is delivered", name, v)
		}
	}
	resp, err := http.Get(e.node.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/metrics on the API listener: %d", resp.StatusCode)
	}
}
