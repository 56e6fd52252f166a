package lrs_test

import (
	"crypto"
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
	"testing"
	"time"
)

// signJWS returns a compact RS256 JWS of payload with a fresh key and its
// self-signed certificate in x5c.
func signJWS(t testing.TB, payload string) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "x5c": []string{base64.StdEncoding.EncodeToString(der)}})
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	d := crypto.SHA256.New()
	d.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
}

// signed returns stmt (a JSON object) with a signature attachment for jws.
func signed(stmt string, jws []byte) string {
	return strings.TrimSuffix(strings.TrimSpace(stmt), "}") + fmt.Sprintf(
		`,"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"Signature"},
		"contentType":"application/octet-stream","length":%d,"sha2":%q}]}`, len(jws), sha256Hex(jws))
}

func TestSignedStatements(t *testing.T) {
	srv := MustOpenServer(t)
	id := newUUID()
	stmt := stmtWith(id)
	jws := signJWS(t, stmt)

	t.Run("OK", func(t *testing.T) {
		ct, body := multipartBody(t, signed(stmt, jws), part{content: jws})
		resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusOK)
		resp, b = send(t, srv, "GET", "/xapi/statements?attachments=true&statementId="+id, "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		parts := readMultipart(t, resp, b)
		if len(parts) != 2 || string(parts[1].body) != string(jws) {
			t.Errorf("the signature did not round-trip (%d parts)", len(parts))
		}
	})
	t.Run("ErrPayloadDiffers", func(t *testing.T) {
		other := strings.Replace(stmtWith(newUUID()), "completed", "failed", 1)
		ct, body := multipartBody(t, signed(other, signJWS(t, strings.Replace(other, "failed", "passed", 1))),
			part{content: signJWS(t, strings.Replace(other, "failed", "passed", 1))})
		resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusBadRequest)
	})
	t.Run("ErrTampered", func(t *testing.T) {
		s := stmtWith(newUUID())
		bad := signJWS(t, s)
		bad[len(bad)-5] ^= 1
		ct, body := multipartBody(t, signed(s, bad), part{content: bad})
		resp, b := send(t, srv, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusBadRequest)
		if !strings.Contains(string(b), "/attachments/0: signature") {
			t.Errorf("body %s does not name the signature", b)
		}
	})
	t.Run("ErrNotJWS", func(t *testing.T) {
		s := stmtWith(newUUID())
		junk := []byte("not a signature")
		ct, body := multipartBody(t, signed(s, junk), part{content: junk})
		resp, b := send(t, srv, "PUT", "/xapi/statements?statementId="+idOfStmt(s), ct, body)
		wantStatus(t, resp, b, http.StatusBadRequest)
	})
	t.Run("ErrSignatureByFileURL", func(t *testing.T) {
		s := stmtWith(newUUID())
		js := strings.Replace(signed(s, signJWS(t, s)), `"sha2"`, `"fileUrl":"https://example.fi/sig","sha2"`, 1)
		resp, b := send(t, srv, "POST", "/xapi/statements", "application/json", []byte(js))
		wantStatus(t, resp, b, http.StatusBadRequest)
	})
}

func idOfStmt(s string) string {
	var x struct{ ID string }
	json.Unmarshal([]byte(s), &x)
	return x.ID
}
