package mongostore_test

import (
	"testing"
	"time"

	"github.com/digione/lrs/statements/mongostore"
)

// TestStore_CountLeasesForgets: CountLeases deletes every version of the
// prefix's leases that ended over an hour ago, and no live lease; a
// lease released before its ttl passed stays released.
func TestStore_CountLeasesForgets(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	s := MustOpenStore(t, newDatabase(), mongostore.WithNow(func() time.Time { return now }))
	ctx := t.Context()
	acquire := func(name, holder string, ttl time.Duration) {
		t.Helper()
		if ok, err := s.AcquireLease(ctx, name, holder, ttl); err != nil || !ok {
			t.Fatalf("AcquireLease(%s): %v, %v", name, ok, err)
		}
	}
	for range 3 {
		acquire("replica/dead", "dead", time.Minute) // three versions
	}
	acquire("replica/released", "released", 24*time.Hour)
	if err := s.ReleaseLease(ctx, "replica/released", "released"); err != nil {
		t.Fatal(err)
	}
	acquire("replica/live", "live", 3*time.Hour)
	acquire("relay:kafka", "p1", time.Minute) // another family: kept
	before, err := mongostore.LeaseVersions(ctx, s)
	if err != nil {
		t.Fatal(err)
	}

	now = now.Add(2 * time.Hour)
	for range 2 {
		if n, err := s.CountLeases(ctx, "replica/"); err != nil || n != 1 {
			t.Fatalf("CountLeases 2 h later: %d, %v, want 1 (live)", n, err)
		}
	}
	after, err := mongostore.LeaseVersions(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	// dead's 3 versions and released's 2 are gone.
	if got, want := after, before-5; got != want {
		t.Errorf("lease versions kept: %d, want %d (of %d)", got, want, before)
	}
	if n, err := s.CountLeases(ctx, "relay:"); err != nil || n != 0 {
		t.Errorf("CountLeases(relay:): %d, %v, want 0 (expired)", n, err)
	}
}
