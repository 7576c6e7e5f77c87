package main

import (
	"context"

	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// modules lists the migration sets of the optional parts linked into this
// binary: the scheduling core's tables.
func modules() []store.Module { return []store.Module{scheduling.Module} }

// extensions lists the optional parts linked into this binary: the
// scheduling core, whose changes emit events through the store's
// transactional outbox and whose records an erasure also rewrites.
func extensions() []server.Extension {
	return []server.Extension{func(n *server.Node) error {
		cfg := scheduling.Config{Store: n.Store, Logger: n.Log.With("component", "scheduling"), Wake: n.Wake,
			Box: n.Box, Guard: &netguard.Guard{AllowPrivate: n.Config.AllowPrivateEndpoints},
			EndpointOffsets: sqlstore.EndpointOffsets, Retention: n.Config.Delivery.Retention}
		if n.Mail != nil {
			cfg.Mailer = n.Mail // never a typed nil: no server means no Mailer
		}
		svc := scheduling.New(cfg)
		svc.Register(n.API)
		n.OnOffsetsChanged(svc.ResyncTimers)
		n.AddValidator(scheduling.ValidateEvent)
		scheduling.RegisterScopes(n.Scopes)
		n.AddSampler(scheduling.Sample)
		n.AddCatalog(scheduling.CatalogSource{})
		n.AddEraser(svc.Eraser())
		if n.Config.Role != server.RoleAPI {
			// Timers fire on every node that delivers; each fires once.
			timers := svc.Timers()
			timers.Start(context.Background())
			n.OnStop(timers.Stop)
		}
		return nil
	}}
}
