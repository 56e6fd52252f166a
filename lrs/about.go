package lrs

import (
	"encoding/json"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/gin-gonic/gin"
)

// Version is the product version of the LRS, set at build time with
// -ldflags "-X github.com/digione/lrs/lrs.Version=v1.2.3"; left empty, it
// is taken from the module's build information (the version of a module
// build, else the VCS revision, else "dev").
var Version string

// ProductVersion returns Version, or what the build information says.
func ProductVersion() string { return productVersion() }

var productVersion = sync.OnceValue(func() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "dev"
	case len(rev) > 12:
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
})

// aboutBody is the body of GET /xapi/about: the versions, and the
// product and its version in an extension.
var aboutBody = sync.OnceValue(func() []byte {
	b, _ := json.Marshal(map[string]any{
		"version": []string{Version103, Version200},
		"extensions": map[string]any{
			"https://lrs.digione.fi/xapi/extensions/product": map[string]string{"name": "DigiOne LRS", "version": ProductVersion()},
		},
	})
	return b
})

// handleGetAbout serves GET /xapi/about: the xAPI versions the LRS speaks.
// It needs neither a credential nor a version header (Communication 2.8.s5).
func (s *Server) handleGetAbout(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", aboutBody())
}
