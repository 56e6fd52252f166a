package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// maxQueued bounds the requests an open-loop run keeps waiting for a
// worker; a due request past it is not sent and counted as an error
// ("backlog-full"), so that a stalled LRS cannot grow the tool without
// bound.
const maxQueued = 1 << 20

// runOpen runs the mode open-loop for cfg.Duration: a request falls due
// every 1/cfg.Rate seconds, whatever the LRS does, and waits in a queue
// for one of cfg.Concurrency workers; its latency runs from when it was
// due, so time spent queued behind a slow LRS is counted (no coordinated
// omission). Every request due is sent; the run ends when the last is
// answered.
func (b *bench) runOpen(ctx context.Context) *report {
	rctx := context.WithoutCancel(ctx) // an interrupt lets requests in flight finish
	due := make(chan time.Time, min(maxQueued, int(b.cfg.Rate*b.cfg.Duration.Seconds())+1))
	var backlog, maxBacklog atomic.Int64
	recs := make([]*recorder, b.cfg.Concurrency)
	var wg sync.WaitGroup
	prog := b.startProgress(b.cfg.Mode, b.cfg.Duration, 0)
	start := time.Now()
	for i := range recs {
		recs[i] = newRecorder()
		w := &worker{b: b, rec: recs[i], rnd: rand.New(rand.NewPCG(uint64(b.cfg.Seed), uint64(i)))}
		wg.Go(func() {
			for t := range due {
				backlog.Add(-1)
				w.writeNextDue(rctx, t)
			}
		})
	}
	interval := time.Duration(float64(time.Second) / b.cfg.Rate)
	offered, dropped := int64(0), int64(0)
	full := newRecorder()
	for i := int64(0); ; i++ {
		t := start.Add(time.Duration(i) * interval)
		if t.Sub(start) >= b.cfg.Duration || ctx.Err() != nil {
			break
		}
		if d := time.Until(t); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		offered++
		select {
		case due <- t:
			if n := backlog.Add(1); n > maxBacklog.Load() {
				maxBacklog.Store(n)
			}
		default:
			dropped++
			full.fail(full.op(b.writeOp()), "backlog-full", "more requests waiting than the tool keeps")
		}
	}
	close(due)
	wg.Wait()
	prog.stop()
	elapsed := time.Since(start)
	all := full
	for _, r := range recs {
		all.merge(r)
	}
	rep := newReport(all, elapsed)
	rep.Mode, rep.Concurrency, rep.XAPIVersion, rep.Seed = b.cfg.Mode, b.cfg.Concurrency, b.cfg.Version, b.cfg.Seed
	rep.BatchSize = b.cfg.BatchSize
	rep.Rate = b.cfg.Rate
	rep.OfferedPerSecond = round(float64(offered)/b.cfg.Duration.Seconds(), 1)
	mb := maxBacklog.Load()
	rep.MaxBacklog = &mb
	return rep
}

// writeOp is the name of the mode's writes.
func (b *bench) writeOp() string {
	if b.cfg.BatchSize == 1 {
		return opPost
	}
	return opBatch
}
