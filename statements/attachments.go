package statements

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// NewSHA2 returns the SHA-2 function whose hex digest has the length of
// sha2 (SHA-224, -256, -384 or -512), or nil when sha2 is not a lower-case
// hex SHA-2 digest. Attachments are identified by such digests.
func NewSHA2(sha2 string) hash.Hash {
	for _, r := range sha2 {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return nil
		}
	}
	switch len(sha2) {
	case 56:
		return sha256.New224()
	case 64:
		return sha256.New()
	case 96:
		return sha512.New384()
	case 128:
		return sha512.New()
	}
	return nil
}
