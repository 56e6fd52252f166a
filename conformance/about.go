package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// aboutChecks cover the About Resource (Communication 2.8).
var aboutChecks = []Check{
	{
		Requirement: Requirement{
			ID:       "Communication 2.8.s5.b1",
			Text:     `GET /about returns 200 and a JSON object whose "version" array includes the latest patch version the LRS conforms to, for each major version`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			about, err := c.about(ctx, request{})
			if err != nil {
				return err
			}
			versions, ok := about["version"].([]any)
			if !ok {
				return fmt.Errorf(`/about has no "version" array: %s`, jsonString(about))
			}
			var listed []string
			for _, v := range versions {
				s, ok := v.(string)
				if !ok {
					return fmt.Errorf(`/about "version" holds a non-string %v`, v)
				}
				listed = append(listed, s)
			}
			if !slices.Contains(listed, c.version) {
				return fmt.Errorf(`/about "version" is %v, want it to include %q`, listed, c.version)
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.8.s5.b2",
			Text:     `/about has no properties other than "version" and "extensions"`,
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			about, err := c.about(ctx, request{})
			if err != nil {
				return err
			}
			for k := range about {
				if k != "version" && k != "extensions" {
					return fmt.Errorf("/about has property %q outside of extensions", k)
				}
			}
			if ext, ok := about["extensions"]; ok {
				if _, isObj := ext.(obj); !isObj {
					return fmt.Errorf(`/about "extensions" is not an object: %s`, jsonString(ext))
				}
			}
			return nil
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.8.s5.b3",
			Text:     "the LRS SHOULD allow unauthenticated access to /about",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			_, err := c.about(ctx, request{noAuth: true})
			return err
		},
	},
	{
		Requirement: Requirement{
			ID:       "Communication 2.8.s5.b4",
			Text:     "the LRS MUST NOT reject requests to /about based on their version header (missing or unsupported)",
			Versions: both,
		},
		Run: func(ctx context.Context, c *Client) error {
			if _, err := c.about(ctx, request{noVersion: true}); err != nil {
				return fmt.Errorf("without a version header: %w", err)
			}
			if _, err := c.about(ctx, request{header: http.Header{"X-Experience-API-Version": {"0.8"}}}); err != nil {
				return fmt.Errorf("with version header 0.8: %w", err)
			}
			return nil
		},
	},
}

// about GETs /about with the request's options and returns the object.
func (c *Client) about(ctx context.Context, opts request) (obj, error) {
	opts.method, opts.path = http.MethodGet, "about"
	r, err := c.do(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := r.wantStatus(http.StatusOK); err != nil {
		return nil, err
	}
	var about obj
	if err := r.decode(&about); err != nil {
		return nil, err
	}
	return about, nil
}
