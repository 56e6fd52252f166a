package sqlitestore_test

import (
	"testing"
	"time"

	"github.com/digione/lrs/statements/storetest"
)

// BenchmarkReplaceRoster replaces a municipality's roster: 20,000 users,
// 1,500 classes, 60,000 enrollments, over a roster of the same size.
func BenchmarkReplaceRoster(b *testing.B) {
	s := MustOpenStore(b, b.TempDir())
	r := storetest.BigRoster(20000, 1500, 60000)
	if err := s.ReplaceRoster(b.Context(), "t", r); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		r.Synced = r.Synced.Add(time.Hour)
		if err := s.ReplaceRoster(b.Context(), "t", r); err != nil {
			b.Fatal(err)
		}
	}
}
