package storetrace

import (
	"context"
	"time"

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

// SetRetention traces statements.Eraser.SetRetention.
func (s *Store) SetRetention(ctx context.Context, tenant string, days int) error {
	ctx, span := s.start(ctx, "SetRetention", AttrTenant.String(tenant))
	err := s.next.SetRetention(ctx, tenant, days)
	end(span, err)
	return err
}

// Retentions traces statements.Eraser.Retentions.
func (s *Store) Retentions(ctx context.Context) ([]statements.Retention, error) {
	ctx, span := s.start(ctx, "Retentions")
	rs, err := s.next.Retentions(ctx)
	records(span, len(rs))
	end(span, err)
	return rs, err
}

// EraseBefore traces statements.Eraser.EraseBefore.
func (s *Store) EraseBefore(ctx context.Context, tenant string, before time.Time, limit int) (int, []string, error) {
	ctx, span := s.start(ctx, "EraseBefore", AttrTenant.String(tenant))
	n, atts, err := s.next.EraseBefore(ctx, tenant, before, limit)
	records(span, n)
	end(span, err)
	return n, atts, err
}

// DeleteUnusedAttachments traces statements.Eraser.DeleteUnusedAttachments.
func (s *Store) DeleteUnusedAttachments(ctx context.Context, tenant string, hashes []string) (int, error) {
	ctx, span := s.start(ctx, "DeleteUnusedAttachments", AttrTenant.String(tenant))
	n, err := s.next.DeleteUnusedAttachments(ctx, tenant, hashes)
	records(span, n)
	end(span, err)
	return n, err
}

// DeleteTenant traces statements.Eraser.DeleteTenant.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) (bool, error) {
	ctx, span := s.start(ctx, "DeleteTenant", AttrTenant.String(tenant))
	done, err := s.next.DeleteTenant(ctx, tenant)
	end(span, err)
	return done, err
}

// EraseAuditBefore traces statements.Eraser.EraseAuditBefore.
func (s *Store) EraseAuditBefore(ctx context.Context, tenant string, before time.Time) (int, error) {
	ctx, span := s.start(ctx, "EraseAuditBefore", AttrTenant.String(tenant))
	n, err := s.next.EraseAuditBefore(ctx, tenant, before)
	records(span, n)
	end(span, err)
	return n, err
}
