package main

import (
	"fmt"

	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/internal/store"
)

// extensions lists the optional parts linked into this binary: the
// scheduling core, whose changes emit events through the store's outbox.
func extensions() []server.Extension {
	return []server.Extension{func(n *server.Node) error {
		ob, ok := n.Store.(store.Outbox)
		if !ok {
			return fmt.Errorf("the scheduling core needs a store with an outbox")
		}
		svc := scheduling.New(scheduling.Config{Store: ob, Logger: n.Log.With("component", "scheduling"), Wake: n.Wake})
		svc.Register(n.API)
		n.AddValidator(scheduling.ValidateEvent)
		return nil
	}}
}
