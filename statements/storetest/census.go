package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var countLeaseTests = []test{
	{"Count", testCountLeases},
	{"Prefix", testCountLeasesPrefix},
	{"Expiry", testCountLeasesExpiry},
	{"Renewal", testCountLeasesRenewal},
	{"Release", testCountLeasesRelease},
}

// mustCounter returns s as a statements.LeaseCounter; every store is one.
func mustCounter(t *testing.T, s statements.Store) statements.LeaseCounter {
	t.Helper()
	c, ok := s.(statements.LeaseCounter)
	if !ok {
		t.Fatalf("%T is no statements.LeaseCounter", s)
	}
	return c
}

func mustCount(t *testing.T, c statements.LeaseCounter, prefix string) int {
	t.Helper()
	n, err := c.CountLeases(t.Context(), prefix)
	if err != nil {
		t.Fatalf("CountLeases(%q): %v", prefix, err)
	}
	return n
}

func mustAcquire(t *testing.T, l statements.Log, name, holder string, ttl time.Duration) {
	t.Helper()
	ok, err := l.AcquireLease(t.Context(), name, holder, ttl)
	if err != nil || !ok {
		t.Fatalf("AcquireLease(%s, %s): %v, %v", name, holder, ok, err)
	}
}

func testCountLeases(t *testing.T, s statements.Store) {
	c := mustCounter(t, s)
	if got := mustCount(t, c, "replica/"); got != 0 {
		t.Fatalf("CountLeases of a store without leases: %d, want 0", got)
	}
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		mustAcquire(t, s, "replica/"+id, id, time.Minute)
	}
	// Renewing is no new lease; another holder's failed try counts nothing.
	mustAcquire(t, s, "replica/r0", "r0", time.Minute)
	if ok, err := s.AcquireLease(t.Context(), "replica/r1", "r9", time.Minute); err != nil || ok {
		t.Fatalf("AcquireLease of a held lease: %v, %v", ok, err)
	}
	if got, want := mustCount(t, c, "replica/"), 3; got != want {
		t.Errorf("CountLeases: got %d, want %d", got, want)
	}
}

func testCountLeasesPrefix(t *testing.T, s statements.Store) {
	c := mustCounter(t, s)
	for _, name := range []string{"replica/a", "replica/b", "replicas", "relay:kafka", "a.b/1", "axb/1", "a%/1", "a_/1"} {
		mustAcquire(t, s, name, "h-"+name, time.Minute)
	}
	for _, tc := range []struct {
		prefix string
		want   int
	}{
		{"replica/", 2},
		{"replica", 3},
		{"relay:", 1},
		{"a.b/", 1}, // not a pattern: "." is a dot
		{"a%", 1},
		{"a_", 1},
		{"nothing/", 0},
		{"", 8},
	} {
		if got := mustCount(t, c, tc.prefix); got != tc.want {
			t.Errorf("CountLeases(%q): got %d, want %d", tc.prefix, got, tc.want)
		}
	}
}

// leaseTTL is the ttl of the leases that expire in the tests: long
// enough for a slow store to take and count them in time.
const leaseTTL = time.Second

func testCountLeasesExpiry(t *testing.T, s statements.Store) {
	c := mustCounter(t, s)
	mustAcquire(t, s, "replica/short", "short", leaseTTL)
	mustAcquire(t, s, "replica/long", "long", time.Minute)
	if got := mustCount(t, c, "replica/"); got != 2 {
		t.Fatalf("CountLeases: got %d, want 2", got)
	}
	time.Sleep(leaseTTL + leaseTTL/2)
	if got := mustCount(t, c, "replica/"); got != 1 {
		t.Errorf("CountLeases after one lease expired: got %d, want 1", got)
	}
	// An expired lease may be taken again and then counts.
	mustAcquire(t, s, "replica/short", "other", time.Minute)
	if got := mustCount(t, c, "replica/"); got != 2 {
		t.Errorf("CountLeases after the expired lease was taken again: got %d, want 2", got)
	}
}

func testCountLeasesRenewal(t *testing.T, s statements.Store) {
	c := mustCounter(t, s)
	mustAcquire(t, s, "replica/renewed", "renewed", leaseTTL)
	mustAcquire(t, s, "replica/left", "left", leaseTTL)
	time.Sleep(leaseTTL * 6 / 10)
	mustAcquire(t, s, "replica/renewed", "renewed", leaseTTL)
	time.Sleep(leaseTTL * 6 / 10)
	// 1.2 ttl after both were taken: only the renewed one is live.
	if got := mustCount(t, c, "replica/"); got != 1 {
		t.Errorf("CountLeases: got %d, want 1 (the renewed lease)", got)
	}
}

func testCountLeasesRelease(t *testing.T, s statements.Store) {
	c := mustCounter(t, s)
	mustAcquire(t, s, "replica/a", "a", time.Minute)
	mustAcquire(t, s, "replica/b", "b", time.Minute)
	// Only the holder's release ends a lease.
	if err := s.ReleaseLease(t.Context(), "replica/a", "b"); err != nil {
		t.Fatalf("ReleaseLease by another: %v", err)
	}
	if got := mustCount(t, c, "replica/"); got != 2 {
		t.Errorf("CountLeases after another's release: got %d, want 2", got)
	}
	if err := s.ReleaseLease(t.Context(), "replica/a", "a"); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if got := mustCount(t, c, "replica/"); got != 1 {
		t.Errorf("CountLeases after a release: got %d, want 1", got)
	}
	mustAcquire(t, s, "replica/a", "a", time.Minute)
	if got := mustCount(t, c, "replica/"); got != 2 {
		t.Errorf("CountLeases after the lease was taken again: got %d, want 2", got)
	}
}

var sizeTests = []test{
	{"Grows", testSizeGrows},
}

func testSizeGrows(t *testing.T, s statements.Store) {
	z, ok := s.(statements.Sizer)
	if !ok {
		t.Fatalf("%T is no statements.Sizer", s)
	}
	size := func() statements.StoreSize {
		t.Helper()
		got, err := z.Size(t.Context())
		if err != nil {
			t.Fatalf("Size: %v", err)
		}
		if got.Statements < -1 || got.Bytes < 0 {
			t.Fatalf("Size: %+v", got)
		}
		return got
	}
	before := size()
	if before.Statements > 0 {
		t.Errorf("Size of an empty store: %d statements, want 0 or -1 (unknown)", before.Statements)
	}
	const n = 200
	rs := make([]*statements.Record, n)
	for i := range rs {
		rs[i] = rec(t, stmt(agent(fmt.Sprintf("learner%d", i)), "did", activity(fmt.Sprintf("a%d", i))))
	}
	mustInsert(t, s, tenantA, rs[:n/2]...)
	mustInsert(t, s, tenantB, rs[n/2:]...)
	after := size()
	if after.Bytes <= 0 {
		t.Errorf("Size with %d statements: %d bytes", n, after.Bytes)
	}
	switch {
	case after.Statements == -1:
		// The store cannot count: its bytes must show the statements.
		if after.Bytes <= before.Bytes {
			t.Errorf("Size: %d bytes after %d statements, %d before", after.Bytes, n, before.Bytes)
		}
	case after.Statements != n:
		t.Errorf("Size: got %d statements, want %d", after.Statements, n)
	}
}
