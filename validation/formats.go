package validation

import (
	"mime"
	"strings"
	"unicode/utf8"
)

// isIRI reports whether s looks like an absolute IRI (RFC 3987), best
// effort as 2.2.s4.b6 allows: a scheme, a colon, a non-empty remainder, no
// whitespace, control or otherwise excluded characters, and well-formed
// percent-encodings. Fragments alone (relative IRIs) are rejected (2.2.s4.b1.b8).
func isIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 || !isScheme(s[:colon]) {
		return false
	}
	hashes := 0
	for i := colon + 1; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case iriExcluded[c]:
				return false
			case c == '#':
				hashes++
				if hashes > 1 {
					return false
				}
			case c == '%':
				if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
					return false
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r <= 0x9f || r == 0xfffd {
			return false
		}
		i += size
	}
	return true
}

// iriExcluded marks the ASCII characters an IRI may not contain: controls,
// space, DEL and <>"{}|\^`.
var iriExcluded = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c <= 0x20; c++ {
		t[c] = true
	}
	t[0x7f] = true
	for _, c := range "<>\"{}|\\^`" {
		t[c] = true
	}
	return t
}()

// isURI is isIRI restricted to ASCII (RFC 3986).
func isURI(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return isIRI(s)
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c):
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(s) > 0
}

// isMbox reports whether s is a mailto IRI holding one e-mail address
// ("mailto:email address", 2.4.2.3.s3 table row 1).
func isMbox(s string) bool {
	addr, ok := strings.CutPrefix(s, "mailto:")
	if !ok || !isIRI(s) {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 1 || at == len(addr)-1 {
		return false
	}
	return !strings.ContainsAny(addr, ",?;")
}

// isUUID reports whether s is a UUID in the standard string form
// (8-4-4-4-12 hexadecimal digits, 4.4). RFC 4122 hex digits are case
// insensitive on input; no version or variant is imposed (4.4 only
// recommends variant 2).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// isHexLen reports whether s is made of hexadecimal digits and its length
// is one of lengths.
func isHexLen(s string, lengths ...int) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	for _, n := range lengths {
		if len(s) == n {
			return true
		}
	}
	return false
}

// isMediaType reports whether s is an Internet media type (RFC 2046):
// type "/" subtype with optional parameters.
func isMediaType(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return false
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && slash < len(mt)-1
}

// isLanguageTag reports whether s is a well-formed RFC 5646 language tag:
// the sequence of subtags and their lengths follow the ABNF of section 2.1
// (2.2.s4.b2), grandfathered tags included. Registry membership is not
// checked (2.2.s4.b7 allows best effort).
func isLanguageTag(s string) bool {
	return isCommonLanguageTag(s) || isAnyLanguageTag(s)
}

// isCommonLanguageTag reports, without allocating, whether s has the
// commonest form of a language tag: a language of two or three letters,
// optionally followed by a region of two letters or three digits.
func isCommonLanguageTag(s string) bool {
	lang, region, hasRegion := strings.Cut(s, "-")
	if len(lang) < 2 || len(lang) > 3 || !isAlphaString(lang) {
		return false
	}
	return !hasRegion ||
		len(region) == 2 && isAlphaString(region) ||
		len(region) == 3 && isDigitString(region)
}

