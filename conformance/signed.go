package conformance

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// signatureChecks cover signed statements (Data 2.6): a JWS attachment of
// the statement, verified by the LRS.
var signatureChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s4.b1",
			Text:     `the LRS accepts a statement signed with a JWS attachment (usageType http://adlnet.gov/expapi/attachments/signature, contentType application/octet-stream) and returns the signature with attachments=true`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			jws, err := signJWS("RS256", jsonBytes(s), true)
			if err != nil {
				return err
			}
			signed := withSignature(s, jws)
			r, err := c.postMultipart(ctx, signed, signaturePart(jws))
			if err != nil {
				return err
			}
			if err := r.wantStatus(http.StatusOK); err != nil {
				return err
			}
			parts, err := c.fetchWithAttachments(ctx, idOf(s))
			if err != nil {
				return err
			}
			return wantAttachmentParts(parts[1:], jws)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s4.b3",
			Text:     "the JWS payload is the statement before the signature was added; a statement whose JWS payload is another statement is rejected with 400",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			other := clone(s)
			other["verb"] = c.verb()
			jws, err := signJWS("RS256", jsonBytes(other), true)
			if err != nil {
				return err
			}
			return c.wantRejectedMultipart(ctx, "payload of another statement", withSignature(s, jws), signaturePart(jws))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s4.b4",
			Text:     `the JWS algorithm is RS256, RS384 or RS512: the LRS accepts each and rejects another (HS256) with 400`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			for _, alg := range []string{"RS384", "RS512"} {
				s := c.statement()
				jws, err := signJWS(alg, jsonBytes(s), true)
				if err != nil {
					return err
				}
				r, err := c.postMultipart(ctx, withSignature(s, jws), signaturePart(jws))
				if err != nil {
					return err
				}
				if err := r.wantStatus(http.StatusOK); err != nil {
					return fmt.Errorf("%s: %w", alg, err)
				}
			}
			s := c.statement()
			jws, err := signJWS("HS256", jsonBytes(s), false)
			if err != nil {
				return err
			}
			return c.wantRejectedMultipart(ctx, "HS256", withSignature(s, jws), signaturePart(jws))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s5.b1",
			Text:     "the LRS rejects statements with malformed signatures with 400 Bad Request",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			for _, bad := range []string{"not a signature", "e30.e30", "!!!.###.$$$"} {
				s := c.statement()
				if err := c.wantRejectedMultipart(ctx, fmt.Sprintf("signature %q", bad), withSignature(s, []byte(bad)), signaturePart([]byte(bad))); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s5.b3.b2",
			Text:     "the LRS compares the JWS payload with the received statement by the statement comparison rules: another serialization of the same statement verifies",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			payload := clone(s)
			// Verb display and activity definitions are not part of the
			// statement (Data 2.3.1.b2, b3); neither is whitespace.
			payload["verb"].(obj)["display"] = obj{"fi-FI": "koki"}
			delete(payload["object"].(obj), "definition")
			data, _ := json.MarshalIndent(payload, "", "    ")
			jws, err := signJWS("RS256", data, true)
			if err != nil {
				return err
			}
			r, err := c.postMultipart(ctx, withSignature(s, jws), signaturePart(jws))
			if err != nil {
				return err
			}
			return r.wantStatus(http.StatusOK)
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s5.b3.b3",
			Text:     "when the JWS header includes an X.509 certificate (x5c) the LRS validates the signature against it and rejects a statement whose signature does not verify",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			jws, err := signJWS("RS256", jsonBytes(s), true)
			if err != nil {
				return err
			}
			segs := strings.Split(string(jws), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(segs[2])
			sig[len(sig)/2] ^= 0x55
			bad := []byte(segs[0] + "." + segs[1] + "." + base64.RawURLEncoding.EncodeToString(sig))
			return c.wantRejectedMultipart(ctx, "altered signature", withSignature(s, bad), signaturePart(bad))
		},
	},
	{
		Requirement: Requirement{
			ID:       "Data 2.6.s4.b2",
			Text:     "JWS Compact Serialization is used; a signature in the JWS JSON Serialization is rejected",
			Versions: only200,
		},
		Run: func(ctx context.Context, c *Client) error {
			s := c.statement()
			jws, err := signJWS("RS256", jsonBytes(s), true)
			if err != nil {
				return err
			}
			segs := strings.Split(string(jws), ".")
			js := jsonBytes(obj{"payload": segs[1], "signatures": []any{obj{"protected": segs[0], "signature": segs[2]}}})
			return c.wantRejectedMultipart(ctx, "JSON serialization", withSignature(s, js), signaturePart(js))
		},
	},
}

func jsonBytes(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// withSignature returns a copy of the statement with a signature
// attachment for jws added.
func withSignature(s obj, jws []byte) obj {
	out := clone(s)
	atts, _ := out["attachments"].([]any)
	out["attachments"] = append(atts, obj{
		"usageType":   "http://adlnet.gov/expapi/attachments/signature",
		"display":     obj{"en-US": "Signature"},
		"contentType": "application/octet-stream",
		"length":      float64(len(jws)),
		"sha2":        sha256Hex(jws),
	})
	return out
}

func signaturePart(jws []byte) rawPart { return attachmentPart(jws, "application/octet-stream") }

// signer is the harness's signing key with a self-signed certificate,
// made once per process.
var signer = sync.OnceValues(func() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xAPI conformance signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	return &signingKey{key: k, cert: der}, nil
})

type signingKey struct {
	key  *rsa.PrivateKey
	cert []byte // DER
}

// signJWS returns a compact JWS of payload. RS* algorithms sign with the
// harness key (x5c carries its certificate when withX5C); HS256 signs with
// a fixed secret.
func signJWS(alg string, payload []byte, withX5C bool) ([]byte, error) {
	k, err := signer()
	if err != nil {
		return nil, fmt.Errorf("making a signing key: %w", err)
	}
	h := obj{"alg": alg}
	if withX5C {
		h["x5c"] = []string{base64.StdEncoding.EncodeToString(k.cert)}
	}
	input := base64.RawURLEncoding.EncodeToString(jsonBytes(h)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var sig []byte
	switch alg {
	case "RS256", "RS384", "RS512":
		hash := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}[alg]
		d := hash.New()
		d.Write([]byte(input))
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k.key, hash, d.Sum(nil)); err != nil {
			return nil, err
		}
	case "HS256":
		m := hmac.New(crypto.SHA256.New, []byte("conformance secret"))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		return nil, fmt.Errorf("signJWS: unknown algorithm %s", alg)
	}
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig)), nil
}
