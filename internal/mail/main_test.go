package mail_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a send leaves a goroutine (a session)
// behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
