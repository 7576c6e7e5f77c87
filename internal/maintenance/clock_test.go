package maintenance_test

import (
	"sync/atomic"
	"time"
)

// atomicTime is a clock tests move.
type atomicTime struct{ v atomic.Int64 }

func (a *atomicTime) set(t time.Time) { a.v.Store(t.UnixNano()) }
func (a *atomicTime) get() time.Time  { return time.Unix(0, a.v.Load()) }
