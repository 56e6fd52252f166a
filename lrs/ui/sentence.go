package ui

import (
	"encoding/json"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// stmtView is the part of a statement a sentence reads.
type stmtView struct {
	Verb struct {
		ID      string            `json:"id"`
		Display map[string]string `json:"display"`
	} `json:"verb"`
	Object struct {
		ID         string `json:"id"`
		Definition *struct {
			Name map[string]string `json:"name"`
		} `json:"definition"`
	} `json:"object"`
	Result *struct {
		Success  *bool  `json:"success"`
		Duration string `json:"duration"`
		Score    *struct {
			Scaled *float64 `json:"scaled"`
			Raw    *float64 `json:"raw"`
			Max    *float64 `json:"max"`
		} `json:"score"`
	} `json:"result"`
}

// Entry is a statement as a sentence tells it, in one language.
type Entry struct {
	Verb, VerbID string
	// VerbLang is the language of Verb when it is not the page's; "" when
	// it is, or when Verb is no text of a language map.
	VerbLang             string
	Object, ObjectID     string
	ObjectLang           string // as VerbLang, for Object
	Score, Minutes       int
	HasScore, HasMinutes bool
	Success              *bool
}

// knownVerbs are the ADL verbs whose word the catalogs have (key
// "verb.<name>"), said when a statement's verb has no display at all.
var knownVerbs = map[string]string{
	"http://adlnet.gov/expapi/verbs/completed":   "completed",
	"http://adlnet.gov/expapi/verbs/passed":      "passed",
	"http://adlnet.gov/expapi/verbs/failed":      "failed",
	"http://adlnet.gov/expapi/verbs/attempted":   "attempted",
	"http://adlnet.gov/expapi/verbs/experienced": "experienced",
	"http://adlnet.gov/expapi/verbs/progressed":  "progressed",
	"http://adlnet.gov/expapi/verbs/answered":    "answered",
	"http://adlnet.gov/expapi/verbs/scored":      "scored",
}

// ReadEntry reads a statement for a sentence in lang; false when it is no
// statement. Language maps go through PickLang; a verb without a display
// is the catalog's word for a known verb, else its id; an activity
// without a name is its id.
func ReadEntry(cat Catalog, lang string, statement []byte) (Entry, bool) {
	var s stmtView
	if json.Unmarshal(statement, &s) != nil {
		return Entry{}, false
	}
	e := Entry{VerbID: s.Verb.ID, ObjectID: s.Object.ID}
	var tag string
	e.Verb, tag = PickLang(s.Verb.Display, lang)
	e.VerbLang = otherLang(tag, lang)
	if e.Verb == "" {
		if k, ok := knownVerbs[s.Verb.ID]; ok {
			e.Verb = cat.T(lang, "verb."+k)
		} else {
			e.Verb = s.Verb.ID
		}
	}
	if s.Object.Definition != nil {
		e.Object, tag = PickLang(s.Object.Definition.Name, lang)
		e.ObjectLang = otherLang(tag, lang)
	}
	if e.Object == "" {
		e.Object = s.Object.ID
	}
	if r := s.Result; r != nil {
		if r.Score != nil {
			e.Score, e.HasScore = percent(r.Score.Scaled, r.Score.Raw, r.Score.Max)
		}
		e.Success = r.Success
		e.Minutes, e.HasMinutes = Minutes(r.Duration)
	}
	return e, true
}

// otherLang returns tag when its language is not lang's.
func otherLang(tag, lang string) string {
	if base, _, _ := strings.Cut(strings.ToLower(tag), "-"); tag == "" || base == lang {
		return ""
	}
	return tag
}

// results are the parts of a sentence after its main clause.
func (e Entry) results(cat Catalog, lang string) []string {
	var parts []string
	if e.HasScore {
		parts = append(parts, cat.T(lang, "sentence.score", e.Score))
	}
	if e.Success != nil {
		if *e.Success {
			parts = append(parts, cat.T(lang, "sentence.success"))
		} else {
			parts = append(parts, cat.T(lang, "sentence.failure"))
		}
	}
	if e.HasMinutes {
		parts = append(parts, cat.T(lang, "sentence.duration", e.Minutes))
	}
	return parts
}

// Sentence returns a statement as a sentence in lang: actor (a name from
// the roster, never from the statement), the verb, the activity, then
// its score, success and duration (see ReadEntry).
func Sentence(cat Catalog, lang, actor string, statement []byte) string {
	e, ok := ReadEntry(cat, lang, statement)
	if !ok {
		return cat.T(lang, "sentence.unreadable")
	}
	if actor == "" {
		actor = cat.T(lang, "sentence.someone")
	}
	parts := append([]string{cat.T(lang, "sentence.main", actor, e.Verb, e.Object)}, e.results(cat, lang)...)
	return strings.Join(parts, cat.T(lang, "sentence.sep"))
}

// SentenceHTML is Sentence as HTML: the activity's name emphasized and
// linked to href (none when ""), and the verb and the name marked with
// their language where it is not lang.
func SentenceHTML(cat Catalog, lang, actor string, statement []byte, href func(activity string) string) template.HTML {
	e, ok := ReadEntry(cat, lang, statement)
	if !ok {
		return template.HTML(template.HTMLEscapeString(cat.T(lang, "sentence.unreadable")))
	}
	if actor == "" {
		actor = cat.T(lang, "sentence.someone")
	}
	esc := template.HTMLEscapeString
	withLang := func(el, tag, text string) string {
		if tag == "" {
			return "<" + el + ">" + esc(text) + "</" + el + ">"
		}
		return "<" + el + ` lang="` + esc(tag) + `">` + esc(text) + "</" + el + ">"
	}
	verb := esc(e.Verb)
	if e.VerbLang != "" {
		verb = withLang("span", e.VerbLang, e.Verb)
	}
	object := withLang("em", e.ObjectLang, e.Object)
	if href != nil {
		if h := href(e.ObjectID); h != "" {
			object = `<a href="` + esc(h) + `">` + object + "</a>"
		}
	}
	// The catalog's text is escaped; the markers \x01n\x01 then take the
	// pieces, escaped themselves.
	main := esc(cat.T(lang, "sentence.main", "\x010\x01", "\x011\x01", "\x012\x01"))
	main = strings.NewReplacer("\x010\x01", `<span class="who">`+esc(actor)+"</span>", "\x011\x01", verb, "\x012\x01", object).Replace(main)
	parts := []string{main}
	for _, p := range e.results(cat, lang) {
		parts = append(parts, esc(p))
	}
	return template.HTML(strings.Join(parts, esc(cat.T(lang, "sentence.sep"))))
}

func percent(scaled, raw, max *float64) (int, bool) {
	switch {
	case scaled != nil:
		return int(math.Round(*scaled * 100)), true
	case raw != nil && max != nil && *max > 0:
		return int(math.Round(*raw / *max * 100)), true
	}
	return 0, false
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// Minutes returns an ISO 8601 duration (PnDTnHnMnS) in whole minutes,
// rounded, at least 1 for a non-zero duration; false when it is no such
// duration.
func Minutes(d string) (int, bool) {
	m := isoDuration.FindStringSubmatch(d)
	if m == nil || d == "P" || d == "PT" {
		return 0, false
	}
	var secs float64
	for i, unit := range []float64{86400, 3600, 60, 1} {
		if m[i+1] != "" {
			v, _ := strconv.ParseFloat(m[i+1], 64)
			secs += v * unit
		}
	}
	n := int(math.Round(secs / 60))
	if n == 0 && secs > 0 {
		n = 1
	}
	return n, true
}
