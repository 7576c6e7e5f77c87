package dashboard

import (
	"net/http"
	"net/url"
	"time"

	"github.com/slotwire/slotwire/client"
)

// endpointRow is an endpoint in the list with its figures.
type endpointRow struct {
	client.Endpoint
	SuccessRate *float64
	Last        *client.Delivery
}

// target is what an endpoint delivers to, as the list, the links and the
// titles show it.
func target(e client.Endpoint) string {
	switch e.Type {
	case "email":
		return e.Email
	case "pull":
		return "Pull feed " + e.ID
	}
	return e.URL
}

func (d *Dashboard) endpointsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	page, err := s.client.ListEndpoints(ctx, r.URL.Query().Get("cursor"), 50)
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	rows := make([]endpointRow, len(page.Data))
	for i := range page.Data {
		rows[i].Endpoint = page.Data[i]
		if st, err := s.client.EndpointStats(ctx, page.Data[i].ID); err == nil {
			rows[i].SuccessRate = st.Windows["24h"].SuccessRate
		}
		last, err := s.client.SearchDeliveries(ctx, client.DeliveryQuery{EndpointID: page.Data[i].ID, Limit: 1})
		if err == nil && len(last.Data) == 1 {
			rows[i].Last = &last.Data[0]
		}
	}
	d.render(w, r, http.StatusOK, "endpoints.html", s, view{Title: "Endpoints", Nav: "endpoints",
		Notice: notice(r), Data: struct {
			Rows []endpointRow
			Next string
		}{rows, page.NextCursor}})
}

// endpointView is an endpoint's page.
type endpointView struct {
	E          *client.Endpoint
	Stats      *client.Stats
	Recent     []logRow
	Test       *client.TestResult
	Secret     *client.SigningKey
	Rotated    *client.RotatedSecret
	RecoverMin string
}

func (d *Dashboard) endpointPage(w http.ResponseWriter, r *http.Request, s *session) {
	d.showEndpoint(w, r, s, endpointView{}, "")
}

// showEndpoint renders an endpoint's page with what an action left (a test
// answer, a revealed secret) or a problem.
func (d *Dashboard) showEndpoint(w http.ResponseWriter, r *http.Request, s *session, v endpointView, problem string) {
	ctx, id := r.Context(), r.PathValue("id")
	e, err := s.client.GetEndpoint(ctx, id)
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	v.E = e
	if v.Stats, err = s.client.EndpointStats(ctx, id); err != nil {
		d.fail(w, r, s, err)
		return
	}
	recent, err := s.client.SearchDeliveries(ctx, client.DeliveryQuery{EndpointID: id, Limit: 10})
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	v.Recent = withLatency(ctx, s, recent.Data)
	v.RecoverMin = d.cfg.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04")
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	d.render(w, r, status, "endpoint.html", s, view{Title: target(*e), Nav: "endpoints", Data: v,
		Error: problem, Notice: notice(r)})
}

func (d *Dashboard) newEndpointPage(w http.ResponseWriter, r *http.Request, s *session) {
	f := endpointForm{Type: "http", AuthType: "none", SignatureProfile: "standard", PayloadFormat: "nested",
		EventTypes: []string{"*"}}
	d.showForm(w, r, s, f, http.StatusOK, "")
}

func (d *Dashboard) editEndpointPage(w http.ResponseWriter, r *http.Request, s *session) {
	e, err := s.client.GetEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.showForm(w, r, s, formOf(e), http.StatusOK, "")
}

// showForm renders the endpoint form with the catalog to pick from.
func (d *Dashboard) showForm(w http.ResponseWriter, r *http.Request, s *session, f endpointForm, status int, problem string) {
	if f.Catalog == nil {
		catalog, err := s.client.ListEventTypes(r.Context())
		if err != nil {
			d.fail(w, r, s, err)
			return
		}
		f.Catalog = catalog
	}
	title := "New endpoint"
	if f.ID != "" {
		title = "Edit endpoint"
	}
	d.render(w, r, status, "endpoint_form.html", s, view{Title: title, Nav: "endpoints", Data: f, Error: problem})
}

func (d *Dashboard) createEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	d.saveEndpoint(w, r, s, "")
}

func (d *Dashboard) updateEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	d.saveEndpoint(w, r, s, r.PathValue("id"))
}

// saveEndpoint creates or updates an endpoint from the form, or, for the
// form's "Try it" button, shows what the filter and transform make of the
// example event. The catalog is read only to show the form again.
func (d *Dashboard) saveEndpoint(w http.ResponseWriter, r *http.Request, s *session, id string) {
	f := readForm(r, id)
	if r.PostFormValue("action") == "preview" {
		d.preview(r, s, &f)
		d.showForm(w, r, s, f, http.StatusOK, "")
		return
	}
	in, bad := f.input(r, id == "")
	if bad != "" {
		d.showForm(w, r, s, f, http.StatusBadRequest, bad)
		return
	}
	var saved *client.Endpoint
	var err error
	if id == "" {
		var created *client.EndpointWithSecret
		if created, err = s.client.CreateEndpoint(r.Context(), in); err == nil {
			saved = &created.Endpoint
		}
	} else {
		saved, err = s.client.UpdateEndpoint(r.Context(), id, in)
	}
	if p := problem(err); p != "" {
		d.showForm(w, r, s, f, http.StatusBadRequest, p)
		return
	}
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/endpoints/"+url.PathEscape(saved.ID)+"?m=saved", http.StatusSeeOther)
}

// preview runs the form's filter and transform on the chosen type's example.
func (d *Dashboard) preview(r *http.Request, s *session, f *endpointForm) {
	typ := f.PreviewType
	if typ == "" {
		for _, t := range f.types() {
			if t != "*" && !isPattern(t) {
				typ = t
				break
			}
		}
	}
	if typ == "" {
		if catalog, err := s.client.ListEventTypes(r.Context()); err == nil && len(catalog) > 0 {
			typ = catalog[0].Type
		}
	}
	f.PreviewType = typ
	p, err := s.client.PreviewEndpoint(r.Context(), client.PreviewInput{EventType: typ, Filter: f.Filter,
		Transform: f.Transform, PayloadFormat: f.PayloadFormat})
	if err != nil {
		f.PreviewError = problem(err)
		if f.PreviewError == "" {
			f.PreviewError = "The preview failed: " + err.Error()
		}
		return
	}
	f.Preview = p
}

func isPattern(t string) bool { return len(t) > 0 && t[len(t)-1] == '*' }
