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

// operatorView is the operator's overview.
type operatorView struct {
	Tenants []client.Tenant
}

func (d *Dashboard) operatorPage(w http.ResponseWriter, r *http.Request, s *session) {
	tenants, err := s.client.ListTenants(r.Context())
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.render(w, r, http.StatusOK, "operator.html", s, view{Title: "Operator", Nav: "operator",
		Data: operatorView{Tenants: tenants}})
}
