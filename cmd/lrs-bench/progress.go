package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a progress bar on a terminal until stopped.
type progress struct {
	stopc chan struct{}
	done  chan struct{}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startProgress shows the progress of a phase on stderr when it is a
// terminal: toward total statements written, or toward dur.
func (b *bench) startProgress(label string, dur time.Duration, total int64) *progress {
	p := &progress{}
	if !b.cfg.Progress || !isTerminal(b.stderr) {
		return p
	}
	p.stopc, p.done = make(chan struct{}), make(chan struct{})
	start := time.Now()
	req0, w0, r0, f0 := b.requests.Load(), b.written.Load(), b.read.Load(), b.failed.Load()
	go func() {
		defer close(p.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stopc:
				fmt.Fprint(b.stderr, "\r\033[K")
				return
			case <-tick.C:
			}
			el := time.Since(start)
			req, wr, rd, fl := b.requests.Load()-req0, b.written.Load()-w0, b.read.Load()-r0, b.failed.Load()-f0
			frac := 0.0
			switch {
			case total > 0:
				frac = float64(wr) / float64(total)
			case dur > 0:
				frac = el.Seconds() / dur.Seconds()
			}
			frac = min(max(frac, 0), 1)
			const width = 30
			n := int(frac * width)
			bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
			s := el.Seconds()
			fmt.Fprintf(b.stderr, "\r\033[K%s [%s] %3.0f%% %5.1fs  req %d (%.0f/s)  written %d (%.0f/s)  read %d  errors %d",
				label, bar, 100*frac, s, req, float64(req)/s, wr, float64(wr)/s, rd, fl)
		}
	}()
	return p
}

func (p *progress) stop() {
	if p.stopc == nil {
		return
	}
	close(p.stopc)
	<-p.done
}
