package lrs

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"time"

	"github.com/digione/lrs/statements"
)

// AuthorityHomePage is the account home page of the authority agents the
// LRS sets on statements: account.name is the credential key.
const AuthorityHomePage = "https://lrs.digione.fi/credentials"

// Authority returns the authority Agent JSON of a credential.
func Authority(key, name string) []byte {
	b, _ := json.Marshal(map[string]any{
		"objectType": "Agent",
		"name":       name,
		"account":    map[string]string{"homePage": AuthorityHomePage, "name": key},
	})
	return b
}

// Bootstrapped reports the first tenant and credential of an empty store.
type Bootstrapped struct {
	Tenant string
	Key    string
	Secret string // empty when the secret was given, not generated
}

// DefaultTenant is the tenant a fresh store starts with.
const DefaultTenant = "default"

// BootstrapCredential says what the first credential of an empty store
// is; empty fields are generated (Key, Secret) or left unset.
type BootstrapCredential struct {
	Key, Secret string
	// XAPIVersion is the xAPI version its app declares (1.0.3 or 2.0.0).
	XAPIVersion string
}

// Bootstrap makes sure the store has a tenant and a credential. When the
// store has no tenant, it creates DefaultTenant and a credential with
// scope "all" and no limits (Unlimited) as bc says, and returns it;
// otherwise it returns nil.
func Bootstrap(ctx context.Context, store statements.Store, bc BootstrapCredential, now time.Time) (*Bootstrapped, error) {
	if err := validXAPIVersion(bc.XAPIVersion); err != nil {
		return nil, err
	}
	key, secret := bc.Key, bc.Secret
	tenants, err := store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	if len(tenants) > 0 {
		return nil, nil
	}
	out := &Bootstrapped{Tenant: DefaultTenant, Key: key}
	if out.Key == "" {
		out.Key = randomToken(12)
	}
	var hash []byte
	if secret == "" {
		secret = randomToken(generatedSecretLen)
		out.Secret = secret
		hash = hashGenerated(secret)
	} else {
		var err error
		if hash, err = HashSecret(secret); err != nil {
			return nil, statements.Internal(err, "hash secret")
		}
	}
	if err := store.CreateTenant(ctx, statements.Tenant{ID: DefaultTenant, Name: "Default tenant", Created: now}); err != nil {
		return nil, err
	}
	err = store.CreateCredential(ctx, statements.Credential{
		Key: out.Key, Tenant: DefaultTenant, SecretHash: hash, Scopes: []string{scopeAll},
		Authority: Authority(out.Key, "bootstrap credential"), Created: now,
		Name: "bootstrap credential", Limits: Unlimited, XAPIVersion: bc.XAPIVersion,
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const tokenAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomToken returns n random characters of an unambiguous alphabet.
func randomToken(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			// Bytes past the largest multiple of the alphabet's size would
			// favour its first letters: skip them.
			if int(c) < 256/len(tokenAlphabet)*len(tokenAlphabet) && len(out) < n {
				out = append(out, tokenAlphabet[int(c)%len(tokenAlphabet)])
			}
		}
	}
	return string(out)
}
