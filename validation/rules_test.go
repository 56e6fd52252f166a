package validation

import (
	"strconv"
	"testing"
)

func TestPath_String(t *testing.T) {
	keys := []string{"actor", "", "a/b", "~", "~1/", "http://example.com/e~x", "ü"}
	for _, prefix := range []string{"", "/0", "/12"} {
		p, want := &path{key: prefix}, prefix
		if got := p.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		for i, k := range keys {
			p, want = p.at(k), child(want, k)
			if got := p.String(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			p, want = p.index(i*57), child(want, strconv.Itoa(i*57))
			if got := p.String(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	}
}
