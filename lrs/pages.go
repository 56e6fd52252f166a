package lrs

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/ui"
)

// pageRoutes serves the pages of lrs/ui on g, the group of /ui/ whose
// middleware has signed the person in; they read through the same rule,
// reader, audit and limits as the people API.
func (s *Server) pageRoutes(r gin.IRouter, g gin.IRouter) {
	cfg := ui.Config{
		Scope:  s.scopeOf,
		Reader: s.peopleReader(),
		Overview: func(ctx context.Context, tenant, class string) (people.Overview, error) {
			var o people.Overview
			var err error
			if s.readers.StalledAfter != nil {
				o.StalledAfter = s.readers.StalledAfter(ctx, tenant)
			}
			if s.readers.LineItems != nil {
				o.LineItems, err = s.readers.LineItems(ctx, tenant, class)
			}
			return o, err
		},
		Audit: s.auditRead,
		Log: func(c *gin.Context, err error) {
			s.log.Error().Err(err).Str("path", c.Request.URL.Path).Msg("page")
		},
		Now: s.now,
	}
	if s.pages != nil {
		cfg.FrameAncestors = s.pages.FrameAncestors
	}
	u, err := ui.New(cfg)
	if err != nil {
		// The templates and catalogs are embedded: this is a bug.
		panic(err)
	}
	g.Use(s.personInFlight(maxPersonReads))
	u.Routes(r, g)
}
