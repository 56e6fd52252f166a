package forwarders

import (
	"fmt"
	"io"
	"time"
)

// SinkStats is the state of one sink as this process sees it.
type SinkStats struct {
	Sink string
	// Leader is true when this process holds the sink's lease and drives
	// it; the other fields are this process's own view.
	Leader bool
	// Cursor is the last position the sink acknowledged; Head the last
	// position in the log when it was last read.
	Cursor, Head int64
	// LagPositions is Head - Cursor; Lag the age of the oldest stored
	// statement not yet acknowledged (0 when caught up).
	LagPositions int64
	Lag          time.Duration
	// Sent counts statements acknowledged, Retried statements sent again
	// after a failure, Failed failed sends.
	Sent, Retried, Failed uint64
	// LastError is the error of the last send when it failed, and
	// FailingSince when the sink started failing; zero when it works.
	LastError    string
	FailingSince time.Time
}

// Stats returns the state of every sink, in the order of Config.Sinks.
func (r *Relay) Stats() []SinkStats {
	now := r.cfg.Now()
	out := make([]SinkStats, 0, len(r.sinks))
	for _, s := range r.sinks {
		s.mu.Lock()
		st := SinkStats{Sink: s.sink.Name(), Leader: s.leader, Cursor: s.cursor, Head: s.head,
			LagPositions: max(0, s.head-s.cursor), Sent: s.sent, Retried: s.retried, Failed: s.failed,
			LastError: s.lastErr, FailingSince: s.failingSince}
		if !s.oldest.IsZero() {
			st.Lag = max(0, now.Sub(s.oldest))
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Ready returns an error naming each sink that has been failing for longer
// than Config.FailingAfter; nil otherwise.
func (r *Relay) Ready() error {
	now := r.cfg.Now()
	var msg string
	for _, st := range r.Stats() {
		if !st.FailingSince.IsZero() && now.Sub(st.FailingSince) >= r.cfg.FailingAfter {
			if msg != "" {
				msg += "; "
			}
			msg += fmt.Sprintf("sink %s failing since %s: %s", st.Sink, st.FailingSince.UTC().Format(time.RFC3339), st.LastError)
		}
	}
	if msg == "" {
		return nil
	}
	return fmt.Errorf("%s", msg)
}

// WriteMetrics writes the relay's metrics in the Prometheus text format.
func (r *Relay) WriteMetrics(w io.Writer) error {
	stats := r.Stats()
	metric := func(name, typ, help string, value func(SinkStats) float64) error {
		if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ); err != nil {
			return err
		}
		for _, st := range stats {
			if _, err := fmt.Fprintf(w, "%s{sink=%q} %g\n", name, st.Sink, value(st)); err != nil {
				return err
			}
		}
		return nil
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, m := range []struct {
		name, typ, help string
		value           func(SinkStats) float64
	}{
		{"lrs_relay_leader", "gauge", "1 when this process drives the sink.", func(s SinkStats) float64 { return b(s.Leader) }},
		{"lrs_relay_cursor_position", "gauge", "Last log position the sink acknowledged.", func(s SinkStats) float64 { return float64(s.Cursor) }},
		{"lrs_relay_lag_positions", "gauge", "Stored statements the sink has not acknowledged.", func(s SinkStats) float64 { return float64(s.LagPositions) }},
		{"lrs_relay_lag_seconds", "gauge", "Age of the oldest stored statement the sink has not acknowledged.", func(s SinkStats) float64 { return s.Lag.Seconds() }},
		{"lrs_relay_sent_total", "counter", "Statements the sink acknowledged.", func(s SinkStats) float64 { return float64(s.Sent) }},
		{"lrs_relay_retried_total", "counter", "Statements sent again after a failure.", func(s SinkStats) float64 { return float64(s.Retried) }},
		{"lrs_relay_failed_total", "counter", "Failed sends to the sink.", func(s SinkStats) float64 { return float64(s.Failed) }},
		{"lrs_relay_failing", "gauge", "1 while the sink's last send failed.", func(s SinkStats) float64 { return b(!s.FailingSince.IsZero()) }},
	} {
		if err := metric(m.name, m.typ, m.help, m.value); err != nil {
			return err
		}
	}
	return nil
}
