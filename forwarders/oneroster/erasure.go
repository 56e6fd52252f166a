package oneroster

import (
	"context"

	"github.com/digione/lrs/forwarders"
	"github.com/digione/lrs/statements"
)

var _ forwarders.ErasureSink = (*Sink)(nil)

// ReceivesErasures marks the Sink as one that reads erasure entries.
func (s *Sink) ReceivesErasures() {}

// erased handles an erasure entry: with the tenant's RetractOnErasure,
// each erased statement's result is retracted as if it were voided;
// otherwise the results stay.
func (s *Sink) erased(ctx context.Context, cfg *TenantConfig, e statements.LogEntry) (due bool, err error) {
	if !cfg.RetractOnErasure {
		s.count(func(st *Stats) { st.Ignored++ })
		return false, nil
	}
	for _, id := range e.Erasure.Erased {
		d, err := s.retract(ctx, e.Tenant, id)
		if err != nil {
			return due, err
		}
		due = due || d
	}
	return due, nil
}
