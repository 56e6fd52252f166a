package sqlitestore

import (
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The statement column holds a statement in one of these forms, told apart
// by the first byte:
//
//	tagRaw (0x00)     the statement's bytes follow as they are
//	tagZstdV1 (0x01)  a zstd frame (RFC 8878) follows, without a dictionary
//	                  id or checksum, compressed with the raw-content
//	                  dictionary dict_v1.txt
//	anything else     the whole value is the statement's bytes as they are
//
// Rows written before compression (schema version 1) are all of the last
// form: a statement is JSON text, which starts with '{' (or whitespace),
// never with a byte below 0x09. A statement that compression does not make
// smaller is stored as it is too, unless it starts with a byte below 0x09,
// when tagRaw keeps it apart from the tags. To read a row by hand:
// `SELECT hex(substr(statement, 2))`, unhex, then `zstd -d -D dict_v1.txt`.
//
// A dictionary is a format commitment: the rows written with it can only
// be read with the same bytes, so dict_v1.txt must never change. A better
// dictionary gets the next tag and a file of its own, and the old ones stay
// for the rows that use them.
const (
	tagRaw    = 0x00
	tagZstdV1 = 0x01
	tagMax    = 0x08 // bytes up to here are reserved for tags
)

// dictV1 is a hand-written text of the xAPI vocabulary (property names and
// their nesting, the ADL verb and activity type IRIs, cmi5 and video
// profile IRIs, interaction types, the authority the LRS writes) that zstd
// uses as history, so that even the first occurrence of a name in a
// statement is a short match.
//
//go:embed dict_v1.txt
var dictV1 []byte

// codec compresses and decompresses the statement column. EncodeAll and
// DecodeAll may be called concurrently; each keeps a few encoders or
// decoders of its own and reuses them.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder // knows dictV1 as dictionary 0 (frames name none)
}

var statementCodec = sync.OnceValue(func() *codec {
	enc, err := zstd.NewWriter(nil,
		// Measured on generated statements of about 1.8 KB: SpeedDefault
		// and better levels gain at most 5% for 2-4x the CPU.
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), // SQLite keeps the bytes; 4 bytes a row saved
		zstd.WithEncoderDictRaw(0, dictV1))
	if err != nil {
		panic(fmt.Sprintf("sqlitestore: zstd encoder: %v", err)) // constant options
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderDictRaw(0, dictV1),
		// A damaged frame must not make it allocate what it claims.
		zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		panic(fmt.Sprintf("sqlitestore: zstd decoder: %v", err))
	}
	return &codec{enc: enc, dec: dec}
})

// maxDecoded is the most a frame may decompress to. No SQLite value is
// longer than 1e9 bytes (SQLITE_MAX_LENGTH), so a longer statement is
// passed on as it is, and SQLite refuses it as it did before compression.
const maxDecoded = 1 << 30

// encodeStatement returns the value of the statement column for b.
func encodeStatement(b []byte) []byte {
	if len(b) > 0 && len(b) <= maxDecoded {
		out := make([]byte, 1, len(b)/2+16)
		out[0] = tagZstdV1
		out = statementCodec().enc.EncodeAll(b, out)
		if len(out) < len(b) {
			return out
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
		b, err := statementCodec().dec.DecodeAll(v[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("statement column: %w", err)
		}
		if b == nil {
			b = []byte{}
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
