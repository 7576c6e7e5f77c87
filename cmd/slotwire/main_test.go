package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: a node
// that stopped must have stopped everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
