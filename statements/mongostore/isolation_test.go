package mongostore_test

import (
	"testing"

	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/statements"
)

// TestIsolation runs the LRS's tenant isolation test over HTTP on the
// MongoDB store.
func TestIsolation(t *testing.T) {
	lrstest.Isolation(t, func(t *testing.T) statements.Store { return MustOpenStore(t, newDatabase()) })
}

// TestTenantDeletion runs the LRS's tenant deletion test over HTTP on the
// MongoDB store.
func TestTenantDeletion(t *testing.T) {
	lrstest.TenantDeletion(t, func(t *testing.T) statements.Store { return MustOpenStore(t, newDatabase()) })
}

// TestErasure runs the LRS's erasure isolation test over HTTP on the
// MongoDB store.
func TestErasure(t *testing.T) {
	lrstest.Erasure(t, func(t *testing.T) statements.Store { return MustOpenStore(t, newDatabase()) })
}
