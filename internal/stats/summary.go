package stats

import (
	"math"
	"time"
)

// Window is one window's figures.
type Window struct {
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Retrying  int64 `json:"retrying"`
	// SuccessRate is succeeded / (succeeded + failed): of the deliveries
	// that finished; null when none did.
	SuccessRate *float64 `json:"success_rate"`
	// P50MS and P95MS are attempt latency percentiles estimated from the
	// histogram; null without attempts.
	P50MS *float64 `json:"p50_ms"`
	P95MS *float64 `json:"p95_ms"`
}

// Hourly is one hour of the series.
type Hourly struct {
	Hour      time.Time `json:"hour"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
}

// Daily is one day (UTC) of the series.
type Daily struct {
	Day       time.Time `json:"day"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
}

// Summary is what GET …/stats answers.
type Summary struct {
	Windows       map[string]Window `json:"windows"`
	LastSuccessAt *time.Time        `json:"last_success_at"`
	LastFailureAt *time.Time        `json:"last_failure_at"`
	Hourly        []Hourly          `json:"hourly"`
	// Daily are the last 7 days (UTC), today's so far included.
	Daily []Daily `json:"daily"`
}

// Windows and their lengths: the 1 h window sums minute buckets, the
// others hour buckets (so they start at the top of an hour).
var windows = []struct {
	name  string
	res   string
	count int // buckets, the current one included
}{{"1h", Minute, 60}, {"24h", Hour, 24}, {"7d", Hour, 7 * 24}, {"30d", Hour, 30 * 24}}

// Since is the start of the oldest bucket Summarize reads at res.
func Since(now time.Time, res string) time.Time {
	if res == Minute {
		return now.Truncate(time.Minute).Add(-59 * time.Minute)
	}
	return now.Truncate(time.Hour).Add(-(30*24 - 1) * time.Hour)
}

// Summarize computes the windows, last times and the last 24 hours from
// minute and hour buckets (any order, several per start allowed).
func Summarize(minutes, hours []Bucket, now time.Time) Summary {
	s := Summary{Windows: map[string]Window{}}
	var last Counts
	for _, w := range windows {
		from, bs := Since(now, w.res), hours
		if w.res == Minute {
			bs = minutes
		} else {
			from = now.Truncate(time.Hour).Add(-time.Duration(w.count-1) * time.Hour)
		}
		var c Counts
		for i := range bs {
			if !bs[i].Start.Before(from) {
				c.Add(&bs[i].StatsCounts)
			}
		}
		s.Windows[w.name] = WindowOf(&c)
		last.Add(&c)
	}
	for i := range hours {
		last.Add(&hours[i].StatsCounts) // last times older than 30 d, if kept
	}
	s.LastSuccessAt, s.LastFailureAt = msTime(last.LastSuccess), msTime(last.LastFailure)
	s.Hourly, s.Daily = hourly(hours, now), daily(hours, now)
	return s
}

func hourly(hours []Bucket, now time.Time) []Hourly {
	first := now.Truncate(time.Hour).Add(-23 * time.Hour)
	out := make([]Hourly, 24)
	for i := range out {
		out[i].Hour = first.Add(time.Duration(i) * time.Hour).UTC()
	}
	for i := range hours {
		k := int(hours[i].Start.Sub(first) / time.Hour)
		if hours[i].Start.Before(first) || k >= 24 {
			continue
		}
		out[k].Succeeded += hours[i].Succeeded
		out[k].Failed += hours[i].Failed
		out[k].Retrying += hours[i].Retrying
	}
	return out
}

func daily(hours []Bucket, now time.Time) []Daily {
	const day = 24 * time.Hour
	first := now.UTC().Truncate(day).Add(-6 * day)
	out := make([]Daily, 7)
	for i := range out {
		out[i].Day = first.Add(time.Duration(i) * day)
	}
	for i := range hours {
		k := int(hours[i].Start.Sub(first) / day)
		if hours[i].Start.Before(first) || k >= 7 {
			continue
		}
		out[k].Succeeded += hours[i].Succeeded
		out[k].Failed += hours[i].Failed
		out[k].Retrying += hours[i].Retrying
	}
	return out
}

// DayStart is the start of the 24 h window at now: the hour buckets of the
// current hour and the 23 before it.
func DayStart(now time.Time) time.Time { return now.Truncate(time.Hour).Add(-23 * time.Hour) }

// WindowOf is a window's figures from the sum of its buckets.
func WindowOf(c *Counts) Window {
	w := Window{Succeeded: c.Succeeded, Failed: c.Failed, Retrying: c.Retrying}
	if done := c.Succeeded + c.Failed; done > 0 {
		r := float64(c.Succeeded) / float64(done)
		w.SuccessRate = &r
	}
	w.P50MS, w.P95MS = Percentile(&c.Latency, 0.50), Percentile(&c.Latency, 0.95)
	return w
}

// Percentile estimates the p-quantile of the histogram, interpolating
// linearly inside the bin where it falls; nil when it is empty. Above the
// last bound it answers the last bound.
func Percentile(h *[Bins]int64, p float64) *float64 {
	var total int64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return nil
	}
	rank := p * float64(total)
	var seen int64
	for i, n := range h {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		if i == len(LatencyBounds) {
			v := float64(LatencyBounds[i-1])
			return &v
		}
		lo := 0.0
		if i > 0 {
			lo = float64(LatencyBounds[i-1])
		}
		hi := float64(LatencyBounds[i])
		v := lo + (hi-lo)*(rank-float64(seen))/float64(n)
		v = math.Round(v*10) / 10
		return &v
	}
	return nil
}

func msTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}
