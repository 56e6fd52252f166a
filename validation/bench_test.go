package validation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// typical returns testdata/bench/typical.json as compact JSON.
func typical(b *testing.B) []byte {
	b.Helper()
	pretty, err := os.ReadFile("testdata/bench/typical.json")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, pretty); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkStatement validates a typical statement of about 1.5 KB (compact JSON): a
// Group actor, an Activity with a definition, a result and a context.
func BenchmarkStatement(b *testing.B) {
	data := typical(b)
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

// BenchmarkParseStatements validates a batch of 100 typical statements,
// each with its own id, as POST /statements receives it.
func BenchmarkParseStatements(b *testing.B) {
	one := typical(b)
	const id = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
	if !bytes.Contains(one, []byte(id)) {
		b.Fatal("typical.json has another id")
	}
	var batch bytes.Buffer
	batch.WriteByte('[')
	for i := 0; i < 100; i++ {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.Write(bytes.Replace(one, []byte(id), fmt.Appendf(nil, "6690e6c9-3ef0-4ed3-8b37-%012d", i), 1))
	}
	batch.WriteByte(']')
	data := batch.Bytes()
	for _, v := range []string{V103, V200} {
		b.Run(v, func(b *testing.B) {
			if stmts, _, err := ParseStatements(v, data); err != nil || len(stmts) != 100 {
				b.Fatal(len(stmts), err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseStatements(v, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
