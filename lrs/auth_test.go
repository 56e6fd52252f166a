package lrs

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// countingStore counts credential look-ups; every other method is nil.
type countingStore struct {
	statements.Store
	cred    statements.Credential
	lookups atomic.Int32
}

func (s *countingStore) Credential(ctx context.Context, key string) (*statements.Credential, error) {
	s.lookups.Add(1)
	if key != s.cred.Key {
		return nil, statements.Errorf(statements.ENotFound, "no credential")
	}
	c := s.cred
	return &c, nil
}

func TestAuthenticator_ConcurrentFirstRequestsHashOnce(t *testing.T) {
	hash, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{cred: statements.Credential{Key: "k", Tenant: "t", SecretHash: hash, Scopes: []string{"all"}}}
	a := newAuthenticator(store, time.Minute, time.Now)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.verify(context.Background(), "k", "s3cret"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, want := store.lookups.Load(), int32(1); got != want {
		t.Errorf("%d credential checks for 16 concurrent first requests, want %d", got, want)
	}
	if _, err := a.verify(context.Background(), "k", "wrong"); statements.ErrorCode(err) != statements.EUnauthorized {
		t.Errorf("wrong secret after a cached success: err = %v, want unauthorized", err)
	}
	if _, err := a.verify(context.Background(), "nobody", "s3cret"); statements.ErrorCode(err) != statements.EUnauthorized {
		t.Errorf("unknown key: err = %v, want unauthorized", err)
	}
}
