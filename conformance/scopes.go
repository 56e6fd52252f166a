package conformance

import (
	"slices"
	"strings"
)

// The scopes of xAPI credentials (Communication 4.2, the table of OAuth
// scopes), which LRSs also give HTTP Basic credentials.
const (
	ScopeAll                = "all"
	ScopeAllRead            = "all/read"
	ScopeStatementsWrite    = "statements/write"
	ScopeStatementsRead     = "statements/read"
	ScopeStatementsReadMine = "statements/read/mine"
	ScopeState              = "state"
	ScopeDefine             = "define"
	ScopeProfile            = "profile"
)

// Scopes lists every scope, in the order of the xAPI table.
func Scopes() []string {
	return []string{ScopeStatementsWrite, ScopeStatementsReadMine, ScopeStatementsRead,
		ScopeAllRead, ScopeAll, ScopeState, ScopeDefine, ScopeProfile}
}

// grants reports whether holding the scopes held allows what want asks
// for: "all" allows everything, "all/read" every read, "statements/read"
// also what "statements/read/mine" allows.
func grants(held []string, want string) bool {
	for _, h := range held {
		switch {
		case h == want, h == ScopeAll:
			return true
		case h == ScopeAllRead && (want == ScopeStatementsRead || want == ScopeStatementsReadMine):
			return true
		case h == ScopeStatementsRead && want == ScopeStatementsReadMine:
			return true
		}
	}
	return false
}

// Default needs of the areas of checks.
var (
	// needsStatements is what most statement checks do: write statements
	// and read them back. Everything a check reads it wrote itself, so
	// statements/read/mine suffices.
	needsStatements = []string{ScopeStatementsWrite, ScopeStatementsReadMine}
	// needsRead is what a check that only reads needs.
	needsRead = []string{ScopeStatementsReadMine}
	// needsNothing marks a check that sends no credential, or a wrong one.
	needsNothing = []string{}
)

// Capabilities is what the preflight learned about the LRS and the
// credential: the checks use it to decide what they can run and what to
// expect.
type Capabilities struct {
	// Versions lists the xAPI versions the LRS's /about lists.
	Versions []string
	// Scopes lists the scopes the credential holds, as far as the checks
	// are concerned: those the probes saw it use (statements/read/mine
	// stands for any scope that reads statements), or the ones
	// Config.Scopes declares.
	Scopes []string
	// Declared reports whether Scopes came from Config.Scopes.
	Declared bool
	// Assumed lists the scopes of Scopes no probe can show, held by
	// assumption (define, when every other scope was seen).
	Assumed []string
	// Probes says what each probe of a scope saw, e.g.
	// "GET statements?limit=1: 200".
	Probes map[string]string
	// Authority is the authority the LRS set on the statement the preflight
	// stored; nil when the credential cannot both write and read
	// statements. Every statement of the credential gets this authority.
	Authority map[string]any
}

// Grants reports whether the credential may do what scope allows.
func (c *Capabilities) Grants(scope string) bool { return grants(c.Scopes, scope) }

// Missing returns the scopes of needs the credential does not hold.
func (c *Capabilities) Missing(needs []string) []string {
	var out []string
	for _, n := range needs {
		if !c.Grants(n) {
			out = append(out, n)
		}
	}
	return out
}

// allScopes is the capabilities of a credential of scope "all", for checks
// run without a preflight.
var allScopes = &Capabilities{Scopes: []string{ScopeAll}}

// needsReason says which scopes a check lacks, as the report says it.
func needsReason(missing []string) string {
	if len(missing) == 1 {
		return "needs scope " + missing[0]
	}
	return "needs scopes " + strings.Join(missing, ", ")
}

// validScope reports whether s is an xAPI scope.
func validScope(s string) bool { return slices.Contains(Scopes(), s) }
