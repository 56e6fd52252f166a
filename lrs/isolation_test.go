package lrs_test

import (
	"testing"

	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

func TestIsolation_SQLite(t *testing.T) {
	lrstest.Isolation(t, func(t *testing.T) statements.Store {
		s, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestTenantDeletion_SQLite(t *testing.T) {
	lrstest.TenantDeletion(t, func(t *testing.T) statements.Store {
		s, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestErasure_SQLite(t *testing.T) {
	lrstest.Erasure(t, func(t *testing.T) statements.Store {
		s, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
