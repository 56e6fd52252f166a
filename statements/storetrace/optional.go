package storetrace

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
)

// Wrap returns next traced, with exactly the optional interfaces of
// statements that next has (Sizer, LeaseCounter): a *Store when it has
// none. The server and the CLI find those capabilities by type assertion,
// so a wrapper that had more would promise what the store cannot do, and
// one that had fewer would hide what it can.
func Wrap(next statements.Store, tp trace.TracerProvider, system string) statements.Store {
	s := New(next, tp, system)
	z, sized := next.(statements.Sizer)
	c, counted := next.(statements.LeaseCounter)
	switch {
	case sized && counted:
		return &sizedCountedStore{s, sizer{s, z}, leaseCounter{s, c}}
	case sized:
		return &sizedStore{s, sizer{s, z}}
	case counted:
		return &countedStore{s, leaseCounter{s, c}}
	}
	return s
}

// The traced stores with optional interfaces, one type per combination.
type (
	sizedStore struct {
		*Store
		sizer
	}
	countedStore struct {
		*Store
		leaseCounter
	}
	sizedCountedStore struct {
		*Store
		sizer
		leaseCounter
	}
)

var (
	_ statements.Sizer        = (*sizedStore)(nil)
	_ statements.LeaseCounter = (*countedStore)(nil)
	_ statements.Sizer        = (*sizedCountedStore)(nil)
	_ statements.LeaseCounter = (*sizedCountedStore)(nil)
)

// sizer traces statements.Sizer.
type sizer struct {
	s    *Store
	next statements.Sizer
}

// Size traces statements.Sizer.Size.
func (z sizer) Size(ctx context.Context) (statements.StoreSize, error) {
	ctx, span := z.s.start(ctx, "Size")
	size, err := z.next.Size(ctx)
	end(span, err)
	return size, err
}

// leaseCounter traces statements.LeaseCounter.
type leaseCounter struct {
	s    *Store
	next statements.LeaseCounter
}

// CountLeases traces statements.LeaseCounter.CountLeases.
func (c leaseCounter) CountLeases(ctx context.Context, prefix string) (int, error) {
	ctx, span := c.s.start(ctx, "CountLeases", AttrLease.String(prefix))
	n, err := c.next.CountLeases(ctx, prefix)
	records(span, n)
	end(span, err)
	return n, err
}
