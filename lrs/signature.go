package lrs

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/digione/lrs/statements"
)

// jwsAlgorithms are the JWS algorithms a signed statement may use
// (Data 2.6.s4.b4) and their hashes.
var jwsAlgorithms = map[string]crypto.Hash{
	"RS256": crypto.SHA256,
	"RS384": crypto.SHA384,
	"RS512": crypto.SHA512,
}

// jwsHeader is the part of a JWS protected header the LRS reads.
type jwsHeader struct {
	Alg string   `json:"alg"`
	X5C []string `json:"x5c"`
}

// verifySignature checks the JWS of a signed statement against the
// received statement stmt (Data 2.6.s5.b3): jws must be in the compact
// serialization with algorithm RS256, RS384 or RS512; its payload must be
// the statement before the signature was added, under the statement
// comparison rules (Data 2.3.1.s9): stmt without its signature
// attachments, compared by statements.Fingerprint, ids compared when both
// have one. When the header has an x5c certificate chain the signature
// must verify with the first certificate's RSA key; the chain itself is not
// validated (the check catches mistakes, it is no trust decision: Data
// 2.6.s5 note). Errors are EInvalid, with a message for the client.
func verifySignature(stmt, jws []byte) error {
	segs := strings.Split(string(bytes.TrimSpace(jws)), ".")
	if len(segs) != 3 {
		return statements.Errorf(statements.EInvalid,
			"signature: must be a JWS in the compact serialization (three base64url parts separated by dots) (Data 2.6.s4.b2)")
	}
	rawHeader, err := decodeSegment(segs[0])
	if err != nil {
		return statements.Errorf(statements.EInvalid, "signature: JWS header is not base64url: %v", err)
	}
	var h jwsHeader
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return statements.Errorf(statements.EInvalid, "signature: JWS header is not a JSON object: %v", err)
	}
	hash, ok := jwsAlgorithms[h.Alg]
	if !ok {
		return statements.Errorf(statements.EInvalid, "signature: JWS algorithm %q: must be RS256, RS384 or RS512 (Data 2.6.s4.b4)", h.Alg)
	}
	payload, err := decodeSegment(segs[1])
	if err != nil {
		return statements.Errorf(statements.EInvalid, "signature: JWS payload is not base64url: %v", err)
	}
	sig, err := decodeSegment(segs[2])
	if err != nil {
		return statements.Errorf(statements.EInvalid, "signature: JWS signature is not base64url: %v", err)
	}
	if err := sameSignedStatement(payload, stmt); err != nil {
		return err
	}
	if len(h.X5C) == 0 {
		return nil
	}
	certs := make([]*x509.Certificate, len(h.X5C))
	for i, enc := range h.X5C {
		der, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return statements.Errorf(statements.EInvalid, "signature: x5c[%d] is not base64: %v", i, err)
		}
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return statements.Errorf(statements.EInvalid, "signature: x5c[%d] is not an X.509 certificate: %v", i, err)
		}
	}
	key, ok := certs[0].PublicKey.(*rsa.PublicKey)
	if !ok {
		return statements.Errorf(statements.EInvalid, "signature: the x5c certificate does not hold an RSA key, as %s needs", h.Alg)
	}
	hh := hash.New()
	hh.Write([]byte(segs[0] + "." + segs[1]))
	if err := rsa.VerifyPKCS1v15(key, hash, hh.Sum(nil), sig); err != nil {
		return statements.Errorf(statements.EInvalid, "signature: the JWS signature does not verify with the key of its x5c certificate (Data 2.6.s5.b3.b3)")
	}
	return nil
}

// decodeSegment decodes base64url, with or without padding.
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// sameSignedStatement checks that the JWS payload is the received
// statement before its signature was added.
func sameSignedStatement(payload, stmt []byte) error {
	signed, err := withoutSignatures(payload)
	if err != nil {
		return statements.Errorf(statements.EInvalid, "signature: the JWS payload is not a JSON statement: %v", err)
	}
	received, err := withoutSignatures(stmt)
	if err != nil {
		return err
	}
	a, aerr := statements.Fingerprint(signed)
	b, berr := statements.Fingerprint(received)
	if aerr != nil || berr != nil || a != b {
		return statements.Errorf(statements.EInvalid,
			"signature: the JWS payload is not the signed statement (Data 2.6.s4.b3, 2.6.s5.b3.b2)")
	}
	if sid, rid := idOf(signed), idOf(received); sid != "" && rid != "" && !strings.EqualFold(sid, rid) {
		return statements.Errorf(statements.EInvalid,
			"signature: the JWS payload has id %s, the statement %s (Data 2.6.s5.b3.b2)", sid, rid)
	}
	return nil
}

// withoutSignatures returns the statement raw without its signature
// attachments, and without "attachments" when that leaves none.
func withoutSignatures(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, statements.Errorf(statements.EInvalid, "statement: must be a JSON object")
	}
	if atts, ok := m["attachments"].([]any); ok {
		kept := atts[:0]
		for _, a := range atts {
			if am, ok := a.(map[string]any); ok && am["usageType"] == usageSignature {
				continue
			}
			kept = append(kept, a)
		}
		if len(kept) == 0 {
			delete(m, "attachments")
		} else {
			m["attachments"] = kept
		}
	}
	return json.Marshal(m)
}

func idOf(raw []byte) string {
	var s struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &s)
	return s.ID
}
