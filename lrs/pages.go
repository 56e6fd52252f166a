package lrs

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/lrs/ui"
)

// endSession is what People also does when its provider ends sessions: the
// origin of that end, where the pages' sign-out form lands.
type endSession interface {
	EndSessionOrigin() string
}

// pageRoutes serves the pages of lrs/ui on g, the group of /ui/ whose
// middleware has signed the person in; they read through the same rule,
// reader, audit, limits and class stream as the people API.
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
		Now:       s.now,
		CSRF:      signin.CSRFOf,
		Activity:  s.store.ActivityDefinition,
		Hub:       s.readers.hub,
		Heartbeat: s.readers.Heartbeat,
		Reads:     s.personInFlight(maxPersonReads),
		Streams:   s.personInFlight(maxPersonStreams),
	}
	if e, ok := s.people.(endSession); ok {
		cfg.FormAction = func() []string {
			if o := e.EndSessionOrigin(); o != "" {
				return []string{o}
			}
			return nil
		}
	}
	if s.pages != nil {
		cfg.FrameAncestors = s.pages.FrameAncestors
	}
	u, err := ui.New(cfg)
	if err != nil {
		// The templates and catalogs are embedded: this is a bug.
		panic(err)
	}
	u.Routes(r, g)
}
