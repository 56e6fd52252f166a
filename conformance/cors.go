package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// corsChecks cover cross-origin use from browsers (Communication 1.3.s1).
var corsChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 1.3.s1",
			Text:     "browsers are supported cross-domain: a CORS preflight (OPTIONS) is allowed for the origin with Authorization, Content-Type and X-Experience-API-Version",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			origin := "https://app.conformance.example.com"
			var errs []error
			for _, path := range []string{"statements", "about"} {
				r, err := c.do(ctx, request{
					method: http.MethodOptions, path: path, noAuth: true, noVersion: true,
					header: http.Header{
						"Origin":                         {origin},
						"Access-Control-Request-Method":  {http.MethodPut},
						"Access-Control-Request-Headers": {"authorization,content-type,x-experience-api-version"},
					},
				})
				if err != nil {
					return err
				}
				if r.status < 200 || r.status > 299 {
					errs = append(errs, fmt.Errorf("OPTIONS %s: status %d, want 2xx%s", r.url, r.status, r.bodyHint()))
					continue
				}
				if o := r.header.Get("Access-Control-Allow-Origin"); o != "*" && o != origin {
					errs = append(errs, fmt.Errorf("OPTIONS %s: Access-Control-Allow-Origin %q, want %q or *", r.url, o, origin))
				}
				allowed := strings.ToLower(strings.Join(r.header.Values("Access-Control-Allow-Headers"), ","))
				for _, h := range []string{"authorization", "content-type", "x-experience-api-version"} {
					// "*" does not cover Authorization in the Fetch standard.
					if !listHas(allowed, h) && !(h != "authorization" && listHas(allowed, "*")) {
						errs = append(errs, fmt.Errorf("OPTIONS %s: Access-Control-Allow-Headers %q does not allow %s", r.url, allowed, h))
					}
				}
				methods := strings.ToUpper(strings.Join(r.header.Values("Access-Control-Allow-Methods"), ","))
				if path == "statements" && !listHas(methods, "PUT") && !listHas(methods, "*") {
					errs = append(errs, fmt.Errorf("OPTIONS %s: Access-Control-Allow-Methods %q does not allow PUT", r.url, methods))
				}
			}
			return errors.Join(errs...)
		},
	},
}

// listHas reports whether a comma-separated header list holds the item.
func listHas(list, item string) bool {
	for _, v := range strings.Split(list, ",") {
		if strings.TrimSpace(v) == item {
			return true
		}
	}
	return false
}
