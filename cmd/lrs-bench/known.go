package main

import (
	"math/rand/v2"
	"sort"
	"sync"
)

// known is the set of statement indices the LRS has stored, kept as
// ranges: queries pick their targets from it, so they ask for agents,
// activities and registrations that exist.
type known struct {
	mu     sync.Mutex
	starts []uint64 // start of each range
	ends   []uint64 // cumulative count of indices through each range
}

// add records that statements [start, start+n) are stored.
func (k *known) add(start uint64, n int) {
	if n <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	total := k.totalLocked()
	if last := len(k.starts) - 1; last >= 0 {
		prevN := k.ends[last]
		if last > 0 {
			prevN -= k.ends[last-1]
		}
		if k.starts[last]+prevN == start { // extends the last range
			k.ends[last] += uint64(n)
			return
		}
	}
	k.starts = append(k.starts, start)
	k.ends = append(k.ends, total+uint64(n))
}

func (k *known) totalLocked() uint64 {
	if len(k.ends) == 0 {
		return 0
	}
	return k.ends[len(k.ends)-1]
}

// len returns how many statements are known.
func (k *known) len() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.totalLocked()
}

// pick returns a known statement index, uniformly; ok is false when none
// is known.
func (k *known) pick(r *rand.Rand) (i uint64, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	total := k.totalLocked()
	if total == 0 {
		return 0, false
	}
	u := r.Uint64N(total)
	j := sort.Search(len(k.ends), func(j int) bool { return k.ends[j] > u })
	before := uint64(0)
	if j > 0 {
		before = k.ends[j-1]
	}
	return k.starts[j] + (u - before), true
}
