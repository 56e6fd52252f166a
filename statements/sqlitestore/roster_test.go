package sqlitestore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

// BenchmarkReplaceRoster replaces a municipality's roster (20,000 users,
// 1,500 classes, 60,000 enrollments) and a school's (1,000 users, 60
// classes, 3,000 enrollments), each over a roster of the same size, while
// a client writes a statement every 20 ms; max-write-ms is the longest
// such write.
func BenchmarkReplaceRoster(b *testing.B) {
	for _, size := range []struct {
		name                        string
		users, classes, enrollments int
	}{{"Municipality", 20000, 1500, 60000}, {"School", 1000, 60, 3000}} {
		b.Run(size.name, func(b *testing.B) { benchmarkReplaceRoster(b, size.users, size.classes, size.enrollments) })
	}
}

func benchmarkReplaceRoster(b *testing.B, users, classes, enrollments int) {
	s := MustOpenStore(b, b.TempDir())
	r := storetest.BigRoster(users, classes, enrollments)
	if err := s.ReplaceRoster(b.Context(), "t", r); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var longest atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			if err := s.InsertStatements(b.Context(), "t", []*statements.Record{storetest.Record(b, benchStatement(i))}); err != nil {
				b.Error(err)
				return
			}
			if d := time.Since(start); d.Milliseconds() > longest.Load() {
				longest.Store(d.Milliseconds())
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		r.Synced = r.Synced.Add(time.Hour)
		if err := s.ReplaceRoster(b.Context(), "t", r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(longest.Load()), "max-write-ms")
}

// BenchmarkRosterQueries reads a municipality's roster the way the roster
// rule does: a person by identity, a teacher's classes, a class's
// students, a school's students.
func BenchmarkRosterQueries(b *testing.B) {
	s := MustOpenStore(b, b.TempDir())
	r := storetest.BigRoster(20000, 1500, 60000)
	if err := s.ReplaceRoster(b.Context(), "t", r); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.Run("RosterPerson", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.RosterPerson(ctx, "t", r.Users[i%len(r.Users)].Identities[1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClassesOf", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.ClassesOf(ctx, "t", r.Users[i%1333].SourcedID, "teacher"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClassMembers", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.ClassMembers(ctx, "t", r.Classes[i%len(r.Classes)].SourcedID, "student"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("OrgMembers", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.OrgMembers(ctx, "t", r.Orgs[1+i%40].SourcedID, "student"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
