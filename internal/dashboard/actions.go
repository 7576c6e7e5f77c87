package dashboard

import (
	"net/http"
	"net/url"
	"time"

	"github.com/slotwire/slotwire/client"
)

// notices are the messages a redirect after an action asks for (?m=).
var notices = map[string]string{
	"saved":    "Endpoint saved.",
	"enabled":  "Endpoint enabled: deliveries resume.",
	"disabled": "Endpoint disabled: nothing is sent until it is enabled again.",
	"deleted":  "Endpoint deleted.",
	"replayed": "Replay queued.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("m")] }

func (d *Dashboard) enableEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	d.setEnabled(w, r, s, true)
}

func (d *Dashboard) disableEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	d.setEnabled(w, r, s, false)
}

func (d *Dashboard) setEnabled(w http.ResponseWriter, r *http.Request, s *session, on bool) {
	id := r.PathValue("id")
	if _, err := s.client.UpdateEndpoint(r.Context(), id, client.EndpointInput{Enabled: &on}); err != nil {
		d.fail(w, r, s, err)
		return
	}
	m := map[bool]string{true: "enabled", false: "disabled"}[on]
	http.Redirect(w, r, "/endpoints/"+url.PathEscape(id)+"?m="+m, http.StatusSeeOther)
}

func (d *Dashboard) deleteEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	if err := s.client.DeleteEndpoint(r.Context(), r.PathValue("id")); err != nil {
		d.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/endpoints?m=deleted", http.StatusSeeOther)
}

// testEndpoint sends a test event and shows the receiver's answer.
func (d *Dashboard) testEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	res, err := s.client.TestEndpoint(r.Context(), r.PathValue("id"))
	if p := problem(err); p != "" {
		d.showEndpoint(w, r, s, endpointView{}, p)
		return
	}
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.showEndpoint(w, r, s, endpointView{Test: res}, "")
}

// revealSecret shows the signing secret, because the user asked.
func (d *Dashboard) revealSecret(w http.ResponseWriter, r *http.Request, s *session) {
	k, err := s.client.EndpointSigningKey(r.Context(), r.PathValue("id"))
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.showEndpoint(w, r, s, endpointView{Secret: k}, "")
}

// rotateSecret gives the endpoint a new secret (the old one signs too for
// the grace period chosen) and shows it once.
func (d *Dashboard) rotateSecret(w http.ResponseWriter, r *http.Request, s *session) {
	rot, err := s.client.RotateSecret(r.Context(), r.PathValue("id"), client.RotateInput{Grace: r.PostFormValue("grace")})
	if p := problem(err); p != "" {
		d.showEndpoint(w, r, s, endpointView{}, p)
		return
	}
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	d.showEndpoint(w, r, s, endpointView{Rotated: rot}, "")
}

// recoverEndpoint re-sends the endpoint's failed deliveries since the time
// chosen and shows their progress.
func (d *Dashboard) recoverEndpoint(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	since, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("since"), time.UTC)
	if err != nil {
		d.showEndpoint(w, r, s, endpointView{}, "Choose the time to recover from (UTC).")
		return
	}
	started := d.cfg.Now().UTC().Truncate(time.Second)
	n, err := s.client.Recover(r.Context(), id, since, started.Add(time.Second))
	if p := problem(err); p != "" {
		d.showEndpoint(w, r, s, endpointView{}, p)
		return
	}
	if err != nil {
		d.fail(w, r, s, err)
		return
	}
	q := url.Values{"started": {started.Format(time.RFC3339)}, "queued": {itoa(n)}}
	http.Redirect(w, r, "/endpoints/"+url.PathEscape(id)+"/recovery?"+q.Encode(), http.StatusSeeOther)
}
