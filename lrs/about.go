package lrs

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// aboutBody is the body of GET /xapi/about.
var aboutBody = []byte(`{"version":["1.0.3","2.0.0"],"extensions":{"https://lrs.digione.fi/xapi/extensions/product":{"name":"DigiOne LRS"}}}`)

// handleGetAbout serves GET /xapi/about: the xAPI versions the LRS speaks.
// It needs neither a credential nor a version header (Communication 2.8.s5).
func (s *Server) handleGetAbout(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", aboutBody)
}
