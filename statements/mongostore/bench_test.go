package mongostore_test

import (
	"fmt"
	"testing"

	"github.com/digione/lrs/statements"
)

// BenchmarkStore_Insert stores batches of 10 statements (information only:
// FerretDB is no benchmark server).
func BenchmarkStore_Insert(b *testing.B) {
	s := MustOpenStore(b, newDatabase())
	n := 0
	for b.Loop() {
		batch := make([]*statements.Record, 10)
		for j := range batch {
			batch[j] = record(b, stmtOf(fmt.Sprint("learner", n%50), fmt.Sprint(n)))
			n++
		}
		if err := s.InsertStatements(b.Context(), "t", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "statements/s")
}

// BenchmarkStore_Query reads the newest page of 20 statements of one agent
// out of 1000.
func BenchmarkStore_Query(b *testing.B) {
	s := MustOpenStore(b, newDatabase())
	for i := range 100 {
		batch := make([]*statements.Record, 10)
		for j := range batch {
			batch[j] = record(b, stmtOf(fmt.Sprint("learner", (i*10+j)%10), fmt.Sprint(i, j)))
		}
		if err := s.InsertStatements(b.Context(), "t", batch); err != nil {
			b.Fatal(err)
		}
	}
	k, _ := statements.AgentKey([]byte(`{"mbox":"mailto:learner3@example.org"}`))
	for b.Loop() {
		p, err := s.QueryStatements(b.Context(), "t", statements.Filter{Agent: k, Limit: 20})
		if err != nil || len(p.Records) != 20 {
			b.Fatalf("%v, %d records", err, len(p.Records))
		}
	}
}
