package dashboard

import (
	"net/http"

	"github.com/slotwire/slotwire/client"
)

func (d *Dashboard) statsPage(w http.ResponseWriter, r *http.Request, s *session) {
	st, err := s.client.Stats(r.Context())
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "stats.html", s, view{Title: "Statistics", Nav: "stats", Data: st})
}

func (d *Dashboard) catalogPage(w http.ResponseWriter, r *http.Request, s *session) {
	types, err := s.client.ListEventTypes(r.Context())
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "catalog.html", s, view{Title: "Event catalog", Nav: "catalog", Data: types})
}

// operatorView is the operator's overview: tenants with their figures,
// the nodes sharing the database, and the queue.
type operatorView struct {
	Tenants []client.TenantFigures
	Nodes   []client.Node
	Queue   *client.QueueStatus
}

func (d *Dashboard) operatorPage(w http.ResponseWriter, r *http.Request, s *session) {
	var v operatorView
	var err error
	ctx := r.Context()
	if v.Tenants, err = s.client.ListTenantFigures(ctx); err == nil {
		if v.Nodes, err = s.client.ListNodes(ctx); err == nil {
			v.Queue, err = s.client.Queue(ctx)
		}
	}
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "operator.html", s, view{Title: "Operator overview", Nav: "operator", Data: v})
}
