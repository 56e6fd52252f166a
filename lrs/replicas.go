package lrs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/digione/lrs/statements"
)

// ReplicaPrefix starts the names of the leases by which LRS processes
// sharing a store count one another: "replica/<instance id>".
const ReplicaPrefix = "replica/"

// Defaults of ReplicasConfig.
const (
	DefaultReplicaInterval = 10 * time.Second
	DefaultReplicaTTL      = 30 * time.Second
)

// ReplicaStore is what Replicas needs of the store: its leases, and a
// count of them.
type ReplicaStore interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	statements.LeaseCounter
}

// ReplicasConfig configures Replicas.
type ReplicasConfig struct {
	// Store keeps the replicas' leases; required unless Fixed is set.
	Store ReplicaStore
	// Fixed, when above zero, is the replica count: nothing is read or
	// written in the store. Default 0: counted in the store.
	Fixed int
	// ID names this replica's lease; default random.
	ID string
	// Interval is how often the lease is renewed and the replicas
	// counted; default DefaultReplicaInterval.
	Interval time.Duration
	// TTL is how long a replica that stopped renewing its lease (it died)
	// is still counted; default DefaultReplicaTTL.
	TTL time.Duration
	// Logger receives a warning when the store cannot be read; the zero
	// value logs nothing.
	Logger zerolog.Logger
}

// Replicas knows how many LRS processes (replicas) serve the deployment,
// so that the limits an operator sets for a credential hold for the
// deployment, not for each process (see Server): each replica holds a
// lease ReplicaPrefix+ID in the store, renews it every Interval, and
// counts the live ones. Count never asks the store; Beat or Run refresh
// it.
type Replicas struct {
	cfg   ReplicasConfig
	count atomic.Int64
}

// NewReplicas returns the replica count of cfg: Fixed, or 1 until the
// first Beat.
func NewReplicas(cfg ReplicasConfig) *Replicas {
	if cfg.ID == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.ID = hex.EncodeToString(b[:])
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultReplicaInterval
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultReplicaTTL
	}
	r := &Replicas{cfg: cfg}
	r.count.Store(int64(max(cfg.Fixed, 1)))
	return r
}

// FixedReplicas returns a replica count of n that the store never
// changes.
func FixedReplicas(n int) *Replicas { return NewReplicas(ReplicasConfig{Fixed: max(n, 1)}) }

// Count returns the replicas last seen, this one included: at least 1.
func (r *Replicas) Count() int {
	if r == nil {
		return 1
	}
	return int(r.count.Load())
}

// Beat renews this replica's lease and counts the live ones. When the
// store cannot be read, the count stays what it was, and the error is
// returned. A count below 1 (this replica's lease is not there yet, or a
// clock ahead of the others expired it) counts 1.
func (r *Replicas) Beat(ctx context.Context) error {
	if r.cfg.Fixed > 0 {
		return nil
	}
	name := ReplicaPrefix + r.cfg.ID
	if _, err := r.cfg.Store.AcquireLease(ctx, name, r.cfg.ID, r.cfg.TTL); err != nil {
		return err
	}
	n, err := r.cfg.Store.CountLeases(ctx, ReplicaPrefix)
	if err != nil {
		return err
	}
	r.count.Store(int64(max(n, 1)))
	return nil
}

// Run beats every Interval until ctx is done, then releases this
// replica's lease, so that the others count one fewer at their next beat.
func (r *Replicas) Run(ctx context.Context) {
	if r.cfg.Fixed > 0 {
		return
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		bctx, cancel := context.WithTimeout(ctx, r.cfg.Interval)
		if err := r.Beat(bctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn().Err(err).Int("replicas", r.Count()).Msg("cannot count the replicas: keeping the last count")
		}
		cancel()
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := r.Leave(rctx); err != nil {
				r.cfg.Logger.Warn().Err(err).Msg("cannot release this replica's lease: the others count it until it expires")
			}
			cancel()
			return
		case <-t.C:
		}
	}
}

// Leave releases this replica's lease: the others count one fewer at
// their next beat. Its own count stays.
func (r *Replicas) Leave(ctx context.Context) error {
	if r.cfg.Fixed > 0 {
		return nil
	}
	return r.cfg.Store.ReleaseLease(ctx, ReplicaPrefix+r.cfg.ID, r.cfg.ID)
}

// perReplica returns the limits of a credential on one of n replicas:
// its Rate and Burst divided by n (a burst of at least 1), so that n
// replicas that get a credential's requests in equal shares let through
// what the operator set for the deployment.
func perReplica(l statements.Limits, n int) statements.Limits {
	if n <= 1 {
		return l
	}
	if l.Rate > 0 {
		l.Rate /= float64(n)
	}
	if l.Burst > 0 {
		l.Burst = max(1, l.Burst/n)
	}
	return l
}

// loginScale is the failed-login slowdown on one of n replicas: a share
// of the free failures (rounded down, so n replicas allow no more than
// one) and n times the waits, so that a guesser spreading attempts over n
// replicas gets no more guesses than against one.
type loginScale struct {
	freeKey, freeAddr int
	backoff, max      time.Duration // the first wait; the longest
}

func scaleLogins(n int) loginScale {
	n = max(n, 1)
	return loginScale{freeKey: freeKeyFailures / n, freeAddr: freeAddrFailures / n,
		backoff: time.Second * time.Duration(n), max: time.Duration(min(float64(maxLoginBackoff)*float64(n), math.MaxInt64/2))}
}
