package profile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path is a compiled JSONPath of the subset xAPI Profiles 1.0 allows
// (structure document, section 8.1): the root `$`, child names as `.name`
// or `['name']` (bracketed names may hold dots, as extension IRIs do),
// array indexes `[n]`, the wildcard `*` (`.*` or `[*]`), unions inside
// brackets (`['a','b']`, `[0,1]`) and alternatives joined by `|`. Filters,
// scripts, slices and recursive descent are refused when compiling.
type Path struct {
	src  string
	alts [][]step
}

// step is one child or array expression of a path.
type step struct {
	names []string // child names
	idx   []int    // array indexes
	all   bool     // the wildcard
}

// CompilePath compiles a JSONPath; an error names the position and what
// is not allowed there.
func CompilePath(src string) (*Path, error) {
	p := &Path{src: src}
	for _, alt := range splitAlternatives(src) {
		steps, err := compileAlternative(strings.TrimSpace(alt))
		if err != nil {
			return nil, fmt.Errorf("JSONPath %q: %w", src, err)
		}
		p.alts = append(p.alts, steps)
	}
	return p, nil
}

// String returns the path as written.
func (p *Path) String() string { return p.src }

// splitAlternatives splits src at each `|` outside brackets and quotes.
func splitAlternatives(src string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			if depth > 0 {
				quote = c
			}
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '|' && depth == 0:
			out = append(out, src[start:i])
			start = i + 1
		}
	}
	return append(out, src[start:])
}

// compileAlternative compiles one path without `|`. A path that does not
// start with `$` is read from the root, as the structure document's own
// example "context.contextActivities.grouping[*].id" is written.
func compileAlternative(s string) ([]step, error) {
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	i := 0
	if s[0] == '$' {
		i = 1
	} else if s[0] != '[' && s[0] != '.' {
		s, i = "."+s, 0
	}
	var steps []step
	for i < len(s) {
		switch s[i] {
		case '.':
			if i+1 < len(s) && s[i+1] == '.' {
				return nil, fmt.Errorf("at %d: recursive descent (..) is not allowed in xAPI Profiles", i)
			}
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			name := s[i+1 : j]
			switch {
			case name == "":
				return nil, fmt.Errorf("at %d: a name must follow '.'", i)
			case name == "*":
				steps = append(steps, step{all: true})
			case strings.ContainsAny(name, " \t\n'\"()?@,:*|]"):
				return nil, fmt.Errorf("at %d: %q is not a plain name (write ['...'] for names with such characters)", i+1, name)
			default:
				steps = append(steps, step{names: []string{name}})
			}
			i = j
		case '[':
			st, n, err := compileBracket(s, i)
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
			i = n
		default:
			return nil, fmt.Errorf("at %d: unexpected %q (want '.' or '[')", i, s[i])
		}
	}
	return steps, nil
}

// compileBracket compiles the bracket expression starting at s[i] ('[')
// and returns the index after its ']'.
func compileBracket(s string, i int) (step, int, error) {
	var st step
	i++
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return st, 0, fmt.Errorf("unclosed '['")
		}
		switch c := s[i]; {
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return st, 0, fmt.Errorf("at %d: unclosed quote", i)
			}
			st.names = append(st.names, b.String())
			i = j + 1
		case c == '*':
			st.all = true
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(s[i:j])
			if err != nil {
				return st, 0, fmt.Errorf("at %d: index %q: %v", i, s[i:j], err)
			}
			st.idx = append(st.idx, n)
			i = j
		case c == '?' || c == '(':
			return st, 0, fmt.Errorf("at %d: filter and script expressions are not allowed in xAPI Profiles", i)
		case c == '-':
			return st, 0, fmt.Errorf("at %d: negative indexes are not allowed in xAPI Profiles", i)
		default:
			return st, 0, fmt.Errorf("at %d: unexpected %q in brackets (want a quoted name, an index or *)", i, c)
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return st, 0, fmt.Errorf("unclosed '['")
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			return st, i + 1, nil
		case ':':
			return st, 0, fmt.Errorf("at %d: array slices are not allowed in xAPI Profiles", i)
		default:
			return st, 0, fmt.Errorf("at %d: unexpected %q (want ',' or ']')", i, s[i])
		}
	}
}

// eval appends to out every value the path selects in v.
func (p *Path) eval(v any, out []any) []any {
	for _, alt := range p.alts {
		out = evalSteps(v, alt, out)
	}
	return out
}

func evalSteps(v any, steps []step, out []any) []any {
	if len(steps) == 0 {
		return append(out, v)
	}
	st, rest := steps[0], steps[1:]
	switch t := v.(type) {
	case map[string]any:
		if st.all {
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = evalSteps(t[k], rest, out)
			}
			return out
		}
		for _, n := range st.names {
			if c, ok := t[n]; ok {
				out = evalSteps(c, rest, out)
			}
		}
	case []any:
		if st.all {
			for _, c := range t {
				out = evalSteps(c, rest, out)
			}
			return out
		}
		for _, n := range st.idx {
			if n < len(t) {
				out = evalSteps(t[n], rest, out)
			}
		}
	}
	return out
}
