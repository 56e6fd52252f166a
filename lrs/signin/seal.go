package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// sealer seals values into cookie text with AES-256-GCM: the first key
// seals, every key opens. The purpose is authenticated with the value,
// so a login cookie never opens as a session.
type sealer struct {
	aeads []cipher.AEAD
	mac   []byte // key of the CSRF tokens and the logged hashes
}

func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		k := make([]byte, SessionKeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		keys = [][]byte{k}
	}
	s := &sealer{}
	for _, k := range keys {
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, a)
	}
	m := hmac.New(sha256.New, keys[0])
	m.Write([]byte("lrs signin mac key"))
	s.mac = m.Sum(nil)
	return s, nil
}

var errSeal = errors.New("cookie does not open")

// seal returns v as JSON sealed for purpose, in URL-safe base64.
func (s *sealer) seal(purpose string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	a := s.aeads[0]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

// open reads into v what seal sealed for purpose with any of the keys.
func (s *sealer) open(purpose, text string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return errSeal
	}
	for _, a := range s.aeads {
		if len(b) < a.NonceSize() {
			return errSeal
		}
		plain, err := a.Open(nil, b[:a.NonceSize()], b[a.NonceSize():], []byte(purpose))
		if err == nil {
			if json.Unmarshal(plain, v) != nil {
				return errSeal
			}
			return nil
		}
	}
	return errSeal
}

// sum returns a keyed hash of the parts, in URL-safe base64: CSRF tokens
// and the hash of a person id the logs may carry.
func (s *sealer) sum(parts ...string) string {
	m := hmac.New(sha256.New, s.mac)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// randomText returns n random bytes in URL-safe base64.
func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
