package lrs

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// The signed statement of Data Appendix D: its JWS (header with an x5c
// chain, payload of the statement as first serialized, RS256 signature)
// and the statement as sent with its signature attachment.
const appendixDJWS = "" +
	"ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJSkFNQjFjc051" +
	"QTYra01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RB" +
	"V0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFS" +
	"WVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBNRFF4TlRJNE16QmFGdzB4TkRBME1EUXhOVEk0TXpCYU1JR1dN" +
	"UXN3Q1FZRFZRUUdFd0pWVXpFU01CQUdBMVVFQ0JNSlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdjbUZ1YTJ4cGJqRVlNQllH" +
	"QTFVRUNoTVBSWGhoYlhCc1pTQkRiMjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdEZ1lEVlFRREV3ZEZlR0Z0Y0d4" +
	"bE1TSXdJQVlKS29aSWh2Y05BUWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZNQTBHQ1NxR1NJYjNEUUVCQVFVQUE0" +
	"R05BRENCaVFLQmdRRGp4dlpYRjMwV0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtGYS9WVG5ldDZMeTJPVDZabW1jSkVQbnEz" +
	"VW5ld3BIb09RK0dmaGhUa1cxM2owNmo1aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4dTRZbC95U1BScklQeVRqdEhkRzBNMlh6SWxt" +
	"bUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVwQzVwM2NWUUlEQVFBQm8zc3dlVEFKQmdOVkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJ" +
	"QkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxaQ0JEWlhKMGFXWnBZMkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1ll" +
	"VmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJYzN5dnJhNEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZC" +
	"UUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2a2duM2tKQXZ2MmxqL2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93" +
	"WUNTRElDRHBQb2JoNjJ4VENkOXFPYktoZ3dXT2kwNVBTQkxxVXUzbXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3" +
	"TC85dDRPb2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0iLA0KICAgICAgICAiTUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2K2pN" +
	"QTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFKQmdOVkJBWVRBbFZUTVJJd0VBWURWUVFJRXdsVVpXNXVaWE56WldVeEdEQVdCZ05W" +
	"QkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJzWlRFaU1DQUdDU3FHU0liM0RRRUpBUllUWlho" +
	"aGJYQnNaVUJsZUdGdGNHeGxMbU52YlRBZUZ3MHhNekEwTURReE5USTFOVE5hRncweU16QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJn" +
	"TlZCQVlUQWxWVE1SSXdFQVlEVlFRSUV3bFVaVzV1WlhOelpXVXhHREFXQmdOVkJBb1REMFY0WVcxd2JHVWdRMjl0Y0dGdWVURVFN" +
	"QTRHQTFVRUF4TUhSWGhoYlhCc1pURWlNQ0FHQ1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVHRnRjR3hsTG1OdmJUQ0JuekFO" +
	"QmdrcWhraUc5dzBCQVFFRkFBT0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2RERENlV5ZTl2SzlBeWNn" +
	"VjVCMytXQzhIQzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNLVjQ3aTZCOGJEdjRX" +
	"a3VHdlFhdmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNCMHpBZEJnTlZI" +
	"UTRFRmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlWSWMzeXZyYTRFQnoyMEk0QkYz" +
	"OUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBW" +
	"NFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pV" +
	"QmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitqTUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVGQlFBRGdZRUFE" +
	"aHdUZWJHazczNXlLaG04RHFDeHZObkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpjV1k1UVlrb042RG53" +
	"ak94R2tTZlFDMy95R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1TFdxZWhEQitnMkVOV1JM" +
	"b1ZnUyttYTUvWWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4wIiwNCiAgICAiaWQiOiAiMzNj" +
	"ZmY0MTYtZTMzMS00YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQogICAgICAgICJtYm94IjogIm1haWx0" +
	"bzpleGFtcGxlQGV4YW1wbGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBMZWFybmVyIiwNCiAgICAgICAgIm9iamVj" +
	"dFR5cGUiOiAiQWdlbnQiDQogICAgfSwNCiAgICAidmVyYiI6IHsNCiAgICAgICAgImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4" +
	"cGFwaS92ZXJicy9leHBlcmllbmNlZCIsDQogICAgICAgICJkaXNwbGF5Ijogew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVy" +
	"aWVuY2VkIg0KICAgICAgICB9DQogICAgfSwNCiAgICAib2JqZWN0Ijogew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91" +
	"dHViZS5jb20vd2F0Y2g_dj14aDRrSWlIM1NtOCIsDQogICAgICAgICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAg" +
	"ImRlZmluaXRpb24iOiB7DQogICAgICAgICAgICAibmFtZSI6IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRpcHMg" +
	"JiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAgICAgICAgICAgImRl" +
	"c2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAgICJlbi1VUyI6ICJGaWxpbmcgYSB0YXggcmV0dXJuIHdpbGwgcmVxdWlyZSBm" +
	"aWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAxMDQwQSBvciAxMDQwRVogZm9ybSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0K" +
	"ICAgIH0sDQogICAgInRpbWVzdGFtcCI6ICIyMDEzLTA0LTAxVDEyOjAwOjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-" +
	"TrVaEgt_DCUT0bmKhQScRrjMB6P9O50uznPwT66oF1NnU_G0HVhRzS5voiXE-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5Ijo" +
	"BBGe3yzaQ2ZvzarvRuipvNEQCI0onpfuZZJQ0d8"

