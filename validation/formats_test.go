package validation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFormats(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) bool
		in    string
		want  bool
	}{
		{"iri http", isIRI, "http://example.com/a?b=c#d", true},
		{"iri urn", isIRI, "urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee", true},
		{"iri unicode", isIRI, "http://example.com/فعل/خواندن", true},
		{"iri percent", isIRI, "http://example.com/a%20b", true},
		{"iri no scheme", isIRI, "example.com/a", false},
		{"iri fragment only", isIRI, "#a", false},
		{"iri empty", isIRI, "", false},
		{"iri scheme only", isIRI, "http:", false},
		{"iri space", isIRI, "http://example.com/a b", false},
		{"iri bad percent", isIRI, "http://example.com/%zz", false},
		{"iri two fragments", isIRI, "http://example.com/#a#b", false},
		{"iri scheme starts with digit", isIRI, "1http://example.com", false},
		{"uri ascii", isURI, "http://toby.openid.example.org/", true},
		{"uri non-ascii", isURI, "http://example.com/é", false},
		{"mbox", isMbox, "mailto:xapi@adlnet.gov", true},
		{"mbox upper scheme", isMbox, "MAILTO:xapi@adlnet.gov", false},
		{"mbox no at", isMbox, "mailto:xapi", false},
		{"mbox two addresses", isMbox, "mailto:a@example.com,b@example.com", false},
		{"uuid", isUUID, "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", true},
		{"uuid upper", isUUID, "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE", true},
		{"uuid braces", isUUID, "{6690e6c9-3ef0-4ed3-8b37-7f3964730bee}", false},
		{"uuid not hex", isUUID, "6690e6c9-3ef0-4ed3-8b37-7f3964730beg", false},
		{"media type", isMediaType, "application/json", true},
		{"media type params", isMediaType, "text/plain; charset=utf-8", true},
		{"media type no subtype", isMediaType, "text", false},
		{"media type empty subtype", isMediaType, "text/", false},
		{"lang en", isLanguageTag, "en", true},
		{"lang en-US", isLanguageTag, "en-US", true},
		{"lang script region", isLanguageTag, "zh-Hant-TW", true},
		{"lang extlang", isLanguageTag, "zh-yue-HK", true},
		{"lang numeric region", isLanguageTag, "es-419", true},
		{"lang variant", isLanguageTag, "de-CH-1901", true},
		{"lang extension and private use", isLanguageTag, "en-a-bbb-x-a-ccc", true},
		{"lang private use only", isLanguageTag, "x-whatever", true},
		{"lang grandfathered", isLanguageTag, "i-klingon", true},
		{"lang klingon", isLanguageTag, "tlh", true},
		{"lang underscore", isLanguageTag, "en_US", false},
		{"lang one letter", isLanguageTag, "e", false},
		{"lang trailing dash", isLanguageTag, "en-", false},
		{"lang empty private use", isLanguageTag, "en-US-x", false},
		{"lang empty extension", isLanguageTag, "en-a-x-b", false},
		{"lang digits", isLanguageTag, "123", false},
		{"lang subtag too long", isLanguageTag, "en-abcdefghi", false},
		{"lang script after region", isLanguageTag, "en-US-Latn", false},
		{"lang empty", isLanguageTag, "", false},
		{"duration", isDuration, "PT4H35M59.14S", true},
		{"duration days and time", isDuration, "P3Y1M29DT4H35M59.14S", true},
		{"duration weeks", isDuration, "P4W", true},
		{"duration minutes", isDuration, "PT1M", true},
		{"duration months", isDuration, "P1M", true},
		{"duration zero", isDuration, "PT0S", true},
		{"duration empty", isDuration, "P", false},
		{"duration order", isDuration, "PT1S1M", false},
		{"duration repeated", isDuration, "PT1M1M", false},
		{"duration negative", isDuration, "-PT1S", false},
		{"duration dangling T", isDuration, "P1DT", false},
		{"duration fraction missing digits", isDuration, "PT1.S", false},
		{"iso extended", isISO8601DateTime, "2015-11-18T12:17:00.804+00:00", true},
		{"iso comma fraction", isISO8601DateTime, "2015-11-18T12:17:00,804Z", true},
		{"iso end of day", isISO8601DateTime, "2015-11-18T24:00:00Z", true},
		{"iso leap second", isISO8601DateTime, "2016-12-31T23:59:60Z", true},
		{"iso basic", isISO8601DateTime, "20151118T121700Z", true},
		{"iso 24:30", isISO8601DateTime, "2015-11-18T24:30:00Z", false},
		{"iso lower-case t", isISO8601DateTime, "2015-11-18t12:17:00Z", false},
		{"iso non-leap February 29", isISO8601DateTime, "2015-02-29T12:17:00Z", false},
		{"iso century leap", isISO8601DateTime, "2000-02-29T12:17:00Z", true},
		{"iso century non-leap", isISO8601DateTime, "1900-02-29T12:17:00Z", false},
		{"iso basic offset in extended", isISO8601DateTime, "2015-11-18T12:17:00+0100", false},
		{"iso hour only", isISO8601DateTime, "2015-11-18T12Z", false},
		{"rfc3339", isRFC3339DateTime, "2015-11-18T12:17:00Z", true},
		{"rfc3339 fraction offset", isRFC3339DateTime, "2015-11-18T12:17:00.123456789+14:00", true},
		{"rfc3339 empty fraction", isRFC3339DateTime, "2015-11-18T12:17:00.Z", false},
		{"rfc3339 offset without colon", isRFC3339DateTime, "2015-11-18T12:17:00+0100", false},
		{"rfc3339 -00:00", isRFC3339DateTime, "2015-11-18T12:17:00-00:00", false},
		{"rfc3339 minute 60", isRFC3339DateTime, "2015-11-18T12:60:00Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check(tc.in); got != tc.want {
				t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// TestIsCommonLanguageTag checks that the quick test for the commonest
// language tags accepts only tags the full grammar accepts.
func TestIsCommonLanguageTag(t *testing.T) {
	const alphabet = "aBx1-"
	var gen func(prefix string, n int)
	common := 0
	gen = func(prefix string, n int) {
		if isCommonLanguageTag(prefix) {
			common++
			if !isAnyLanguageTag(prefix) {
				t.Errorf("%q: common form, but not a language tag", prefix)
			}
		}
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			gen(prefix+alphabet[i:i+1], n-1)
		}
	}
	gen("", 7)
	for _, s := range []string{"en", "en-US", "de-DE", "es-419", "zh-CN", "haw"} {
		if !isCommonLanguageTag(s) {
			t.Errorf("%q: got not common, want common", s)
		}
	}
	if common == 0 {
		t.Fatal("no common tags generated")
	}
}

// isIRIByRune is isIRI as first written, one rune at a time; the
// table-driven isIRI must agree with it.
func isIRIByRune(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 || !isScheme(s[:colon]) {
		return false
	}
	hashes := 0
	for i := colon + 1; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r <= 0x20, r >= 0x7f && r <= 0x9f, r == 0xfffd:
			return false
		case strings.ContainsRune("<>\"{}|\\^`", r):
			return false
		case r == '#':
			hashes++
			if hashes > 1 {
				return false
			}
		case r == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		}
		i += size
	}
	return true
}

func TestIsIRI_AgreesByRune(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := isIRI(s), isIRIByRune(s); got != want {
			t.Fatalf("isIRI(%q): got %v, want %v", s, got, want)
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		check("http://e.example/" + string(r) + "x")
		if r < 0x100 {
			check("h:" + string(r))
			check("h:" + string([]byte{byte(r)}))
			check("h:#%" + string(r) + "0#")
		}
	}
	for _, s := range []string{"", ":", "h:", "h:#", "h:##", "h:%4", "h:%4g", "h:%41", "1h:x", "a+b:x", "h:\xff", "h:\xe2\x82"} {
		check(s)
	}
}
