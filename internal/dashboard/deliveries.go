package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slotwire/slotwire/client"
)

// logFilter is the delivery log's filter form.
type logFilter struct {
	EndpointID, Status, EventType, Since, Until string
}

// deliveriesPage is the delivery log of the tenant, or of one endpoint
// (?endpoint_id=), newest first, filtered.
func (d *Dashboard) deliveriesPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := logFilter{EndpointID: q.Get("endpoint_id"), Status: q.Get("status"), EventType: q.Get("event_type"),
		Since: q.Get("since"), Until: q.Get("until")}
	query := client.DeliveryQuery{EndpointID: f.EndpointID, Status: f.Status, EventType: f.EventType,
		Cursor: q.Get("cursor"), Limit: 50}
	var bad string
	for _, t := range []struct {
		text string
		to   *time.Time
	}{{f.Since, &query.Since}, {f.Until, &query.Until}} {
		if t.text == "" {
			continue
		}
		v, err := time.ParseInLocation("2006-01-02T15:04", t.text, time.UTC)
		if err != nil {
			bad = "Times are given as YYYY-MM-DDTHH:MM (UTC)."
			continue
		}
		*t.to = v
	}
	page, err := s.client.SearchDeliveries(r.Context(), query)
	if err != nil && problem(err) == "" {
		d.fail(w, r, s, err)
		return
	}
	if err != nil {
		bad, page = problem(err), &client.Page[client.Delivery]{}
	}
	var ep *client.Endpoint
	if f.EndpointID != "" {
		if ep, err = s.client.GetEndpoint(r.Context(), f.EndpointID); err != nil {
			d.fail(w, r, s, err)
			return
		}
	}
	next := ""
	if page.NextCursor != "" {
		q.Set("cursor", page.NextCursor)
		next = "/deliveries?" + q.Encode()
	}
	d.render(w, r, http.StatusOK, "deliveries.html", s, view{Title: "Deliveries", Nav: "deliveries", Error: bad,
		Data: struct {
			Filter   logFilter
			Endpoint *client.Endpoint
			Rows     []logRow
			Next     string
		}{f, ep, withLatency(r.Context(), s, page.Data), next}})
}

// logRow is a delivery in a log, with its last attempt's latency.
type logRow struct {
	client.Delivery
	Latency string
}

// withLatency reads each delivery's attempts for the latency of its last
// one (the list of deliveries does not carry it).
func withLatency(ctx context.Context, s *session, ds []client.Delivery) []logRow {
	rows := make([]logRow, len(ds))
	for i := range ds {
		rows[i] = logRow{Delivery: ds[i], Latency: "–"}
		if ds[i].Attempts == 0 {
			continue
		}
		if det, err := s.client.GetDelivery(ctx, ds[i].ID); err == nil && len(det.AttemptLog) > 0 {
			rows[i].Latency = strconv.FormatInt(det.AttemptLog[len(det.AttemptLog)-1].DurationMS, 10) + " ms"
		}
	}
	return rows
}

// deliveryView is a delivery's page: its attempts with the raw request
// and response.
type deliveryView struct {
	D        *client.DeliveryDetail
	Endpoint *client.Endpoint
	Body     string
	Replays  []client.Delivery
}

func (d *Dashboard) deliveryPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	det, err := s.client.GetDelivery(ctx, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	v := deliveryView{D: det}
	if v.Endpoint, err = s.client.GetEndpoint(ctx, det.EndpointID); err != nil {
		d.fail(w, r, s, err)
		return
	}
	if det.ArchivedAt == nil {
		body, err := s.client.DeliveryPayload(ctx, det.ID)
		if err != nil && problem(err) == "" {
			d.fail(w, r, s, err)
			return
		}
		v.Body = string(body)
	}
	if det.ReplayCount > 0 {
		if page, err := s.client.SearchDeliveries(ctx, client.DeliveryQuery{EndpointID: det.EndpointID,
			EventID: det.EventID, Limit: 20}); err == nil {
			for _, x := range page.Data {
				if x.ReplayOf == det.ID {
					v.Replays = append(v.Replays, x)
				}
			}
		}
	}
	d.render(w, r, http.StatusOK, "delivery.html", s, view{Title: "Delivery " + det.ID, Nav: "deliveries",
		Data: v, Notice: notice(r)})
}

// downloadDelivery sends the body as the receiver got it, as a file.
func (d *Dashboard) downloadDelivery(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	body, err := s.client.DeliveryPayload(r.Context(), id)
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.json"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// replayDelivery queues the delivery again and opens the replay.
func (d *Dashboard) replayDelivery(w http.ResponseWriter, r *http.Request, s *session) {
	rep, err := s.client.Replay(r.Context(), r.PathValue("id"))
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/deliveries/"+url.PathEscape(rep.ID)+"?m=replayed", http.StatusSeeOther)
}

// recoveryPage follows the replays a recovery queued: those of the
// endpoint created since it started.
func (d *Dashboard) recoveryPage(w http.ResponseWriter, r *http.Request, s *session) {
	id, q := r.PathValue("id"), r.URL.Query()
	started, err := time.Parse(time.RFC3339, q.Get("started"))
	queued, err2 := strconv.Atoi(q.Get("queued"))
	if err != nil || err2 != nil {
		http.Redirect(w, r, "/endpoints/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	p := recovery{EndpointID: id, Queued: queued}
	cursor := ""
	for {
		page, err := s.client.SearchDeliveries(r.Context(), client.DeliveryQuery{EndpointID: id, Since: started, Cursor: cursor, Limit: 1000})
		if err != nil {
			d.fail(w, r, s, err)
			return
		}
		p.count(page.Data)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	d.render(w, r, http.StatusOK, "recovery.html", s, view{Title: "Recovery", Nav: "endpoints", Data: p})
}

// recovery is a recovery's progress.
type recovery struct {
	EndpointID                      string
	Queued, Succeeded, Failed, Seen int
}

func (p *recovery) count(ds []client.Delivery) {
	for _, x := range ds {
		if x.ReplayOf == "" {
			continue
		}
		p.Seen++
		switch x.Status {
		case client.StatusSucceeded, client.StatusFiltered:
			p.Succeeded++
		case client.StatusFailed:
			p.Failed++
		}
	}
}

// Done is how many replays finished; Finished says all did.
func (p recovery) Done() int      { return p.Succeeded + p.Failed }
func (p recovery) Finished() bool { return p.Done() >= p.Queued }

func itoa(n int) string { return strconv.Itoa(n) }
