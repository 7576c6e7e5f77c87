package dashboard

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/slotwire/slotwire/client"
)

// bar is one column of a chart: its label and its stacked counts.
type bar struct {
	label, tip                  string
	succeeded, failed, retrying int64
}

func hourChart(hours []client.StatsHour) template.HTML {
	bars := make([]bar, len(hours))
	for i, h := range hours {
		bars[i] = bar{label: h.Hour.UTC().Format("15:04"), tip: h.Hour.UTC().Format("Jan 2 15:04 UTC"),
			succeeded: h.Succeeded, failed: h.Failed, retrying: h.Retrying}
	}
	return chart("Deliveries per hour, last 24 hours", bars)
}

func dayChart(days []client.StatsDay) template.HTML {
	bars := make([]bar, len(days))
	for i, d := range days {
		bars[i] = bar{label: d.Day.UTC().Format("Jan 2"), tip: d.Day.UTC().Format("Mon Jan 2 (UTC)"),
			succeeded: d.Succeeded, failed: d.Failed, retrying: d.Retrying}
	}
	return chart("Deliveries per day, last 7 days", bars)
}

// Chart geometry, in the SVG's own units; the SVG scales to its box.
const (
	chartW, chartH = 600, 180
	plotTop        = 10
	plotH          = 140
	labelY         = 172
)

// chart draws stacked bars (succeeded, failed, retrying) as an SVG with a
// text alternative: its title and each bar's figures.
func chart(title string, bars []bar) template.HTML {
	var peak int64
	var total [3]int64
	for _, b := range bars {
		peak = max(peak, b.succeeded+b.failed+b.retrying)
		total[0], total[1], total[2] = total[0]+b.succeeded, total[1]+b.failed, total[2]+b.retrying
	}
	scale := float64(plotH) / float64(max(peak, 1))
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s: %d succeeded, %d failed, %d retrying">`,
		chartW, chartH, chartW, chartH, template.HTMLEscapeString(title), total[0], total[1], total[2])
	fmt.Fprintf(&sb, `<title>%s</title>`, template.HTMLEscapeString(title))
	fmt.Fprintf(&sb, `<line x1="0" y1="%d" x2="%d" y2="%d" class="axis"/>`, plotTop+plotH, chartW, plotTop+plotH)
	fmt.Fprintf(&sb, `<text x="2" y="%d" class="peak">%d</text>`, plotTop+10, peak)
	slot := float64(chartW) / float64(max(len(bars), 1))
	every := max(1, len(bars)/6)
	for i, b := range bars {
		x := float64(i)*slot + slot*0.15
		y := float64(plotTop + plotH)
		fmt.Fprintf(&sb, `<g><title>%s: %d succeeded, %d failed, %d retrying</title>`,
			template.HTMLEscapeString(b.tip), b.succeeded, b.failed, b.retrying)
		for _, part := range []struct {
			n     int64
			class string
		}{{b.succeeded, "ok"}, {b.failed, "bad"}, {b.retrying, "wait"}} {
			h := float64(part.n) * scale
			y -= h
			if part.n > 0 {
				fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"/>`, x, y, slot*0.7, h, part.class)
			}
		}
		sb.WriteString(`</g>`)
		if i%every == 0 || i == len(bars)-1 {
			// Under its bar; the first and last stay inside the chart.
			anchor, lx := "middle", x+slot*0.35
			switch {
			case i == 0:
				anchor, lx = "start", x
			case i == len(bars)-1:
				anchor, lx = "end", x+slot*0.7
			}
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="%s" class="label">%s</text>`, lx, labelY, anchor,
				template.HTMLEscapeString(b.label))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