// isAnyLanguageTag is isLanguageTag for all forms.
func isAnyLanguageTag(s string) bool {
	if s == "" {
		return false
	}
	ls := strings.ToLower(s)
	if grandfathered[ls] {
		return true
	}
	subtags := strings.Split(ls, "-")
	for _, t := range subtags {
		if len(t) == 0 || len(t) > 8 || !isAlnumString(t) {
			return false
		}
	}
	if subtags[0] == "x" {
		return isPrivateUse(subtags)
	}
	i := 0
	// language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
	lang := subtags[0]
	if !isAlphaString(lang) || len(lang) < 2 {
		return false
	}
	i++
	if len(lang) <= 3 {
		// extlang = 3ALPHA *2("-" 3ALPHA)
		for n := 0; n < 3 && i < len(subtags) && len(subtags[i]) == 3 && isAlphaString(subtags[i]); n++ {
			i++
		}
	}
	// script = 4ALPHA
	if i < len(subtags) && len(subtags[i]) == 4 && isAlphaString(subtags[i]) {
		i++
	}
	// region = 2ALPHA / 3DIGIT
	if i < len(subtags) && (len(subtags[i]) == 2 && isAlphaString(subtags[i]) || len(subtags[i]) == 3 && isDigitString(subtags[i])) {
		i++
	}
	// variant = 5*8alphanum / (DIGIT 3alphanum)
	for i < len(subtags) && (len(subtags[i]) >= 5 || len(subtags[i]) == 4 && isDigit(subtags[i][0])) {
		i++
	}
	// extension = singleton 1*("-" (2*8alphanum))
	for i < len(subtags) && len(subtags[i]) == 1 && subtags[i] != "x" {
		i++
		n := 0
		for i < len(subtags) && len(subtags[i]) >= 2 {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	if i < len(subtags) && subtags[i] == "x" {
		return isPrivateUse(subtags[i:])
	}
	return i == len(subtags)
}

// isPrivateUse checks privateuse = "x" 1*("-" (1*8alphanum)); subtag
// lengths were checked by the caller.
func isPrivateUse(subtags []string) bool {
	return len(subtags) >= 2 && subtags[0] == "x"
}

// grandfathered lists the irregular and regular grandfathered tags of
// RFC 5646 section 2.1, lower-cased.
var grandfathered = map[string]bool{
	"en-gb-oed": true, "i-ami": true, "i-bnn": true, "i-default": true,
	"i-enochian": true, "i-hak": true, "i-klingon": true, "i-lux": true,
	"i-mingo": true, "i-navajo": true, "i-pwn": true, "i-tao": true,
	"i-tay": true, "i-tsu": true, "sgn-be-fr": true, "sgn-be-nl": true,
	"sgn-ch-de": true, "art-lojban": true, "cel-gaulish": true,
	"no-bok": true, "no-nyn": true, "zh-guoyu": true, "zh-hakka": true,
	"zh-min": true, "zh-min-nan": true, "zh-xiang": true,
}

// isDuration reports whether s is an ISO 8601:2004 duration in the format
// with designators of section 4.4.3.2 (4.6.s1.b1): PnYnMnDTnHnMnS with at
// least one component, T present only before time components, or PnW
// alone. Only the lowest-order component present may carry a decimal
// fraction (comma or full stop). The alternative format of 4.4.3.3
// (P0003-01-29T04:35:59) is rejected.
func isDuration(s string) bool {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return false
	}
	if n, ok := strings.CutSuffix(rest, "W"); ok {
		return isDurationNumber(n)
	}
	date, tm, hasT := strings.Cut(rest, "T")
	if hasT && tm == "" {
		return false
	}
	var fraction bool // a component with a fraction was seen: it must be the last
	components := 0
	parse := func(part, designators string) bool {
		for part != "" {
			if fraction {
				return false
			}
			end := strings.IndexAny(part, designators)
			if end <= 0 {
				return false
			}
			num := part[:end]
			if !isDurationNumber(num) {
				return false
			}
			fraction = strings.ContainsAny(num, ".,")
			// Designators must appear in order and at most once.
			designators = designators[strings.IndexByte(designators, part[end])+1:]
			part = part[end+1:]
			components++
		}
		return true
	}
	if !parse(date, "YMD") || !parse(tm, "HMS") {
		return false
	}
	return components > 0 && (!hasT || tm != "")
}

// isDurationNumber accepts digits with an optional decimal fraction.
func isDurationNumber(s string) bool {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if !hasFrac {
		intPart, frac, hasFrac = strings.Cut(s, ",")
	}
	if intPart == "" || !isDigitString(intPart) {
		return false
	}
	return !hasFrac || frac != "" && isDigitString(frac)
}

// isISO8601DateTime reports whether s is an ISO 8601 combined date and time
// of day, as xAPI 1.0.3 requires (4.5.s1.b1): calendar date, "T", time of
// day to at least hours and minutes, optional decimal fraction of the
// second, optional time zone designator, all in either the extended
// (2015-11-18T12:17:00+00:00) or the basic (20151118T121700Z) format. A
// negative zero offset (-00, -0000, -00:00) is forbidden by ISO 8601.
func isISO8601DateTime(s string) bool {
	extended := len(s) > 4 && s[4] == '-'
	var date, rest string
	if extended {
		if len(s) < 11 {
			return false
		}
		date, rest = s[:10], s[10:]
		if date[7] != '-' || !validDate(date[0:4], date[5:7], date[8:10]) {
			return false
		}
	} else {
		if len(s) < 9 {
			return false
		}
		date, rest = s[:8], s[8:]
		if !validDate(date[0:4], date[4:6], date[6:8]) {
			return false
		}
	}
	if rest == "" || rest[0] != 'T' {
		return false
	}
	rest = rest[1:]
	// Split off the zone designator.
	zone := ""
	if i := strings.IndexAny(rest, "Z+-"); i >= 0 {
		rest, zone = rest[:i], rest[i:]
	}
	if !validISOTime(rest, extended) {
		return false
	}
	return zone == "" || validISOZone(zone, extended)
}

func validISOTime(t string, extended bool) bool {
	sep := ""
	if extended {
		sep = ":"
	}
	// hh, then mm, then ss with an optional fraction.
	if len(t) < 2 || !isDigitString(t[:2]) {
		return false
	}
	hh := atoi2(t[:2])
	t = t[2:]
	mm, ss, frac := 0, 0, ""
	if t == "" { // hour-only precision is a reduced format too far; require minutes
		return false
	}
	if !strings.HasPrefix(t, sep) || len(t) < len(sep)+2 || !isDigitString(t[len(sep):len(sep)+2]) {
		return false
	}
	mm = atoi2(t[len(sep) : len(sep)+2])
	t = t[len(sep)+2:]
	if t != "" {
		if !strings.HasPrefix(t, sep) || len(t) < len(sep)+2 || !isDigitString(t[len(sep):len(sep)+2]) {
			return false
		}
		ss = atoi2(t[len(sep) : len(sep)+2])
		t = t[len(sep)+2:]
		if t != "" {
			if t[0] != '.' && t[0] != ',' {
				return false
			}
			frac = t[1:]
			if frac == "" || !isDigitString(frac) {
				return false
			}
		}
	}
	if hh == 24 { // end of day: 24:00:00 only
		return mm == 0 && ss == 0 && strings.Trim(frac, "0") == ""
	}
	return hh <= 23 && mm <= 59 && ss <= 60
}

func validISOZone(z string, extended bool) bool {
	if z == "Z" {
		return true
	}
	sign, z := z[0], z[1:]
	var hh, mm int
	switch {
	case len(z) == 2 && isDigitString(z):
		hh = atoi2(z)
	case extended && len(z) == 5 && z[2] == ':' && isDigitString(z[:2]) && isDigitString(z[3:]):
		hh, mm = atoi2(z[:2]), atoi2(z[3:])
	case !extended && len(z) == 4 && isDigitString(z):
		hh, mm = atoi2(z[:2]), atoi2(z[2:])
	default:
		return false
	}
	if sign == '-' && hh == 0 && mm == 0 {
		return false
	}
	return hh <= 23 && mm <= 59
}

// isRFC3339DateTime reports whether s is an RFC 3339 date-time (section
// 5.6) that is also ISO 8601, as xAPI 2.0.0 requires of Timestamps:
// YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm) with an upper-case "T"
// and "Z", seconds and offset present, and no "-00:00" offset (which
// ISO 8601 forbids).
func isRFC3339DateTime(s string) bool {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	if !validDate(s[0:4], s[5:7], s[8:10]) {
		return false
	}
	for _, p := range []string{s[11:13], s[14:16], s[17:19]} {
		if !isDigitString(p) {
			return false
		}
	}
	if atoi2(s[11:13]) > 23 || atoi2(s[14:16]) > 59 || atoi2(s[17:19]) > 60 {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	if rest == "Z" {
		return true
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' ||
		!isDigitString(rest[1:3]) || !isDigitString(rest[4:6]) {
		return false
	}
	hh, mm := atoi2(rest[1:3]), atoi2(rest[4:6])
	if rest[0] == '-' && hh == 0 && mm == 0 {
		return false
	}
	return hh <= 23 && mm <= 59
}

// validDate checks a four-digit year, month and day of month.
func validDate(y, m, d string) bool {
	if !isDigitString(y) || len(y) != 4 || !isDigitString(m) || !isDigitString(d) {
		return false
	}
	year := atoi2(y[:2])*100 + atoi2(y[2:])
	month, day := atoi2(m), atoi2(d)
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// atoi2 converts two ASCII digits; callers check them first.
func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func isDigitString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isAlphaString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return s != ""
}

func isAlnumString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