const appendixDSigned = `{
    "version": "1.0.0",
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {
        "mbox": "mailto:example@example.com",
        "name": "Example Learner",
        "objectType": "Agent"
    },
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/experienced",
        "display": {
            "en-US": "experienced"
        }
    },
    "object": {
        "id": "https://www.youtube.com/watch?v=xh4kIiH3Sm8",
        "objectType": "Activity",
        "definition": {
            "name": {
                "en-US": "Tax Tips & Information : How to File a Tax Return "
            },
            "description": {
                "en-US": "Filing a tax return will require filling out either a 1040, 1040A or 1040EZ form"
            }
        }
    },
    "timestamp": "2013-04-01T12:00:00Z",
    "attachments": [
        {
            "usageType": "http://adlnet.gov/expapi/attachments/signature",
            "display": { "en-US": "Signature" },
            "description": { "en-US": "A test signature" },
            "contentType": "application/octet-stream",
            "length": 4235,
            "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"
        }
    ]
}`

// appendixDPayload is the statement Appendix D signed.
func appendixDPayload(t testing.TB) []byte {
	t.Helper()
	p, err := decodeSegment(strings.Split(appendixDJWS, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKey is an RSA key and a self-signed certificate for it.
type testKey struct {
	key  *rsa.PrivateKey
	cert []byte // DER
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{k, der}
}

// sign returns a compact JWS of payload; withX5C puts the certificate in
// the header.
func (k testKey) sign(t testing.TB, alg string, payload []byte, withX5C bool) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	if withX5C {
		h["x5c"] = []string{base64.StdEncoding.EncodeToString(k.cert)}
	}
	hb, _ := json.Marshal(h)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	hash := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512, "HS256": crypto.SHA256}[alg]
	d := hash.New()
	d.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, hash, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

const unsigned = `{"id":"0b6b2bd6-3b8e-4a51-9a36-7e8e1f4d3c11","actor":{"mbox":"mailto:signer@example.fi"},
 "verb":{"id":"http://adlnet.gov/expapi/verbs/passed","display":{"en-US":"passed"}},
 "object":{"id":"http://example.fi/exam"},"result":{"score":{"scaled":0.75}}}`

// withSignature returns stmt with a signature attachment added.
func withSignature(stmt string) []byte {
	var m map[string]any
	if err := json.Unmarshal([]byte(stmt), &m); err != nil {
		panic(err)
	}
	atts, _ := m["attachments"].([]any)
	m["attachments"] = append(atts, map[string]any{"usageType": usageSignature, "display": map[string]any{"en-US": "Signature"},
		"contentType": "application/octet-stream", "length": 1, "sha2": strings.Repeat("ab", 32)})
	b, _ := json.Marshal(m)
	return b
}

func TestVerifySignature(t *testing.T) {
	k := newTestKey(t)
	other := newTestKey(t)
	edited := strings.Replace(unsigned, "0.75", "0.95", 1)
	reordered := `{"object":{"id":"http://example.fi/exam"},"verb":{"display":{"fi":"läpäisi"},"id":"http://adlnet.gov/expapi/verbs/passed"},
		"actor":{"mbox":"mailto:signer@example.fi"},"id":"0B6B2BD6-3B8E-4A51-9A36-7E8E1F4D3C11","result":{"score":{"scaled":0.750}}}`
	jwsOther := other.sign(t, "RS256", []byte(unsigned), false)
	parts := strings.Split(jwsOther, ".")
	tests := []struct {
		name    string
		stmt    []byte
		jws     string
		wantErr string // "" = valid
	}{
		{"Appendix D", []byte(appendixDSigned), appendixDJWS, ""},
		{"Appendix D without the signature attachment", appendixDPayload(t), appendixDJWS, ""},
		{"RS256 with x5c", withSignature(unsigned), k.sign(t, "RS256", []byte(unsigned), true), ""},
		{"RS384 with x5c", withSignature(unsigned), k.sign(t, "RS384", []byte(unsigned), true), ""},
		{"RS512 without x5c", withSignature(unsigned), k.sign(t, "RS512", []byte(unsigned), false), ""},
		{"payload differs in serialization only", withSignature(reordered), k.sign(t, "RS256", []byte(unsigned), true), ""},
		{"padded base64url", withSignature(unsigned), k.sign(t, "RS256", []byte(unsigned), true) + "==", ""},
		{"with other attachments", withSignature(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://example.fi/v"},"object":{"id":"http://example.fi/o"},
			"attachments":[{"usageType":"http://example.fi/cert","display":{"en":"C"},"contentType":"text/plain","length":1,"sha2":"` + strings.Repeat("cd", 32) + `","fileUrl":"http://example.fi/c"}]}`),
			k.sign(t, "RS256", []byte(`{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://example.fi/v"},"object":{"id":"http://example.fi/o"},
			"attachments":[{"usageType":"http://example.fi/cert","display":{"en":"C"},"contentType":"text/plain","length":1,"sha2":"`+strings.Repeat("cd", 32)+`","fileUrl":"http://example.fi/c"}]}`), true), ""},
		{"payload is another statement", withSignature(edited), k.sign(t, "RS256", []byte(unsigned), true), "payload is not the signed statement"},
		{"payload has another id", withSignature(strings.Replace(unsigned, "0b6b2bd6", "1b6b2bd6", 1)), k.sign(t, "RS256", []byte(unsigned), true), "id"},
		{"Appendix D statement edited", []byte(strings.Replace(appendixDSigned, "Example Learner", "Other Learner", 1)), appendixDJWS, "payload is not the signed statement"},
		{"HS256", withSignature(unsigned), k.sign(t, "HS256", []byte(unsigned), true), "RS256, RS384 or RS512"},
		{"no x5c: signature not checked", withSignature(unsigned), parts[0] + "." + parts[1] + "." + strings.Split(other.sign(t, "RS256", []byte(edited), false), ".")[2], ""},
		{"x5c of another key", withSignature(unsigned), func() string {
			h, _ := json.Marshal(map[string]any{"alg": "RS256", "x5c": []string{base64.StdEncoding.EncodeToString(k.cert)}})
			return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
		}(), "does not verify"},
		{"Appendix D signature altered", []byte(appendixDSigned), appendixDJWS[:len(appendixDJWS)-4] + "AAAA", "does not verify"},
		{"not compact", withSignature(unsigned), `{"payload":"e30","signatures":[]}`, "compact serialization"},
		{"header not JSON", withSignature(unsigned), "bm90IGpzb24." + parts[1] + "." + parts[2], "header is not a JSON object"},
		{"payload not JSON", withSignature(unsigned), parts[0] + ".bm90IGpzb24." + parts[2], "payload is not a JSON statement"},
		{"x5c not a certificate", withSignature(unsigned), func() string {
			h, _ := json.Marshal(map[string]any{"alg": "RS256", "x5c": []string{"bm90IGEgY2VydA=="}})
			return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
		}(), "not an X.509 certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verifySignature(tc.stmt, []byte(tc.jws))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("verifySignature: %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("verifySignature: valid, want an error containing %q", tc.wantErr)
			}
			if got := statements.ErrorCode(err); got != statements.EInvalid {
				t.Errorf("error code %q, want %q", got, statements.EInvalid)
			}
			if !strings.Contains(statements.ErrorMessage(err), tc.wantErr) {
				t.Errorf("error %q does not contain %q", statements.ErrorMessage(err), tc.wantErr)
			}
		})
	}
}
