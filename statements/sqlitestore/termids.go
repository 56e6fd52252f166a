package sqlitestore

import (
	"encoding/binary"
	"errors"
	"slices"
)

// termIDs is a sorted set of term ids. In the statements table it is kept
// as uvarint deltas (a few bytes per term).
type termIDs []int64

func (t termIDs) encode() []byte {
	b := make([]byte, 0, len(t)*3)
	var prev int64
	for _, id := range t {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return b
}

var errBadTerms = errors.New("malformed term list")

func decodeTermIDs(b []byte) (termIDs, error) {
	var t termIDs
	var prev int64
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errBadTerms
		}
		prev += int64(d)
		t = append(t, prev)
		b = b[n:]
	}
	return t, nil
}

// union returns the sorted union of t and u, and the ids of u not in t.
func (t termIDs) union(u termIDs) (all, added termIDs) {
	all = make(termIDs, 0, len(t)+len(u))
	i, j := 0, 0
	for i < len(t) || j < len(u) {
		switch {
		case j == len(u) || (i < len(t) && t[i] < u[j]):
			all = append(all, t[i])
			i++
		case i == len(t) || u[j] < t[i]:
			all = append(all, u[j])
			added = append(added, u[j])
			j++
		default:
			all = append(all, t[i])
			i++
			j++
		}
	}
	return all, added
}

func sortedIDs(ids []int64) termIDs {
	t := slices.Clone(ids)
	slices.Sort(t)
	return slices.Compact(t)
}
