package sqlitestore_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/digione/lrs/cmd/lrs-bench/gen"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
)

// benchStatement returns a statement of learner i: one of 1000 learners,
// 5 verbs, 200 activities in 20 courses, 100 registrations.
func benchStatement(i int) []byte {
	verbs := []string{"completed", "attempted", "passed", "failed", "experienced"}
	return fmt.Appendf(nil, `{"actor":{"objectType":"Agent","account":{"homePage":"https://id.example.org","name":"learner-%d"}},
		"verb":{"id":"https://example.org/verbs/%s","display":{"en-US":"%[2]s"}},
		"object":{"objectType":"Activity","id":"https://example.org/activities/%d","definition":{"name":{"en-US":"Activity"}}},
		"result":{"score":{"scaled":0.5},"success":true,"completion":true},
		"context":{"registration":"00000000-0000-4000-8000-%012d","contextActivities":{"parent":[{"id":"https://example.org/courses/%d"}]}}}`,
		i%1000, verbs[i%len(verbs)], i%200, i%100, i%20)
}

func benchRecords(b testing.TB, from, n int) []*statements.Record {
	rs := make([]*statements.Record, n)
	for i := range rs {
		rs[i] = storetest.Record(b, benchStatement(from+i))
	}
	return rs
}

func BenchmarkInsert(b *testing.B) {
	s := MustOpenStore(b, b.TempDir())
	rs := benchRecords(b, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := s.InsertStatements(b.Context(), "t", rs[i:i+1]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "statements/s")
}

// BenchmarkInsertConcurrent32 has 32 clients each storing one statement at
// a time, as single-statement POSTs at concurrency 32 do: group commit
// lets them share disk syncs.
func BenchmarkInsertConcurrent32(b *testing.B) {
	s := MustOpenStore(b, b.TempDir())
	rs := benchRecords(b, 0, b.N)
	var next atomic.Int64
	b.SetParallelism(16) // 16 x GOMAXPROCS(2) = 32 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if err := s.InsertStatements(b.Context(), "t", rs[i:i+1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "statements/s")
}

func BenchmarkInsertBatch100(b *testing.B) {
	s := MustOpenStore(b, b.TempDir())
	rs := benchRecords(b, 0, 100*b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := s.InsertStatements(b.Context(), "t", rs[100*i:100*i+100]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "statements/s")
}

// BenchmarkQueryAgent queries a store of 100,000 statements (10,000 with
// -short): each learner has 100 statements. Their postings are merged
// into the postings table before the queries.
func BenchmarkQueryAgent(b *testing.B) { queryAgent(b, false) }

// BenchmarkQueryAgentRecent queries the same statements with their
// postings in memory, not merged.
func BenchmarkQueryAgentRecent(b *testing.B) { queryAgent(b, true) }

func queryAgent(b *testing.B, recent bool) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	s := MustOpenStore(b, b.TempDir(), sqlitestore.WithMergeEvery(0))
	for i := 0; i < n; i += 5000 {
		if err := s.InsertStatements(b.Context(), "t", benchRecords(b, i, min(5000, n-i))); err != nil {
			b.Fatal(err)
		}
	}
	if !recent {
		if err := sqlitestore.MergeAll(b.Context(), s); err != nil {
			b.Fatal(err)
		}
	}
	learner := func(i int) string {
		k, err := statements.AgentKey(fmt.Appendf(nil, `{"account":{"homePage":"https://id.example.org","name":"learner-%d"}}`, i))
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	cases := []struct {
		name string
		f    func(i int) statements.Filter
	}{
		{"agent/limit=10", func(i int) statements.Filter { return statements.Filter{Agent: learner(i % 1000), Limit: 10} }},
		{"agent/limit=100", func(i int) statements.Filter { return statements.Filter{Agent: learner(i % 1000), Limit: 100} }},
		{"agent+verb/limit=10", func(i int) statements.Filter {
			verbs := []string{"completed", "attempted", "passed", "failed", "experienced"}
			return statements.Filter{Agent: learner(i % 1000), Verb: "https://example.org/verbs/" + verbs[i%1000%5], Limit: 10}
		}},
		{"agent+related activity/limit=10", func(i int) statements.Filter {
			return statements.Filter{Agent: learner(i % 1000), Activity: "https://example.org/courses/" + fmt.Sprint(i%20),
				RelatedActivities: true, Limit: 10}
		}},
		{"agent ascending/limit=10", func(i int) statements.Filter {
			return statements.Filter{Agent: learner(i % 1000), Limit: 10, Ascending: true}
		}},
		{"none/limit=10", func(i int) statements.Filter { return statements.Filter{Limit: 10} }},
		{"none/limit=500", func(i int) statements.Filter { return statements.Filter{} }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				p, err := s.QueryStatements(b.Context(), "t", c.f(i))
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Records) == 0 {
					b.Fatal("no records")
				}
				i += 7
			}
		})
	}
}

// genRecords returns n records of generated statements (cmd/lrs-bench/gen,
// seed 1): about 1.6 KB and a dozen terms each, as the load tests send.
// Past the first 10,000 the statements repeat under new ids, so that a
// long run does not keep gigabytes of statements alive for the garbage
// collector to mark.
func genRecords(b *testing.B, n int) []*statements.Record {
	g, err := gen.New(gen.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const distinct = 10_000
	rs := make([]*statements.Record, n)
	for i := range rs {
		if i < distinct {
			rs[i] = storetest.Record(b, g.Statement(uint64(i)).JSON)
			continue
		}
		r := *rs[i%distinct]
		r.ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i/distinct, i%distinct)
		rs[i] = &r
	}
	return rs
}

// BenchmarkInsertGenBatch100 has 8 clients each storing batches of 100
// generated statements, as `lrs-bench --mode batch --concurrency 8` does.
// An op is one batch.
func BenchmarkInsertGenBatch100(b *testing.B) {
	insertGenParallel(b, 8, 100)
}

// insertGenParallel has clients store generated statements, size per
// request, one request per op, and reports statements/s and the process's
// CPU per statement.
func insertGenParallel(b *testing.B, clients, size int) {
	s := MustOpenStore(b, b.TempDir())
	rs := genRecords(b, size*b.N)
	var next atomic.Int64
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			if err := s.InsertStatements(b.Context(), "t", rs[size*i:size*i+size]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	// The postings left in memory are merged into the table within the
	// measure: their cost is the statements'.
	if err := sqlitestore.MergeAll(b.Context(), s); err != nil {
		b.Fatal(err)
	}
	n := float64(size * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "statements/s")
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/n, "cpu-µs/statement")
}

// processCPU returns the CPU time the process has used so far: on a
// machine shared with other work it says more than the elapsed time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertGenConcurrent32 has 32 clients each storing one generated
// statement at a time, as single-statement POSTs at concurrency 32 do.
func BenchmarkInsertGenConcurrent32(b *testing.B) {
	insertGenParallel(b, 32, 1)
}
