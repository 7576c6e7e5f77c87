package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// spaceDuration is how long scenario 10 loads (× scale), spaceRate its
// events per second, spaceSample how often it reads the file's size.
const (
	spaceDuration = 10 * time.Minute
	spaceRate     = 200
	spaceSample   = 30 * time.Second
)

// space (scenario 10) runs a steady load against two SQLite nodes side by
// side, both with --retention 1m, one also with --delete-after 2m, and
// reads their files' sizes (database and WAL) as it goes: with retention
// applying, the file must level off.
func (b *bencher) space(ctx context.Context) ([]Result, error) {
	variants := []struct {
		name  string
		flags []string
	}{
		{"10 file size, --retention 1m", []string{"--retention", "1m"}},
		{"10 file size, --retention 1m --delete-after 2m", []string{"--retention", "1m", "--delete-after", "2m"}},
	}
	dur := time.Duration(float64(spaceDuration) * b.o.Scale)
	out := make([]Result, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = b.spaceRun(ctx, v.name, v.flags, dur)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *bencher) spaceRun(ctx context.Context, name string, flags []string, dur time.Duration) (Result, error) {
	n, err := b.startNode(ctx, flags...)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	rc, err := newRecv(false, false)
	if err != nil {
		return Result{}, err
	}
	defer rc.Close()
	if _, err := n.endpoint(rc.URL(), []string{"*"}, true); err != nil {
		return Result{}, err
	}
	m := map[string]float64{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for t := spaceSample; t <= dur; t += spaceSample {
			time.Sleep(spaceSample)
			m[fmt.Sprintf("mib_at_%03ds", int(t.Seconds()))] = fileMiB(n.dir)
		}
	}()
	_, total, perr := steady(n, spaceRate, dur, func(int) string { return "booking.created" })
	<-done
	m["events"], m["delivered"] = float64(total), float64(rc.count.Load())
	r := Result{Scenario: name, Metrics: m}
	if perr != nil {
		r.Notes = "publish error: " + perr.Error()
	}
	return r, nil
}
