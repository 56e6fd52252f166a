package validation

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkStatement validates a typical statement of about 1.5 KB (compact JSON): a
// Group actor, an Activity with a definition, a result and a context.
func BenchmarkStatement(b *testing.B) {
	pretty, err := os.ReadFile("testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, pretty); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, v := range []string{V103, V200} {
		b.Run(v, func(b *testing.B) {
			if err := Statement(v, data); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Statement(v, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
