package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFS embed.FS

// Languages are the languages of the pages, the default first.
var Languages = []string{"fi", "sv", "en"}

// Catalog holds the messages of every language: language → key → text.
type Catalog map[string]map[string]string

// LoadCatalog reads the embedded message files.
func LoadCatalog() (Catalog, error) {
	cat := Catalog{}
	for _, l := range Languages {
		b, err := localeFS.ReadFile("locales/" + l + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("locales/%s.json: %w", l, err)
		}
		cat[l] = m
	}
	return cat, nil
}

// T returns the message key in lang with its placeholders {0}, {1}, …
// replaced by args; the key itself when the catalog lacks it.
func (c Catalog) T(lang, key string, args ...any) string {
	s, ok := c[lang][key]
	if !ok {
		if s, ok = c[Languages[0]][key]; !ok {
			return key
		}
	}
	for i, a := range args {
		s = strings.ReplaceAll(s, fmt.Sprintf("{%d}", i), fmt.Sprint(a))
	}
	return s
}

var matcher = language.NewMatcher([]language.Tag{language.Finnish, language.Swedish, language.English})

// Negotiate returns the language of a request: the query's lang, else the
// cookie's, else the best of Accept-Language, else Finnish.
func Negotiate(query, cookie, acceptLanguage string) string {
	for _, l := range []string{query, cookie} {
		if known(l) {
			return l
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No {
				return Languages[i]
			}
		}
	}
	return Languages[0]
}

func known(l string) bool {
	for _, k := range Languages {
		if l == k {
			return true
		}
	}
	return false
}

// Pick returns the text of a language map (an xAPI verb display or an
// activity name) for lang: lang itself, a regional form of it, then fi,
// sv, en, then any other (the first by tag); "" for an empty map.
func Pick(m map[string]string, lang string) string {
	s, _ := PickLang(m, lang)
	return s
}

// PickLang is Pick that also returns the language tag of the text.
func PickLang(m map[string]string, lang string) (string, string) {
	if len(m) == 0 {
		return "", ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, want := range append([]string{lang}, Languages...) {
		if s, ok := m[want]; ok && s != "" {
			return s, want
		}
		for _, k := range keys {
			if base, _, _ := strings.Cut(strings.ToLower(k), "-"); base == want && m[k] != "" {
				return m[k], k
			}
		}
	}
	for _, k := range keys {
		if m[k] != "" {
			return m[k], k
		}
	}
	return "", ""
}
