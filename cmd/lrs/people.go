package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/statements"
)

// signInConfig is the configuration of people's sign-in (OpenID Connect,
// MPASSid), part of serveConfig. Without an issuer, no one signs in
// through /auth/login: the only people are a sandbox's test people.
type signInConfig struct {
	OIDCIssuer       string // --oidc-issuer, LRS_OIDC_ISSUER; default none: no sign-in
	OIDCClientID     string // --oidc-client-id, LRS_OIDC_CLIENT_ID; required with an issuer
	OIDCClientSecret string // --oidc-client-secret-file, LRS_OIDC_CLIENT_SECRET (or LRS_OIDC_CLIENT_SECRET_FILE); required with an issuer
	PublicURL        string // --public-url, LRS_PUBLIC_URL: where browsers reach the LRS; required with an issuer
	OIDCPersonClaim  string // --oidc-person-claim, LRS_OIDC_PERSON_CLAIM; default "" = urn:mpass.id:uid
	OIDCRoleClaim    string // --oidc-role-claim, LRS_OIDC_ROLE_CLAIM; default "" = urn:mpass.id:role
	OIDCTenantClaim  string // --oidc-tenant-claim, LRS_OIDC_TENANT_CLAIM; default "" = urn:mpass.id:educationProviderId
	// SessionKey and SessionKeyPrevious are LRS_SESSION_KEY and
	// LRS_SESSION_KEY_PREVIOUS (each also _FILE): 32 bytes in base64; the
	// first seals sessions, both open them. Default: a key generated at
	// start.
	SessionKey, SessionKeyPrevious string
	SessionTTL                     time.Duration // --session-ttl, LRS_SESSION_TTL; default 8h
	SessionIdle                    time.Duration // --session-idle, LRS_SESSION_IDLE; default 1h
}

// signInFlags defines the flags of signInConfig with their LRS_*
// fallbacks; the returned function completes and checks them after
// parsing.
func signInFlags(fs *flag.FlagSet, cfg *signInConfig, getenv func(string) string) func() error {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.OIDCIssuer, "oidc-issuer", env("LRS_OIDC_ISSUER", ""), "OpenID Connect provider people sign in with (MPASSid), its issuer URL; none: only a sandbox's test people sign in, from the vendor page (LRS_OIDC_ISSUER)")
	fs.StringVar(&cfg.OIDCClientID, "oidc-client-id", env("LRS_OIDC_CLIENT_ID", ""), "the LRS's client id at the provider, also the audience of bearer tokens (LRS_OIDC_CLIENT_ID)")
	secretFile := fs.String("oidc-client-secret-file", "", "file holding the client secret (LRS_OIDC_CLIENT_SECRET, LRS_OIDC_CLIENT_SECRET_FILE)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("LRS_PUBLIC_URL", ""), "URL browsers reach the LRS at, such as https://lrs.example.fi; the redirect URI is {public-url}/auth/callback (LRS_PUBLIC_URL)")
	fs.StringVar(&cfg.OIDCPersonClaim, "oidc-person-claim", env("LRS_OIDC_PERSON_CLAIM", ""), "claim naming the person; default "+signin.DefaultPersonClaim+" (LRS_OIDC_PERSON_CLAIM)")
	fs.StringVar(&cfg.OIDCRoleClaim, "oidc-role-claim", env("LRS_OIDC_ROLE_CLAIM", ""), "claim of the person's roles, municipality;school;group;role; default "+signin.DefaultRoleClaim+" (LRS_OIDC_ROLE_CLAIM)")
	fs.StringVar(&cfg.OIDCTenantClaim, "oidc-tenant-claim", env("LRS_OIDC_TENANT_CLAIM", ""), "claim whose values tenants own; default "+signin.DefaultTenantClaim+" (LRS_OIDC_TENANT_CLAIM)")
	ttl := fs.String("session-ttl", env("LRS_SESSION_TTL", ""), "how long a session lasts after sign-in; default 8h (LRS_SESSION_TTL)")
	idle := fs.String("session-idle", env("LRS_SESSION_IDLE", ""), "how long a session lasts without a request; default 1h (LRS_SESSION_IDLE)")
	return func() error {
		var err error
		if *secretFile != "" {
			if cfg.OIDCClientSecret, err = secretValue(func(n string) string {
				if n == "LRS_OIDC_CLIENT_SECRET_FILE" {
					return *secretFile
				}
				return ""
			}, "LRS_OIDC_CLIENT_SECRET"); err != nil {
				return errors.New(strings.Replace(err.Error(), "LRS_OIDC_CLIENT_SECRET_FILE", "--oidc-client-secret-file", 1))
			}
		} else if cfg.OIDCClientSecret, err = secretValue(getenv, "LRS_OIDC_CLIENT_SECRET"); err != nil {
			return err
		}
		for _, d := range []struct {
			flag, text string
			to         *time.Duration
		}{{"--session-ttl", *ttl, &cfg.SessionTTL}, {"--session-idle", *idle, &cfg.SessionIdle}} {
			if d.text == "" {
				continue
			}
			if *d.to, err = time.ParseDuration(d.text); err != nil || *d.to <= 0 {
				return fmt.Errorf("%s %q: want a positive duration such as 8h", d.flag, d.text)
			}
		}
		if cfg.SessionKey, err = secretValue(getenv, "LRS_SESSION_KEY"); err != nil {
			return err
		}
		if cfg.SessionKeyPrevious, err = secretValue(getenv, "LRS_SESSION_KEY_PREVIOUS"); err != nil {
			return err
		}
		if _, err := cfg.sessionKeys(); err != nil {
			return err
		}
		if cfg.OIDCIssuer == "" {
			if cfg.OIDCClientID != "" || cfg.OIDCClientSecret != "" {
				return errors.New("LRS_OIDC_CLIENT_ID, LRS_OIDC_CLIENT_SECRET: set, but LRS_OIDC_ISSUER (--oidc-issuer) missing")
			}
			return nil
		}
		_, err = cfg.signin(nil, zerolog.Nop())
		return err
	}
}

