package sqlitestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
)

// codecSamples are statements as the LRS stores them, and bytes that are
// not statements at all: the column must give back whatever it was given.
var codecSamples = [][]byte{
	nil,
	{},
	{0},
	{1},
	{tagMax},
	{tagMax + 1},
	[]byte("{"),
	[]byte("{}"),
	[]byte(" {}"),
	{0xff, 0xfe, 0x00, 0x01, '{'},
	[]byte("\x01\x28\xb5\x2f\xfd not a frame"),
	[]byte("\x28\xb5\x2f\xfd\x00\x00 a frame's magic, untagged"),
	[]byte(`{"actor":{"mbox":"mailto:alice@example.org"},"verb":{"id":"https://example.org/verbs/completed"},"object":{"id":"https://example.org/activities/course"},"id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee","version":"1.0.0","authority":{"account":{"homePage":"https://lrs.digione.fi/credentials","name":"k"},"name":"n","objectType":"Agent"}}`),
	[]byte(`{"actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"MPASSOID.c7f1"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/answered","display":{"en-US":"answered","fi-FI":"vastasi"}},"object":{"objectType":"Activity","id":"https://app.example.fi/q/7","definition":{"name":{"fi-FI":"Kysymys 7 – ääkköset ja \u00e4"},"type":"http://adlnet.gov/expapi/activities/cmi.interaction","interactionType":"choice","correctResponsesPattern":["b"],"choices":[{"id":"a","description":{"fi-FI":"A"}},{"id":"b","description":{"fi-FI":"B"}}]}},"result":{"score":{"scaled":1,"raw":1,"min":0,"max":1},"success":true,"response":"b","duration":"PT12.3S"},"context":{"registration":"3f0b5a52-1d6e-4a65-9a0b-0f2f6d0c9b1e","contextActivities":{"parent":[{"objectType":"Activity","id":"https://app.example.fi/q"}]},"language":"fi-FI"},"timestamp":"2026-03-01T08:00:00.123Z","id":"f0c7d6a1-0b5e-4c1e-9d3a-2e7b8c9d0a1f","version":"2.0.0","authority":{"account":{"homePage":"https://lrs.digione.fi/credentials","name":"key"},"name":"app","objectType":"Agent"}}`),
	bytes.Repeat([]byte(`{"a":"b"}`), 20000), // more than one zstd block
}

func TestStatementCodec_RoundTrip(t *testing.T) {
	check := func(t *testing.T, b []byte) {
		t.Helper()
		v := encodeStatement(b)
		got, err := decodeStatement(v)
		if err != nil {
			t.Fatalf("decode(encode(%q)): %v", trim(b), err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("decode(encode(%q)) = %q", trim(b), trim(got))
		}
		if len(v) > len(b)+1 {
			t.Errorf("encode(%q) is %d bytes, more than 1 over %d", trim(b), len(v), len(b))
		}
	}
	t.Run("Samples", func(t *testing.T) {
		for _, b := range codecSamples {
			check(t, b)
		}
	})
	t.Run("Random", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range 3000 {
			b := make([]byte, r.IntN(3000))
			switch i % 3 {
			case 0: // any bytes, non-UTF-8 included
				for j := range b {
					b[j] = byte(r.Uint32())
				}
			case 1: // few distinct bytes: compresses
				for j := range b {
					const alphabet = "{}\":,abc\x00\x01\xff"
					b[j] = alphabet[r.IntN(len(alphabet))]
				}
			case 2: // JSON-like text from the dictionary's words
				n := len(b)
				b = b[:0]
				for len(b) < n {
					w := dictV1[r.IntN(len(dictV1)):]
					b = append(b, w[:min(len(w), 1+r.IntN(40))]...)
				}
				b = b[:n]
			}
			if len(b) > 0 && i%7 == 0 {
				b[0] = byte(r.IntN(tagMax + 2))
			}
			check(t, b)
		}
	})
}

// TestStatementCodec_Compresses: a statement is stored compressed, in
// well under half its size.
func TestStatementCodec_Compresses(t *testing.T) {
	b := codecSamples[len(codecSamples)-2]
	v := encodeStatement(b)
	if v[0] != tagZstdV1 {
		t.Fatalf("encode: tag %#x, want %#x", v[0], tagZstdV1)
	}
	if got, want := len(v), len(b)*45/100; got > want {
		t.Errorf("encode: %d bytes from %d, want at most %d", got, len(b), want)
	}
}

// TestStatementCodec_Legacy: a value written before compression, or not
// compressed, is the statement's bytes.
func TestStatementCodec_Legacy(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("{}"), []byte(" {}"), codecSamples[len(codecSamples)-2], {0xff}} {
		got, err := decodeStatement(b)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("decode(%q) = %q, %v; want it unchanged", trim(b), trim(got), err)
		}
	}
	for _, tag := range []byte{2, tagMax} {
		if _, err := decodeStatement([]byte{tag, '{', '}'}); err == nil {
			t.Errorf("decode of tag %d: no error", tag)
		}
	}
	if _, err := decodeStatement([]byte{tagZstdV1, 1, 2, 3}); err == nil {
		t.Errorf("decode of a damaged frame: no error")
	}
}

// TestStatementCodec_Dictionary: the dictionary's bytes are a format
// commitment (rows written with it are read with it). A better one gets a
// new tag and file; this one must not change.
func TestStatementCodec_Dictionary(t *testing.T) {
	const dictV1SHA256 = "45578c071c76da0f168f51eb40dfb959af4dc63eda25d5f1bffd531dac083dab"
	sum := sha256.Sum256(dictV1)
	if got := hex.EncodeToString(sum[:]); got != dictV1SHA256 {
		t.Fatalf("dict_v1.txt: SHA-256 %s, want %s: the rows written with it could not be read", got, dictV1SHA256)
	}
}

func FuzzStatementCodec(f *testing.F) {
	for _, b := range codecSamples[:len(codecSamples)-1] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeStatement(encodeStatement(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("decode(encode(%q)) = %q, %v", trim(b), trim(got), err)
		}
	})
}

func TestFingerprintColumn(t *testing.T) {
	hash := sha256.Sum256([]byte("x"))
	lower := hex.EncodeToString(hash[:])
	for _, tc := range []struct {
		fp   string
		blob bool
	}{
		{lower, true},
		{fmt.Sprintf("%X", hash[:]), false}, // upper case: kept as TEXT
		{lower[:63], false},
		{lower[:63] + "g", false},
		{"", false},
		{"fp-1", false},
	} {
		v := fingerprintValue(tc.fp)
		if _, ok := v.([]byte); ok != tc.blob {
			t.Errorf("fingerprintValue(%q) = %T, want a BLOB: %v", tc.fp, v, tc.blob)
		}
		var got string
		if err := (fingerprintDest{&got}).Scan(v); err != nil || got != tc.fp {
			t.Errorf("fingerprint %q read back as %q, %v", tc.fp, got, err)
		}
	}
}

func trim(b []byte) []byte {
	if len(b) > 60 {
		return append(b[:60:60], "..."...)
	}
	return b
}

// BenchmarkStatementCodec: the cost of the statement column per statement,
// for a statement of about 1.1 KB.
func BenchmarkStatementCodec(b *testing.B) {
	st := codecSamples[len(codecSamples)-2]
	v := encodeStatement(st)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(st)))
		for b.Loop() {
			encodeStatement(st)
		}
		b.ReportMetric(float64(len(v)), "bytes/stored")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(st)))
		for b.Loop() {
			if _, err := decodeStatement(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
