package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// envName is a complete LRS_* variable name.
var envName = regexp.MustCompile(`^LRS_[A-Z0-9_]*[A-Z0-9]$`)

// KnownEnv returns every LRS_* variable lrs serve reads: each string
// literal in cmd/lrs's non-test sources that is a complete LRS_* name, and
// NAME_FILE for each NAME passed to secretValue (secrets also come from
// files). Reading the source rather than `lrs serve -h` keeps the test fast
// and sees the variables that have no flag (LRS_BOOTSTRAP_*).
func KnownEnv(tb testing.TB) map[string]bool {
	tb.Helper()
	files, err := filepath.Glob("../cmd/lrs/*.go")
	if err != nil {
		tb.Fatal(err)
	}
	known := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && envName.MatchString(s) {
					known[s] = true
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "secretValue" && len(n.Args) == 2 {
					if lit, ok := n.Args[1].(*ast.BasicLit); ok {
						if s, err := strconv.Unquote(lit.Value); err == nil {
							known[s+"_FILE"] = true
						}
					}
				}
			}
			return true
		})
	}
	// If cmd/lrs ever builds its names otherwise, say so rather than pass
	// or fail on every name.
	for _, want := range []string{"LRS_ADDR", "LRS_STORE", "LRS_MONGO_URI", "LRS_MONGO_URI_FILE", "LRS_ADMIN_TOKEN_FILE", "LRS_KAFKA_BROKERS"} {
		if !known[want] {
			tb.Fatalf("cmd/lrs's sources no longer name %s as this test reads them: mend KnownEnv", want)
		}
	}
	return known
}

func TestKnownEnv(t *testing.T) {
	known := KnownEnv(t)
	for _, name := range []string{"LRS_BOOTSTRAP_SECRET_FILE", "LRS_KAFKA_SASL_PASSWORD_FILE", "LRS_ONEROSTER_CLIENT_SECRET_FILE", "LRS_RELAY_LEASE_TTL"} {
		if !known[name] {
			t.Errorf("%s: not found in cmd/lrs", name)
		}
	}
	for _, name := range []string{"LRS_ONEROSTER_", "LRS_ADDR_FILE", "LRS_TEST_MONGO_URI"} {
		if known[name] {
			t.Errorf("%s: found, but lrs serve does not read it", name)
		}
	}
}
