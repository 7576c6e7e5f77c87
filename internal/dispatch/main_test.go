package dispatch

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: a
// stopped dispatcher must have stopped every lane, loop and request.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
