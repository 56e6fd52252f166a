package ui

import (
	"encoding/json"
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

// Sentence returns a statement as a sentence in lang: actor (a name from
// the roster, never from the statement), the verb's display, the
// activity's name, then its score, success and duration. Language maps
// go through Pick; a missing verb display or activity name is replaced by
// its id.
func Sentence(cat Catalog, lang, actor string, statement []byte) string {
	var s stmtView
	if json.Unmarshal(statement, &s) != nil {
		return cat.T(lang, "sentence.unreadable")
	}
	verb := Pick(s.Verb.Display, lang)
	if verb == "" {
		verb = s.Verb.ID
	}
	var object string
	if s.Object.Definition != nil {
		object = Pick(s.Object.Definition.Name, lang)
	}
	if object == "" {
		object = s.Object.ID
	}
	if actor == "" {
		actor = cat.T(lang, "sentence.someone")
	}
	parts := []string{cat.T(lang, "sentence.main", actor, verb, object)}
	if r := s.Result; r != nil {
		if r.Score != nil {
			if pct, ok := percent(r.Score.Scaled, r.Score.Raw, r.Score.Max); ok {
				parts = append(parts, cat.T(lang, "sentence.score", pct))
			}
		}
		if r.Success != nil {
			if *r.Success {
				parts = append(parts, cat.T(lang, "sentence.success"))
			} else {
				parts = append(parts, cat.T(lang, "sentence.failure"))
			}
		}
		if m, ok := Minutes(r.Duration); ok {
			parts = append(parts, cat.T(lang, "sentence.duration", m))
		}
	}
	return strings.Join(parts, cat.T(lang, "sentence.sep"))
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
