package lrs

import (
	"context"
	"strings"
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

// TestAuthenticator_EveryFailurePaysTheHash: an unknown key, a revoked
// credential and a wrong secret each cost one bcrypt comparison, so the
// time of a failure does not tell which keys exist.
func TestAuthenticator_EveryFailurePaysTheHash(t *testing.T) {
	hash, err := HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, secret string
		revoked           bool
	}{
		{"wrong secret", "k", "wrong", false},
		{"unknown key", "nobody", "s3cret", false},
		{"revoked, right secret", "k", "s3cret", true},
		{"revoked, wrong secret", "k", "wrong", true},
	} {
		store := &countingStore{cred: statements.Credential{Key: "k", Tenant: "t", SecretHash: hash, Scopes: []string{"all"}, Revoked: tc.revoked}}
		a := newAuthenticator(store, time.Minute, time.Now)
		if _, err := a.verify(t.Context(), tc.key, tc.secret); statements.ErrorCode(err) != statements.EUnauthorized {
			t.Errorf("%s: err = %v, want unauthorized", tc.name, err)
		}
		if got := a.hashes.Load(); got != 1 {
			t.Errorf("%s: %d bcrypt comparisons, want 1", tc.name, got)
		}
	}
}

// TestAuthenticator_HashSlots: bcrypt comparisons beyond hashSlots wait,
// and a request that ends while waiting gets an error, not a verdict.
func TestAuthenticator_HashSlots(t *testing.T) {
	a := newAuthenticator(&countingStore{}, time.Minute, time.Now)
	for range hashSlots() {
		a.hashing <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.compare(ctx, dummyHash(), "x"); statements.ErrorCode(err) != statements.EUnavailable {
		t.Errorf("compare with every slot taken: err = %v, want unavailable", err)
	}
	if got := a.hashes.Load(); got != 0 {
		t.Errorf("%d comparisons ran with every slot taken", got)
	}
}

// TestAuthenticator_GeneratedSecrets: a secret the LRS generated is kept
// as its SHA-256 and checked without bcrypt; one kept as bcrypt before is
// kept as SHA-256 after its first verification; a chosen secret stays
// bcrypt.
func TestAuthenticator_GeneratedSecrets(t *testing.T) {
	gen := randomToken(generatedSecretLen)
	if !isGenerated(gen) || isGenerated("demo-secret") {
		t.Fatalf("isGenerated: %q %v, demo-secret %v", gen, isGenerated(gen), isGenerated("demo-secret"))
	}
	if h := hashGenerated(gen); !isFast(h) || strings.Contains(string(h), gen) {
		t.Errorf("hashGenerated = %q", h)
	}
	old, err := HashSecret(gen)
	if err != nil {
		t.Fatal(err)
	}
	store := &updatingStore{countingStore: countingStore{cred: statements.Credential{Key: "k", Tenant: "t", SecretHash: old, Scopes: []string{"all"}}}}
	a := newAuthenticator(store, time.Minute, time.Now)
	if _, err := a.verify(t.Context(), "k", gen); err != nil {
		t.Fatal(err)
	}
	if !isFast(store.cred.SecretHash) {
		t.Errorf("after verification the secret is kept as %q, want its SHA-256", store.cred.SecretHash)
	}
	a = newAuthenticator(store, time.Minute, time.Now)
	if _, err := a.verify(t.Context(), "k", gen); err != nil || a.hashes.Load() != 1 {
		t.Errorf("verify of the generated secret kept as SHA-256: %v, %d comparisons", err, a.hashes.Load())
	}

	chosen, _ := HashSecret("demo-secret")
	store = &updatingStore{countingStore: countingStore{cred: statements.Credential{Key: "k", Tenant: "t", SecretHash: chosen, Scopes: []string{"all"}}}}
	a = newAuthenticator(store, time.Minute, time.Now)
	if _, err := a.verify(t.Context(), "k", "demo-secret"); err != nil {
		t.Fatal(err)
	}
	if isFast(store.cred.SecretHash) {
		t.Error("a chosen secret was kept as SHA-256")
	}
}

// updatingStore is countingStore that keeps credential updates.
type updatingStore struct {
	countingStore
}

func (s *updatingStore) UpdateCredential(ctx context.Context, c statements.Credential) error {
	s.cred = c
	return nil
}
