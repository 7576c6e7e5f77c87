package receiver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// KeyOrder is a receiver handler that checks per-key ordering: events
// carry {"key":…,"seq":…} in their data, seq counting up from 1 per key in
// publish order. It fails the first try of every failEvery-th seq (0:
// never) with a 503, records every request, and reports violations:
// a key with two requests in flight at once, or a request for a seq lower
// than one already received for its key (a retry of the same seq, or a
// redelivery after a crash, is allowed).
type KeyOrder struct {
	failEvery int
	delay     time.Duration

	inflight, maxInflight atomic.Int64
	mu                    sync.Mutex
	keyBusy               map[string]bool
	last                  map[string]int // highest seq received per key
	done                  map[string]int // highest seq answered 2xx per key
	tries                 map[[2]any]int
	violations            []string
}

// NewKeyOrder returns a checker whose handler sleeps delay per request.
func NewKeyOrder(failEvery int, delay time.Duration) *KeyOrder {
	return &KeyOrder{failEvery: failEvery, delay: delay, keyBusy: map[string]bool{}, last: map[string]int{},
		done: map[string]int{}, tries: map[[2]any]int{}}
}

// Handle is the receiver's respond function.
func (k *KeyOrder) Handle(_ int, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Data struct {
			Key string `json:"key"`
			Seq int    `json:"seq"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		w.WriteHeader(400)
		return
	}
	key, seq := ev.Data.Key, ev.Data.Seq
	if n := k.inflight.Add(1); n > k.maxInflight.Load() {
		k.maxInflight.Store(n) // racy max is fine: it only needs to see > 1
	}
	defer k.inflight.Add(-1)
	fail := k.begin(key, seq)
	time.Sleep(k.delay)
	k.end(key, seq, !fail)
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (k *KeyOrder) begin(key string, seq int) (fail bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keyBusy[key] {
		k.violations = append(k.violations, fmt.Sprintf("key %s: seq %d sent while another request of the key was in flight", key, seq))
	}
	k.keyBusy[key] = true
	if seq < k.last[key] {
		k.violations = append(k.violations, fmt.Sprintf("key %s: seq %d arrived after seq %d", key, seq, k.last[key]))
	}
	k.last[key] = max(k.last[key], seq)
	t := [2]any{key, seq}
	k.tries[t]++
	return k.failEvery > 0 && seq%k.failEvery == 0 && k.tries[t] == 1
}

func (k *KeyOrder) end(key string, seq int, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keyBusy[key] = false
	if ok {
		k.done[key] = max(k.done[key], seq)
	}
}

// Done reports whether every key has had seq n answered 2xx.
func (k *KeyOrder) Done(keys []string, n int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range keys {
		if k.done[key] < n {
			return false
		}
	}
	return true
}

// Violations returns the ordering violations seen.
func (k *KeyOrder) Violations() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.violations...)
}

// MaxInflight is the most requests seen in flight at once, all keys.
func (k *KeyOrder) MaxInflight() int64 { return k.maxInflight.Load() }
