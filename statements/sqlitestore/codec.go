package sqlitestore

import (
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// The statement column holds a statement in one of these forms, told apart
// by the first byte:
//
//	tagRaw (0x00)     the statement's bytes follow as they are
//	tagZstdV1 (0x01)  a zstd frame (RFC 8878) follows, without a dictionary
//	                  id or checksum, compressed with the raw-content
//	                  dictionary dict_v1.txt (written by schema versions 2-9)
//	tagS2V1 (0x02)    an S2 block follows (klauspost/compress/s2: the
//	                  uvarint length of the statement, then Snappy-style
//	                  literals and copies) compressed with dict_v1.txt as
//	                  an S2 dictionary whose first repeat offset is 0
//	                  (written since schema version 10)
//	anything else     the whole value is the statement's bytes as they are
//
// Rows written before compression (schema version 1) are all of the last
// form: a statement is JSON text, which starts with '{' (or whitespace),
// never with a byte below 0x09. A statement that compression does not make
// smaller is stored as it is too, unless it starts with a byte below 0x09,
// when tagRaw keeps it apart from the tags. Rows are never rewritten for a
// new form: every form stays readable.
//
// New rows are S2 rather than zstd because a zstd frame with a dictionary
// costs a copy of the encoder's whole match table (256 KB) before the first
// byte, and its entropy tables are built per frame: about 25-40 µs for a
// statement of 1.8 KB, against 7-9 µs for S2, which keeps no state between
// blocks. The price is about a quarter more bytes in the column (664
// against 531 B for the generated statements); decoding is faster too.
//
// A dictionary is a format commitment: the rows written with it can only
// be read with the same bytes, so dict_v1.txt must never change. A better
// dictionary gets the next tag and a file of its own, and the old ones stay
// for the rows that use them.
const (
	tagRaw    = 0x00
	tagZstdV1 = 0x01
	tagS2V1   = 0x02
	tagMax    = 0x08 // bytes up to here are reserved for tags
)

// dictV1 is a hand-written text of the xAPI vocabulary (property names and
// their nesting, the ADL verb and activity type IRIs, cmi5 and video
// profile IRIs, interaction types, the authority the LRS writes) that the
// compressor uses as history, so that even the first occurrence of a name
// in a statement is a short match.
//
//go:embed dict_v1.txt
var dictV1 []byte

// s2DictV1 is dictV1 as an S2 dictionary. Its encoder tables are built
// once, on first use; encoding and decoding keep no other state, so both
// may be called concurrently.
var s2DictV1 = sync.OnceValue(func() *s2.Dict {
	d := s2.MakeDictManual(dictV1, 0)
	if d == nil {
		panic("sqlitestore: dict_v1.txt is no S2 dictionary") // a constant
	}
	return d
})

// zstdDecoder reads the rows of tagZstdV1. DecodeAll may be called
// concurrently; it keeps a few decoders and reuses them.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderDictRaw(0, dictV1),
		// A damaged frame must not make it allocate what it claims.
		zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		panic(fmt.Sprintf("sqlitestore: zstd decoder: %v", err)) // constant options
	}
	return dec
})

// maxDecoded is the most a value may decompress to. No SQLite value is
// longer than 1e9 bytes (SQLITE_MAX_LENGTH), so a longer statement is
// passed on as it is, and SQLite refuses it as it did before compression.
const maxDecoded = 1 << 30

// encodeStatement returns the value of the statement column for b.
func encodeStatement(b []byte) []byte {
	if len(b) > 0 && len(b) <= maxDecoded {
		out := make([]byte, 1+s2.MaxEncodedLen(len(b)))
		out[0] = tagS2V1
		n := len(s2DictV1().Encode(out[1:], b))
		if 1+n < len(b) {
			return out[:1+n]
		}
	}
	if len(b) == 0 || b[0] > tagMax {
		return b
	}
	return append([]byte{tagRaw}, b...)
}

var errBadStatement = errors.New("statement column: unknown format")

// decodeStatement returns the statement held in a value of the statement
// column.
func decodeStatement(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] > tagMax {
		return v, nil
	}
	switch v[0] {
	case tagRaw:
		return v[1:], nil
	case tagZstdV1:
		b, err := zstdDecoder().DecodeAll(v[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("statement column: %w", err)
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case tagS2V1:
		// The length comes first; a damaged one must not make it allocate
		// more than a statement can be.
		n, err := s2.DecodedLen(v[1:])
		if err != nil || n > maxDecoded {
			return nil, fmt.Errorf("statement column: S2 block of %d bytes claims %d: %w", len(v)-1, n, s2.ErrCorrupt)
		}
		b, err := s2DictV1().Decode(make([]byte, n), v[1:])
		if err != nil {
			return nil, fmt.Errorf("statement column: %w", err)
		}
		return b, nil
	}
	return nil, errBadStatement
}

// fingerprintValue returns the value of the fingerprint column for fp: the
// 32 bytes of a SHA-256 digest in lower-case hex (what
// statements.Fingerprint returns) as a BLOB, anything else as the TEXT it
// is. Rows written before schema version 2 hold TEXT.
func fingerprintValue(fp string) any {
	if len(fp) != 64 {
		return fp
	}
	for i := range len(fp) {
		if c := fp[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fp
		}
	}
	b, _ := hex.DecodeString(fp)
	return b
}

// fingerprintDest scans the fingerprint column into a string.
type fingerprintDest struct{ s *string }

func (d fingerprintDest) Scan(v any) error {
	switch v := v.(type) {
	case []byte:
		if len(v) != 32 {
			return fmt.Errorf("fingerprint column: BLOB of %d bytes", len(v))
		}
		*d.s = hex.EncodeToString(v)
	case string:
		*d.s = v
	default:
		return fmt.Errorf("fingerprint column: %T", v)
	}
	return nil
}