// sessionKeys decodes the session keys, the current one first.
func (cfg signInConfig) sessionKeys() ([][]byte, error) {
	if cfg.SessionKey == "" && cfg.SessionKeyPrevious != "" {
		return nil, errors.New("LRS_SESSION_KEY_PREVIOUS: set only beside LRS_SESSION_KEY")
	}
	var keys [][]byte
	for _, k := range []struct{ name, value string }{{"LRS_SESSION_KEY", cfg.SessionKey}, {"LRS_SESSION_KEY_PREVIOUS", cfg.SessionKeyPrevious}} {
		if k.value == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(k.value)
		if err != nil || len(b) != signin.SessionKeySize {
			return nil, fmt.Errorf("%s: want %d random bytes in base64 (openssl rand -base64 32)", k.name, signin.SessionKeySize)
		}
		keys = append(keys, b)
	}
	return keys, nil
}

// signin returns the configuration of the sign-in service; its errors
// name the settings.
func (cfg signInConfig) signin(tenant func(context.Context, string) (string, error), log zerolog.Logger) (signin.Config, error) {
	keys, err := cfg.sessionKeys()
	if err != nil {
		return signin.Config{}, err
	}
	c := signin.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, PublicURL: cfg.PublicURL,
		PersonClaim: cfg.OIDCPersonClaim, RoleClaim: cfg.OIDCRoleClaim, TenantClaim: cfg.OIDCTenantClaim,
		SessionKeys: keys, SessionTTL: cfg.SessionTTL, SessionIdle: cfg.SessionIdle, Tenant: tenant, Logger: log}
	if err := c.Check(); err != nil {
		msg := strings.Replace(err.Error(), "required with an Issuer", "required with an issuer (--oidc-issuer)", 1)
		for field, name := range map[string]string{"Issuer": "LRS_OIDC_ISSUER (--oidc-issuer)", "ClientID": "LRS_OIDC_CLIENT_ID (--oidc-client-id)",
			"ClientSecret": "LRS_OIDC_CLIENT_SECRET (or _FILE, --oidc-client-secret-file)", "PublicURL": "LRS_PUBLIC_URL (--public-url)"} {
			if rest, ok := strings.CutPrefix(msg, field); ok {
				msg = name + rest
			}
		}
		return c, errors.New(msg)
	}
	return c, nil
}

// tenantByIdentity is the store method that maps a value of the tenant
// claim to the tenant that owns it (the roster store provides it).
type tenantByIdentity interface {
	TenantByIdentity(ctx context.Context, value string) (*statements.Tenant, error)
}

// newSignIn returns the sign-in service cfg configures. Without an
// issuer it has no provider: no one signs in through /auth/login, and the
// only sessions are a sandbox's test people, opened from the vendor page.
// Tenants come from the store when it maps identities to tenants;
// otherwise every sign-in is refused, and the log says so once here.
func newSignIn(cfg signInConfig, store statements.Store, log zerolog.Logger) (*signin.Service, error) {
	var tenant func(context.Context, string) (string, error)
	if tb, ok := store.(tenantByIdentity); ok {
		tenant = func(ctx context.Context, v string) (string, error) {
			t, err := tb.TenantByIdentity(ctx, v)
			if err != nil || t == nil {
				return "", err
			}
			return t.ID, nil
		}
	} else if cfg.OIDCIssuer != "" {
		log.Error().Msg("sign-in: this store cannot map identities to tenants (TenantByIdentity); every sign-in is refused")
	}
	c, err := cfg.signin(tenant, log)
	if err != nil {
		return nil, err
	}
	c.Describe = func(ctx context.Context, p *signin.Person) (map[string]any, error) {
		return describe(ctx, store, p)
	}
	return signin.New(c)
}

// describe returns what GET /api/me adds to the claims: the person's
// roster user and name, read now, or rostered false when the tenant's
// roster does not know them.
func describe(ctx context.Context, store statements.RosterStore, p *signin.Person) (map[string]any, error) {
	u, err := store.RosterPerson(ctx, p.Tenant, p.ID)
	switch statements.ErrorCode(err) {
	case "":
		return map[string]any{"rostered": true, "sourcedId": u.SourcedID, "givenName": u.GivenName, "familyName": u.FamilyName}, nil
	case statements.ENotFound, statements.EConflict:
		return map[string]any{"rostered": false}, nil
	}
	return nil, err
}

// newPeopleAPI returns what the people API reads with: the roster rule
// over the store's rosters, and the identity rule of the OneRoster
// write-back (ids).
func newPeopleAPI(store statements.Store, ids *oneroster.Identities) *lrs.PeopleAPI {
	return &lrs.PeopleAPI{
		Rule:      &people.Rule{Roster: store},
		Agents:    ids,
		LineItems: ids.LineItems,
		StalledAfter: func(ctx context.Context, tenant string) time.Duration {
			c, err := ids.Admin.Config(ctx, tenant)
			if err != nil {
				return oneroster.TenantConfig{}.StalledAfter()
			}
			return c.StalledAfter()
		},
		Viewer: func(c *gin.Context) (people.Viewer, bool) {
			p := signin.PersonOf(c)
			if p == nil {
				return people.Viewer{}, false
			}
			return people.Viewer{Tenant: p.Tenant, Person: p.ID, Role: people.Role(p.Role())}, true
		},
	}
}
