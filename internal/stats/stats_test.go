package stats

import (
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

func TestBinsMatchBounds(t *testing.T) {
	if len(LatencyBounds)+1 != Bins {
		t.Fatalf("%d bounds for %d bins", len(LatencyBounds), Bins)
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		fill map[int64]int64 // latency ms -> attempts
		p    float64
		want float64
	}{
		{"one bin, half way", map[int64]int64{12: 10}, 0.5, 10.5}, // bin (8, 13]
		{"upper bin", map[int64]int64{1: 90, 100: 10}, 0.95, 116.5},
		{"above the last bound", map[int64]int64{60000: 3}, 0.5, 28657},
		{"first bin", map[int64]int64{0: 4}, 0.5, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h [Bins]int64
			for ms, n := range tt.fill {
				h[bin(ms)] += n
			}
			got := Percentile(&h, tt.p)
			if got == nil || *got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	var empty [Bins]int64
	if Percentile(&empty, 0.5) != nil {
		t.Fatal("empty histogram has a percentile")
	}
}

// Deltas move a delivery between counts in its creation bucket, and put
// attempts in theirs; filtered outcomes count nowhere.
func TestDeltas(t *testing.T) {
	created := time.Date(2026, 12, 5, 10, 59, 30, 0, time.UTC)
	at := created.Add(time.Minute) // the next hour
	o := func(status string, prior int, ms int64) store.Outcome {
		return store.Outcome{EndpointID: "ep", TenantID: "ten", CreatedAt: created, Prior: prior, Status: status,
			Attempt: slotwire.Attempt{At: at, DurationMS: ms}}
	}
	ds := Deltas([]store.Outcome{o(slotwire.StatusPending, 0, 5), o(slotwire.StatusSucceeded, 1, 5),
		o(slotwire.StatusPending, 1, 5), o(slotwire.StatusFailed, 2, 5), o(slotwire.StatusFiltered, 0, 0)})
	if len(ds) != 4 { // minute and hour, of creation and of the attempts
		t.Fatalf("%d deltas: %+v", len(ds), ds)
	}
	byKey := map[Key]Counts{}
	for _, d := range ds {
		byKey[d.StatsKey] = d.StatsCounts
	}
	c := byKey[Key{EndpointID: "ep", Res: Hour, Start: created.Truncate(time.Hour).UnixMilli()}]
	if c.Succeeded != 1 || c.Failed != 1 || c.Retrying != -1 || c.Latency != ([Bins]int64{}) {
		t.Fatalf("creation hour = %+v", c)
	}
	a := byKey[Key{EndpointID: "ep", Res: Hour, Start: at.Truncate(time.Hour).UnixMilli()}]
	if a.Latency[bin(5)] != 4 || a.LastSuccess != at.UnixMilli() || a.LastFailure != at.UnixMilli() || a.Succeeded != 0 {
		t.Fatalf("attempt hour = %+v", a)
	}
}

// Windows sum the buckets that started inside them: 1 h from minutes,
// the others from hours aligned to the hour.
func TestSummarizeWindows(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	b := func(start time.Time, ok int64) Bucket {
		return Bucket{Start: start, StatsCounts: Counts{Succeeded: ok}}
	}
	minutes := []Bucket{b(now.Add(-59*time.Minute), 1), b(now.Add(-61*time.Minute), 100)}
	hours := []Bucket{b(now.Truncate(time.Hour), 1), b(now.Truncate(time.Hour).Add(-23*time.Hour), 2),
		b(now.Truncate(time.Hour).Add(-24*time.Hour), 4), b(now.Truncate(time.Hour).Add(-29*24*time.Hour), 8),
		b(now.Truncate(time.Hour).Add(-31*24*time.Hour), 16)}
	s := Summarize(minutes, hours, now)
	want := map[string]int64{"1h": 1, "24h": 3, "7d": 7, "30d": 15}
	for name, n := range want {
		if s.Windows[name].Succeeded != n {
			t.Errorf("%s = %d, want %d", name, s.Windows[name].Succeeded, n)
		}
	}
	if len(s.Hourly) != 24 || s.Hourly[0].Succeeded != 2 || s.Hourly[23].Succeeded != 1 || !s.Hourly[23].Hour.Equal(now.Truncate(time.Hour)) {
		t.Fatalf("hourly = %+v", s.Hourly)
	}
	// Days are UTC days: today so far (1), yesterday (2 + 4); older ones
	// are outside the 7 days.
	if len(s.Daily) != 7 || s.Daily[6].Succeeded != 1 || s.Daily[5].Succeeded != 6 || s.Daily[0].Succeeded != 0 ||
		!s.Daily[6].Day.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)) || !s.Daily[0].Day.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("daily = %+v", s.Daily)
	}
}
