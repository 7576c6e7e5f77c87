package postgres_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind (pools,
// listeners and lock sessions must end with the store).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
