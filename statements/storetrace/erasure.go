package storetrace

import (
	"context"

	"github.com/digione/lrs/statements"
)

// ErasureKey traces statements.Eraser.ErasureKey.
func (s *Store) ErasureKey(ctx context.Context, tenant string) ([]byte, error) {
	ctx, span := s.start(ctx, "ErasureKey", AttrTenant.String(tenant))
	key, err := s.next.ErasureKey(ctx, tenant)
	end(span, err)
	return key, err
}

// EraseAgent traces statements.Eraser.EraseAgent; the span names the
// erasure, never the agent.
func (s *Store) EraseAgent(ctx context.Context, tenant string, e statements.Erasure) (*statements.ErasureReceipt, error) {
	ctx, span := s.start(ctx, "EraseAgent", AttrTenant.String(tenant), AttrErasure.String(e.ID))
	rc, err := s.next.EraseAgent(ctx, tenant, e)
	if rc != nil {
		records(span, rc.StatementsDeleted+rc.StatementsPseudonymised)
	}
	end(span, err)
	return rc, err
}

// ErasureReceipt traces statements.Eraser.ErasureReceipt.
func (s *Store) ErasureReceipt(ctx context.Context, tenant, id string) (*statements.ErasureReceipt, error) {
	ctx, span := s.start(ctx, "ErasureReceipt", AttrTenant.String(tenant), AttrErasure.String(id))
	rc, err := s.next.ErasureReceipt(ctx, tenant, id)
	end(span, err)
	return rc, err
}
