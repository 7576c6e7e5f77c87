package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/signature"
)

// feedSettle keeps the newest deliveries out of the feed for a moment, so
// a transaction that commits late (several nodes write at once) cannot
// slip in behind a cursor a reader has already passed.
const feedSettle = 2 * time.Second

// FeedItem is one event as the endpoint was sent it: the exact body and
// the signature headers, signed now with the endpoint's current secret.
type FeedItem struct {
	DeliveryID string            `json:"delivery_id"`
	EventID    string            `json:"event_id"`
	EventType  string            `json:"event_type"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// Feed is a page of the pull feed; NextCursor is where to resume (the
// after given when nothing new arrived).
type Feed struct {
	Data       []FeedItem `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// maxFeedWait bounds the wait of a long poll, well inside the server's
// write timeout; feedPoll is how often a waiting request looks again.
const (
	maxFeedWait = 30 * time.Second
	feedPoll    = 200 * time.Millisecond
)

// endpointFeed is GET /v1/endpoints/{id}/feed: the pull twin of push, for
// receivers that were offline past the retry window, and the only way a
// pull endpoint receives. With wait, an empty page is held back until an
// item is available or the wait ends (a long poll).
func (s *Server) endpointFeed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	err := checkParams(q, "after", "limit", "wait")
	var e *slotwire.Endpoint
	if err == nil {
		e, err = s.scopedEndpoint(r, "read this endpoint's feed")
	}
	limit, wait := 100, time.Duration(0)
	if err == nil && q.Get("limit") != "" {
		if limit, err = strconv.Atoi(q.Get("limit")); err != nil || limit < 1 || limit > 100 {
			err = errorf(slotwire.ECodeInvalid, "limit must be a whole number from 1 to 100")
		}
	}
	if err == nil {
		wait, err = parseFeedWait(q.Get("wait"))
	}
	var out Feed
	if err == nil {
		out, err = s.feedPage(r, e, q.Get("after"), limit, wait)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

// parseFeedWait reads the wait of a long poll: a Go duration ("30s",
// "500ms") or whole seconds ("30"), from 0 (answer at once) to maxFeedWait.
func parseFeedWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		d, err = time.Duration(n)*time.Second, nerr
	}
	if err != nil || d < 0 || d > maxFeedWait {
		return 0, errorf(slotwire.ECodeInvalid, "wait must be a duration from 0s to %s (such as \"25s\", or whole seconds)", maxFeedWait)
	}
	return d, nil
}

// feedPage reads the page after the cursor; while it is empty and the
// wait lasts it looks again every feedPoll (or sooner when the server
// shuts down or the client goes away, answering the empty page).
func (s *Server) feedPage(r *http.Request, e *slotwire.Endpoint, after string, limit int, wait time.Duration) (Feed, error) {
	var end <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		end = t.C
	}
	for {
		now := s.cfg.Now().UTC()
		ds, err := s.cfg.Store.Feed(r.Context(), e.TenantID, e.ID, after, now.Add(-feedSettle), limit)
		if err != nil || len(ds) > 0 || end == nil {
			return s.feedItems(r, e, ds, after, now, err)
		}
		select {
		case <-time.After(feedPoll):
		case <-end:
			return s.feedItems(r, e, nil, after, now, nil)
		case <-r.Context().Done():
			return Feed{}, r.Context().Err()
		case <-s.closing:
			return s.feedItems(r, e, nil, after, now, nil)
		}
	}
}

// feedItems makes the page of ds; NextCursor is after when ds is empty.
func (s *Server) feedItems(r *http.Request, e *slotwire.Endpoint, ds []*slotwire.Delivery, after string, now time.Time, err error) (Feed, error) {
	out := Feed{Data: make([]FeedItem, 0, len(ds)), NextCursor: after}
	if err != nil {
		return out, err
	}
	for _, d := range ds {
		it, err := s.feedItem(r, e, d, now)
		if err != nil {
			return out, err
		}
		out.Data, out.NextCursor = append(out.Data, it), d.ID
	}
	return out, nil
}

// EndWaits answers the feed's long polls now, with what they have (the
// server is shutting down: http.Server.RegisterOnShutdown).
func (s *Server) EndWaits() { s.closeOnce.Do(func() { close(s.closing) }) }

func (s *Server) feedItem(r *http.Request, e *slotwire.Endpoint, d *slotwire.Delivery, now time.Time) (FeedItem, error) {
	body, err := s.bodyFor(r, e, d)
	if err != nil {
		return FeedItem{}, err
	}
	h := http.Header{}
	h.Set(signature.HeaderID, d.EventID)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	if err := dispatch.Sign(h, e, d.EventID, now, body); err != nil {
		return FeedItem{}, err
	}
	it := FeedItem{DeliveryID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status,
		CreatedAt: d.CreatedAt, Headers: map[string]string{}, Body: string(body)}
	for k := range h {
		it.Headers[strings.ToLower(k)] = h.Get(k)
	}
	return it, nil
}

// feedTokenPrefix marks a per-endpoint feed token.
const feedTokenPrefix = "ft_"

// createFeedToken is POST /v1/endpoints/{id}/feed-token: a new read token
// for the endpoint's feed only, shown once; the previous one stops working.
func (s *Server) createFeedToken(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "give this endpoint a feed token")
	token := feedTokenPrefix + strings.TrimPrefix(GenerateAPIKey(), "sk_")
	if err == nil {
		err = s.cfg.Store.SetFeedToken(r.Context(), e.TenantID, e.ID, HashKey(token))
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"feed_token": token})
}

// deleteFeedToken is DELETE /v1/endpoints/{id}/feed-token.
func (s *Server) deleteFeedToken(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "remove this endpoint's feed token")
	if err == nil {
		err = s.cfg.Store.SetFeedToken(r.Context(), e.TenantID, e.ID, "")
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// feedAuth lets the feed route take either a tenant API key (with its
// scopes) or the endpoint's own feed token, which opens nothing else.
func (s *Server) feedAuth(h http.HandlerFunc) http.Handler {
	withKey := s.requireTenant(h, false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r)
		if !strings.HasPrefix(token, feedTokenPrefix) {
			withKey.ServeHTTP(w, r)
			return
		}
		tenantID, endpointID, err := s.cfg.Store.FeedTokenEndpoint(r.Context(), HashKey(token))
		var t *slotwire.Tenant
		if err == nil && endpointID == r.PathValue("id") {
			t, err = s.cfg.Store.GetTenant(r.Context(), tenantID)
		}
		switch {
		case slotwire.ErrorCode(err) == slotwire.ECodeNotFound || (err == nil && t == nil):
			WriteError(w, errorf(slotwire.ECodeUnauthorized, "feed token is not valid for this endpoint"))
		case err != nil:
			s.internal(w, r, err)
		default:
			// The token reads this one endpoint's feed: inside this route it
			// holds every scope of the endpoint.
			k := &slotwire.APIKey{ID: "feed_token", TenantID: t.ID, Scopes: []string{scopes.Admin}}
			h(w, r.WithContext(httpx.WithKey(httpx.WithTenant(r.Context(), t), k)))
		}
	})
}
