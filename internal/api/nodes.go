package api

import (
	"math"
	"net/http"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// aliveBeats is how many heartbeat intervals a node may miss and still be
// alive.
const aliveBeats = 3

// NodeView is a node as GET /v1/nodes shows it.
type NodeView struct {
	ID          string    `json:"id"`
	Role        string    `json:"role"`
	Version     string    `json:"version"`
	Host        string    `json:"host"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	InFlight    int       `json:"inflight"`
	// Alive: the last heartbeat is at most three intervals old.
	Alive bool `json:"alive"`
}

// listNodes is GET /v1/nodes: the nodes sharing the database, by id.
func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	err := checkParams(r.URL.Query())
	var ns []store.NodeInfo
	if err == nil {
		ns, err = s.cfg.Store.ListNodes(r.Context())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	now, out := s.cfg.Now(), make([]NodeView, len(ns))
	for i, n := range ns {
		out[i] = NodeView{ID: n.ID, Role: n.Role, Version: n.Version, Host: n.Host, StartedAt: n.StartedAt,
			HeartbeatAt: n.HeartbeatAt, InFlight: n.InFlight, Alive: now.Sub(n.HeartbeatAt) <= aliveBeats*s.cfg.NodeInterval}
	}
	WriteJSON(w, http.StatusOK, List[NodeView]{Data: out})
}

// QueueView is GET /v1/queue's answer.
type QueueView struct {
	// Pending counts the deliveries waiting to be sent, due or not (a
	// retry waiting for its time included), on every node.
	Pending int `json:"pending"`
	// OldestCreatedAt is the creation time of the oldest pending delivery,
	// and OldestAgeSeconds its age (both null when none is pending).
	OldestCreatedAt  *time.Time `json:"oldest_created_at"`
	OldestAgeSeconds *float64   `json:"oldest_age_seconds"`
}

// queue is GET /v1/queue.
func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	err := checkParams(r.URL.Query())
	var b store.Backlog
	if err == nil {
		b, err = s.cfg.Store.Backlog(r.Context())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := QueueView{Pending: b.Pending}
	if !b.Oldest.IsZero() {
		age := math.Round(max(s.cfg.Now().Sub(b.Oldest).Seconds(), 0)*1000) / 1000
		v.OldestCreatedAt, v.OldestAgeSeconds = &b.Oldest, &age
	}
	WriteJSON(w, http.StatusOK, v)
}
