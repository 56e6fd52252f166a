package sqlitestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
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

// encodeZstdV1 returns the value of the statement column for b as schema
// versions 2 to 9 wrote it: a zstd frame with dict_v1.txt when that is
// smaller.
func encodeZstdV1(b []byte) []byte {
	if len(b) > 0 && len(b) <= maxDecoded {
		out := zstdV1Encoder().EncodeAll(b, []byte{tagZstdV1})
		if len(out) < len(b) {
			return out
		}
	}
	if len(b) == 0 || b[0] > tagMax {
		return b
	}
	return append([]byte{tagRaw}, b...)
}

var zstdV1Encoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), zstd.WithEncoderDictRaw(0, dictV1))
	if err != nil {
		panic(err)
	}
	return enc
})

func TestStatementCodec_RoundTrip(t *testing.T) {
	for _, c := range []struct {
		name   string
		encode func([]byte) []byte
	}{{"S2", encodeStatement}, {"ZstdV1", encodeZstdV1}} {
		t.Run(c.name, func(t *testing.T) { testRoundTrip(t, c.encode) })
	}
}

func testRoundTrip(t *testing.T, encode func([]byte) []byte) {
	check := func(t *testing.T, b []byte) {
		t.Helper()
		v := encode(b)
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
	if v[0] != tagS2V1 {
		t.Fatalf("encode: tag %#x, want %#x", v[0], tagS2V1)
	}
	if got, want := len(v), len(b)*45/100; got > want {
		t.Errorf("encode: %d bytes from %d, want at most %d", got, len(b), want)
	}
}

// TestStatementCodec_Formats: values written in each form decode to their
// statement. The values are pinned: they are on disk in existing stores,
// and a change of library must go on reading them.
func TestStatementCodec_Formats(t *testing.T) {
	want := []byte(`{"actor":{"objectType":"Agent","account":{"homePage":"https://mpass-proxy.csc.fi","name":"MPASSOID.c7f1"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://app.example.fi/q/7"}}`)
	for _, c := range []struct{ name, hex string }{
		{"ZstdV1", zstdV1Golden},
		{"S2V1", s2V1Golden},
	} {
		v, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeStatement(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: decode = %q, %v; want %q", c.name, got, err, want)
		}
		if len(v) >= len(want)/2 {
			t.Errorf("%s: %d bytes for %d", c.name, len(v), len(want))
		}
	}
}

// zstdV1Golden and s2V1Golden are the statement of
// TestStatementCodec_Formats as the statement column holds it in each form.
const (
	zstdV1Golden = "0128b52ffd0000d5010054024d504153534f49442e633766316564226170702e6578616d706c652e66692f712f37227d7d050057c401de88334fe40c709288fe0c4d2208"
	s2V1Golden   = "02d101518315004a304d504153534f49442e63376631c290029d9f11bb32cb0260733a2f2f6170702e6578616d706c652e66692f712f37227d7d"
)

// TestStatementCodec_Legacy: a value written before compression, or not
// compressed, is the statement's bytes.
func TestStatementCodec_Legacy(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("{}"), []byte(" {}"), codecSamples[len(codecSamples)-2], {0xff}} {
		got, err := decodeStatement(b)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("decode(%q) = %q, %v; want it unchanged", trim(b), trim(got), err)
		}
	}
	for _, tag := range []byte{3, tagMax} {
		if _, err := decodeStatement([]byte{tag, '{', '}'}); err == nil {
			t.Errorf("decode of tag %d: no error", tag)
		}
	}
	for _, v := range [][]byte{
		{tagZstdV1, 1, 2, 3},
		{tagS2V1},
		{tagS2V1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // no length
		{tagS2V1, 0xff, 0xff, 0xff, 0xff, 0x0f},       // 4 GB claimed
		{tagS2V1, 10, 0x0c, 'a'},                      // literal cut short
		{tagS2V1, 10, 0x01, 0xff, 0xff},               // copy from before the dictionary
	} {
		if got, err := decodeStatement(v); err == nil {
			t.Errorf("decode of the damaged value %x: %q, no error", v, got)
		}
	}
	// A damaged S2 block of a statement: every byte changed in turn either
	// fails or decodes to something; it never panics.
	v := encodeStatement(codecSamples[len(codecSamples)-2])
	for i := 1; i < len(v); i++ {
		w := bytes.Clone(v)
		w[i] ^= 0x5a
		decodeStatement(w)
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
	zv := encodeZstdV1(st)
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
	b.Run("decode-zstd-v1", func(b *testing.B) {
		b.SetBytes(int64(len(st)))
		for b.Loop() {
			if _, err := decodeStatement(zv); err != nil {
				b.Fatal(err)
			}
		}
	})
}
