package signin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// MPASSid's claim names, the defaults of Config (see the package comment).
const (
	DefaultPersonClaim = "urn:mpass.id:uid"
	DefaultRoleClaim   = "urn:mpass.id:role"
	DefaultTenantClaim = "urn:mpass.id:educationProviderId"
)

// Defaults of Config.
const (
	DefaultSessionTTL  = 8 * time.Hour
	DefaultSessionIdle = time.Hour
	DefaultCookieName  = "lrs_session"
	// SessionKeySize is the length of a session key in bytes (AES-256).
	SessionKeySize = 32
)

// Config is the configuration of a Service.
type Config struct {
	// Issuer is the OpenID Connect provider's issuer URL, whose
	// /.well-known/openid-configuration is discovered. "" means no
	// provider: no one signs in through /auth/login (404) and no bearer
	// token is taken; the only sessions are those the LRS starts itself
	// with SignInAs (a sandbox's test people).
	Issuer string
	// ClientID and ClientSecret are the LRS's client at the provider; the
	// client id is also the audience bearer tokens must name. Required
	// with an Issuer.
	ClientID     string
	ClientSecret string
	// PublicURL is the URL browsers reach the LRS at, such as
	// https://lrs.example.fi; the redirect URI is PublicURL +
	// "/auth/callback". Cookies are Secure unless it is http on a
	// loopback host. Required with an Issuer; without one and without
	// PublicURL, the origin is the request's own (its Host, https when
	// the connection is TLS), so behind a proxy that ends TLS set it.
	PublicURL string
	// PersonClaim, RoleClaim and TenantClaim name the claims of who the
	// person is, their roles, and which tenant they belong to; defaults
	// DefaultPersonClaim, DefaultRoleClaim, DefaultTenantClaim (MPASSid).
	PersonClaim string
	RoleClaim   string
	TenantClaim string
	// Scopes are asked of the provider besides "openid"; default
	// "profile".
	Scopes []string
	// Tenant returns the id of the tenant that owns a value of the tenant
	// claim, "" (or an error with code statements.ENotFound) when none
	// does. Nil: every sign-in is refused (503), the people API answers
	// no one.
	Tenant func(ctx context.Context, claimValue string) (tenantID string, err error)
	// Describe, if set, adds to GET /api/me what the LRS knows of the
	// person beyond the claims (their name in the roster), read when asked
	// and never kept in the session.
	Describe func(ctx context.Context, p *Person) (map[string]any, error)
	// SessionKeys seal the session and login cookies: the first seals,
	// each opens (put the previous key second while rotating). Each is
	// SessionKeySize bytes. Default: one key generated at New, so sessions
	// end with the process and are not shared between replicas.
	SessionKeys [][]byte
	// SessionTTL is how long a session lasts after sign-in, and
	// SessionIdle how long it lasts without a request; defaults
	// DefaultSessionTTL and DefaultSessionIdle.
	SessionTTL  time.Duration
	SessionIdle time.Duration
	// CookieName names the session cookie; default DefaultCookieName.
	CookieName string
	// HTTPClient talks to the provider; default a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Logger receives sign-in failures and discovery faults, never a
	// person's id (a keyed hash at most); the zero value logs nothing.
	Logger zerolog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Check reports the first field of c that is missing or wrong, naming it
// and the rule.
func (c Config) Check() error {
	if c.Issuer != "" {
		if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return fmt.Errorf("Issuer %q: want an https URL (http only on a loopback host)", c.Issuer)
		}
		if c.ClientID == "" {
			return errors.New("ClientID: required with an Issuer")
		}
		if c.ClientSecret == "" {
			return errors.New("ClientSecret: required with an Issuer")
		}
		if c.PublicURL == "" {
			return errors.New("PublicURL: required with an Issuer")
		}
	} else if c.ClientID != "" || c.ClientSecret != "" {
		return errors.New("ClientID, ClientSecret: set, but Issuer missing")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("PublicURL %q: want https://host[:port][/path] with no query (http only on a loopback host)", c.PublicURL)
		}
	}
	for i, k := range c.SessionKeys {
		if len(k) != SessionKeySize {
			return fmt.Errorf("SessionKeys[%d]: want %d bytes, have %d", i, SessionKeySize, len(k))
		}
	}
	if c.SessionTTL < 0 || c.SessionIdle < 0 {
		return errors.New("SessionTTL, SessionIdle: must not be negative")
	}
	if c.CookieName != "" && strings.ContainsAny(c.CookieName, " ;,=\t\r\n\"") {
		return fmt.Errorf("CookieName %q: not a cookie name", c.CookieName)
	}
	return nil
}

// isLoopback reports whether host names this machine: localhost or a
// loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
