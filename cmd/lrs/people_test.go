package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
)

func TestParseServeConfig_SignIn(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	key := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes of 1
	ok := map[string]string{"LRS_OIDC_ISSUER": "https://mpass-proxy.csc.fi", "LRS_OIDC_CLIENT_ID": "lrs",
		"LRS_OIDC_CLIENT_SECRET": "s", "LRS_PUBLIC_URL": "https://lrs.example.fi"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string // error; "" = none
	}{
		{"None", nil, nil, ""},
		{"OK", nil, ok, ""},
		{"Flags", []string{"--oidc-issuer", "http://127.0.0.1:9", "--oidc-client-id", "c", "--oidc-client-secret-file", secretFile, "--public-url", "http://localhost:8080"}, nil, ""},
		{"Keys", nil, with("LRS_SESSION_KEY", key, "LRS_SESSION_KEY_PREVIOUS", key), ""},
		{"NoClientID", nil, with("LRS_OIDC_CLIENT_ID", ""), "LRS_OIDC_CLIENT_ID (--oidc-client-id): required with an issuer (--oidc-issuer)"},
		{"NoSecret", nil, with("LRS_OIDC_CLIENT_SECRET", ""), "LRS_OIDC_CLIENT_SECRET (or _FILE, --oidc-client-secret-file): required with an issuer (--oidc-issuer)"},
		{"NoPublicURL", nil, with("LRS_PUBLIC_URL", ""), "LRS_PUBLIC_URL (--public-url): required with an issuer (--oidc-issuer)"},
		{"HTTPPublicURL", nil, with("LRS_PUBLIC_URL", "http://lrs.example.fi"), `LRS_PUBLIC_URL (--public-url) "http://lrs.example.fi": want https://host[:port][/path] with no query (http only on a loopback host)`},
		{"ClientWithoutIssuer", nil, map[string]string{"LRS_OIDC_CLIENT_ID": "lrs"}, "LRS_OIDC_CLIENT_ID, LRS_OIDC_CLIENT_SECRET: set, but LRS_OIDC_ISSUER (--oidc-issuer) missing"},
		{"ShortKey", nil, with("LRS_SESSION_KEY", "c2hvcnQ="), "LRS_SESSION_KEY: want 32 random bytes in base64 (openssl rand -base64 32)"},
		{"PreviousAlone", nil, with("LRS_SESSION_KEY_PREVIOUS", key), "LRS_SESSION_KEY_PREVIOUS: set only beside LRS_SESSION_KEY"},
		{"BadTTL", []string{"--session-ttl", "soon"}, ok, `--session-ttl "soon": want a positive duration such as 8h`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeConfig(tt.args, env(tt.env), io.Discard)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("error %q, want %q", got, tt.want)
			}
			if tt.name == "Flags" && cfg.OIDCClientSecret != "from-file" {
				t.Errorf("client secret %q, want the file's", cfg.OIDCClientSecret)
			}
			if tt.name == "Keys" {
				if keys, _ := cfg.sessionKeys(); len(keys) != 2 {
					t.Errorf("%d session keys, want 2", len(keys))
				}
			}
		})
	}
}

// TestServe_SignIn: with the provider down at start, xAPI is served and
// /auth/login answers 503 until discovery succeeds; a store that cannot map
// identities to tenants refuses every sign-in.
func TestServe_SignIn(t *testing.T) {
	// An address nothing listens on, for the provider until it starts.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	cfg := serveConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: "sqlite", LogLevel: "disabled",
		signInConfig: signInConfig{OIDCIssuer: down, OIDCClientID: "lrs", OIDCClientSecret: "lrs-secret", PublicURL: "http://127.0.0.1:1"}}
	a := startApp(t, cfg, io.Discard)
	base := "http://" + a.Addr()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func(path string) int {
		res, err := noRedirect.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("/auth/login"); got != http.StatusServiceUnavailable {
		t.Errorf("/auth/login with the provider down: %d, want 503", got)
	}
	if got := status("/xapi/about"); got != http.StatusOK {
		t.Errorf("/xapi/about with the provider down: %d, want 200", got)
	}
	if got := status("/readyz"); got != http.StatusOK {
		t.Errorf("/readyz with the provider down: %d, want 200", got)
	}
	a.stop()

	op := oidctest.Start(t)
	op.SignInAs(map[string]any{"urn:mpass.id:uid": "p-1", "urn:mpass.id:role": "Espoo;1;;2", "urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
	cfg.OIDCIssuer = op.URL
	a = startApp(t, cfg, io.Discard)
	base = "http://" + a.Addr()
	if _, ok := a.store.(tenantByIdentity); ok {
		t.Skip("the store maps identities to tenants: the refusal below does not apply")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for a.people.Ready() == false && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// login → provider → callback (on this app's address, not the public
	// URL's, which no one listens on here).
	jar := &jarless{}
	res, err := noRedirect.Get(base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	jar.take(res)
	res, err = noRedirect.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))
	req, _ := http.NewRequest("GET", base+"/auth/callback?"+cb.RawQuery, nil)
	jar.give(req)
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"error":"`+statements.EUnavailable+`"`) {
		t.Errorf("callback on a store without TenantByIdentity: %d %s, want 503", res.StatusCode, b)
	}
}

// jarless carries cookies by hand: the public URL and the app's address
// differ here, which a cookie jar would not bridge.
type jarless struct{ cookies []*http.Cookie }

func (j *jarless) take(res *http.Response) { j.cookies = append(j.cookies, res.Cookies()...) }
func (j *jarless) give(req *http.Request) {
	for _, c := range j.cookies {
		req.AddCookie(c)
	}
}
