package lrs

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
)

// normalOrigin is an origin as the allow-lists keep it: lower case,
// without a final slash.
func normalOrigin(o string) string { return strings.TrimRight(strings.ToLower(o), "/") }

// tenantOriginsTTL is how long the tenants' CORS origins are cached; a
// change through the admin API of this process takes effect at once.
const tenantOriginsTTL = 30 * time.Second

// tenantOrigins caches the CORS origins every tenant lists, for the
// preflights, which carry no credential.
type tenantOrigins struct {
	store interface {
		Tenants(ctx context.Context) ([]statements.Tenant, error)
	} // nil: no tenant lists origins
	now func() time.Time

	mu     sync.Mutex
	set    map[string]bool
	loaded time.Time
}

// listed reports whether some tenant lists origin (normalOrigin).
func (o *tenantOrigins) listed(ctx context.Context, origin string) bool {
	if o.store == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.set == nil || o.now().Sub(o.loaded) > tenantOriginsTTL {
		ts, err := o.store.Tenants(ctx)
		if err != nil {
			return o.set[origin] // the last known, until the store answers
		}
		set := map[string]bool{}
		for _, t := range ts {
			for _, x := range t.CORSOrigins {
				set[normalOrigin(x)] = true
			}
		}
		o.set, o.loaded = set, o.now()
	}
	return o.set[origin]
}

// forget makes the next look-up read the tenants again.
func (o *tenantOrigins) forget() {
	o.mu.Lock()
	o.set = nil
	o.mu.Unlock()
}

// corsAfterLogin takes back the credentials the CORS headers offered an
// origin that some tenant lists but the request's tenant does not: the
// browser then keeps the response from the page. Without a server list,
// such an origin still gets "*" and no credentials, as any other.
func (s *Server) corsAfterLogin(c *gin.Context, origins []string) {
	origin := c.GetString(ctxTenantOrigin)
	if origin == "" || slices.ContainsFunc(origins, func(o string) bool { return normalOrigin(o) == origin }) {
		return
	}
	h := c.Writer.Header()
	h.Del("Access-Control-Allow-Credentials")
	if s.corsOrigins == nil {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Del("Access-Control-Allow-Origin")
	}
}
