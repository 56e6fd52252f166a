package storetrace

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
)

// Wrap returns next traced, with exactly the optional interfaces of
// statements that next has (Sizer, LeaseCounter, LogSkimmer): a *Store
// when it has none. The server and the CLI find those capabilities by type
// assertion, so a wrapper that had more would promise what the store
// cannot do, and one that had fewer would hide what it can.
func Wrap(next statements.Store, tp trace.TracerProvider, system string) statements.Store {
	s := New(next, tp, system)
	z, sized := next.(statements.Sizer)
	c, counted := next.(statements.LeaseCounter)
	k, skims := next.(statements.LogSkimmer)
	zz, cc, kk := sizer{s, z}, leaseCounter{s, c}, logSkimmer{s, k}
	switch {
	case sized && counted && skims:
		return &sizedCountedSkimmingStore{s, zz, cc, kk}
	case sized && counted:
		return &sizedCountedStore{s, zz, cc}
	case sized && skims:
		return &sizedSkimmingStore{s, zz, kk}
	case counted && skims:
		return &countedSkimmingStore{s, cc, kk}
	case sized:
		return &sizedStore{s, zz}
	case counted:
		return &countedStore{s, cc}
	case skims:
		return &skimmingStore{s, kk}
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
	skimmingStore struct {
		*Store
		logSkimmer
	}
	sizedCountedStore struct {
		*Store
		sizer
		leaseCounter
	}
	sizedSkimmingStore struct {
		*Store
		sizer
		logSkimmer
	}
	countedSkimmingStore struct {
		*Store
		leaseCounter
		logSkimmer
	}
	sizedCountedSkimmingStore struct {
		*Store
		sizer
		leaseCounter
		logSkimmer
	}
)

var (
	_ statements.Sizer        = (*sizedStore)(nil)
	_ statements.LeaseCounter = (*countedStore)(nil)
	_ statements.LogSkimmer   = (*skimmingStore)(nil)
	_ statements.Sizer        = (*sizedCountedStore)(nil)
	_ statements.LeaseCounter = (*sizedCountedStore)(nil)
	_ statements.Sizer        = (*sizedSkimmingStore)(nil)
	_ statements.LogSkimmer   = (*sizedSkimmingStore)(nil)
	_ statements.LeaseCounter = (*countedSkimmingStore)(nil)
	_ statements.LogSkimmer   = (*countedSkimmingStore)(nil)
	_ statements.Sizer        = (*sizedCountedSkimmingStore)(nil)
	_ statements.LeaseCounter = (*sizedCountedSkimmingStore)(nil)
	_ statements.LogSkimmer   = (*sizedCountedSkimmingStore)(nil)
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

// logSkimmer traces statements.LogSkimmer.
type logSkimmer struct {
	s    *Store
	next statements.LogSkimmer
}

// SkimLog traces statements.LogSkimmer.SkimLog.
func (k logSkimmer) SkimLog(ctx context.Context, after int64, limit int) ([]statements.LogEntry, error) {
	ctx, span := k.s.start(ctx, "SkimLog")
	es, err := k.next.SkimLog(ctx, after, limit)
	records(span, len(es))
	end(span, err)
	return es, err
}

// ReadLogOf traces statements.LogSkimmer.ReadLogOf.
func (k logSkimmer) ReadLogOf(ctx context.Context, after, through int64, tenants []string) ([]statements.LogEntry, error) {
	ctx, span := k.s.start(ctx, "ReadLogOf")
	es, err := k.next.ReadLogOf(ctx, after, through, tenants)
	records(span, len(es))
	end(span, err)
	return es, err
}
