package lrs

import (
	_ "embed"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"
	"sigs.k8s.io/yaml"
)

// OpenAPIYAML is the OpenAPI document of the xAPI resources, the
// operators' routes and the admin API, as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// openAPIJSON is OpenAPIYAML as JSON, converted once.
var openAPIJSON = func() []byte {
	b, err := yaml.YAMLToJSON(OpenAPIYAML)
	if err != nil {
		panic("lrs/openapi.yaml: " + err.Error())
	}
	return b
}()

// OpenAPIJSON returns the OpenAPI document as served at /openapi.json.
func OpenAPIJSON() []byte { return append([]byte(nil), openAPIJSON...) }

// handleOpenAPI serves GET /openapi.json: the OpenAPI document.
func (s *Server) handleOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIJSON)
}

// Routes returns every route the server registers, on the public and the
// internal handler, as "METHOD /path/:param", sorted and without
// duplicates.
func (s *Server) Routes() []string {
	seen := map[string]bool{}
	for _, e := range []*gin.Engine{s.engine, s.internal} {
		if e == nil {
			continue
		}
		for _, r := range e.Routes() {
			seen[r.Method+" "+r.Path] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
