package api

import (
	"context"
	"net/http"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/stats"
	"github.com/slotwire/slotwire/internal/store"
)

// endpointStats is GET /v1/endpoints/{id}/stats.
func (s *Server) endpointStats(w http.ResponseWriter, r *http.Request) {
	err := checkParams(r.URL.Query())
	var e *slotwire.Endpoint
	if err == nil {
		e, err = s.scopedEndpoint(r, "read this endpoint's statistics")
	}
	var sum stats.Summary
	if err == nil {
		sum, err = s.summary(r.Context(), e.TenantID, []string{e.ID})
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, sum)
}

// tenantStats is GET /v1/stats: every endpoint of the tenant, or those
// the key covers.
func (s *Server) tenantStats(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	err := checkParams(r.URL.Query())
	var all []*slotwire.Endpoint
	if err == nil {
		all, err = s.cfg.Store.ListEndpoints(r.Context(), t.ID, store.Page{Limit: 1 << 30})
	}
	var sum stats.Summary
	if err == nil {
		ids := []string{""} // the tenant's sums
		if visible := s.visibleEndpoints(r, all); len(visible) < len(all) {
			ids = ids[:0]
			for _, e := range visible {
				ids = append(ids, e.ID)
			}
		}
		sum, err = s.summary(r.Context(), t.ID, ids)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, sum)
}

// summary reads the minute and hour buckets of the endpoints ("" for
// all of the tenant's) and summarizes them.
func (s *Server) summary(ctx context.Context, tenantID string, endpointIDs []string) (stats.Summary, error) {
	now := s.cfg.Now()
	var minutes, hours []store.StatsBucket
	for _, id := range endpointIDs {
		m, err := s.cfg.Store.StatsBuckets(ctx, tenantID, id, stats.Minute, stats.Since(now, stats.Minute))
		if err != nil {
			return stats.Summary{}, err
		}
		h, err := s.cfg.Store.StatsBuckets(ctx, tenantID, id, stats.Hour, now.Add(-stats.HourKeep))
		if err != nil {
			return stats.Summary{}, err
		}
		minutes, hours = append(minutes, m...), append(hours, h...)
	}
	return stats.Summarize(minutes, hours, now.Truncate(time.Millisecond)), nil
}
