package main

import "github.com/slotwire/slotwire/server"

// extensions lists the optional parts linked into this binary.
func extensions() []server.Extension { return nil }
