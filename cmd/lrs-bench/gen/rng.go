package gen

import "math/bits"

// rng is a small, fast, seedable random source (SplitMix64). Statement i
// of a seed gets its own rng, so statements can be made in any order and
// on any number of goroutines.
type rng struct{ s uint64 }

func newRNG(seeds ...uint64) *rng {
	r := &rng{s: 0x9e3779b97f4a7c15}
	for _, s := range seeds {
		r.s ^= mix(s + r.s)
		r.next()
	}
	return r
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a number in [0, n); n > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pick returns an index into weights, chosen with those weights.
func (r *rng) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// uuid returns a random (version 4) UUID in its standard string form.
func (r *rng) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.next()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(out)
}

// hex returns n random lower-case hex digits.
func (r *rng) hex(n int) string {
	out := make([]byte, n)
	var v uint64
	for i := range out {
		if i%16 == 0 {
			v = r.next()
		}
		out[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(out)
}

// digits returns n random decimal digits, the first not zero.
func (r *rng) digits(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte('0' + r.intn(10))
	}
	if out[0] == '0' {
		out[0] = '1'
	}
	return string(out)
}
