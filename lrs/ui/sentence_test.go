package ui

import "testing"

func TestPick(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    map[string]string
		lang string
		want string
	}{
		{"Exact", map[string]string{"fi": "suoritti", "en-US": "completed"}, "fi", "suoritti"},
		{"Regional", map[string]string{"sv-FI": "slutförde", "en-US": "completed"}, "sv", "slutförde"},
		{"FallbackFi", map[string]string{"fi-FI": "suoritti", "sv-FI": "slutförde"}, "en", "suoritti"},
		{"FallbackSv", map[string]string{"sv": "slutförde", "en": "completed"}, "fi", "slutförde"},
		{"FallbackEn", map[string]string{"de": "abgeschlossen", "en-GB": "completed"}, "sv", "completed"},
		{"Any", map[string]string{"fr": "terminé", "de": "abgeschlossen"}, "fi", "abgeschlossen"},
		{"Empty", nil, "fi", ""},
		{"EmptyValueSkipped", map[string]string{"fi": "", "sv": "slutförde"}, "fi", "slutförde"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Pick(tt.m, tt.lang); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMinutes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"PT5M", 5, true}, {"PT1H30M", 90, true}, {"PT90S", 2, true}, {"PT10S", 1, true},
		{"P1DT1M", 1441, true}, {"PT0S", 0, true}, {"PT2.5M", 3, true},
		{"", 0, false}, {"5 minutes", 0, false}, {"P", 0, false}, {"PT", 0, false},
	} {
		got, ok := Minutes(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Minutes(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSentence(t *testing.T) {
	cat := MustLoadCatalog(t)
	const full = `{"actor":{"name":"Name In Statement","mbox":"mailto:x@example.com"},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/passed","display":{"fi":"läpäisi","sv":"klarade","en-US":"passed"}},
		"object":{"id":"https://app.test/fractions-1","definition":{"name":{"fi":"Murtoluvut 1","sv":"Bråk 1","en":"Fractions 1"}}},
		"result":{"success":true,"duration":"PT12M","score":{"scaled":0.856}}}`
	const bare = `{"actor":{"mbox":"mailto:x@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},
		"object":{"id":"https://app.test/video"}}`
	const onlyEn = `{"actor":{"mbox":"mailto:x@example.com"},"verb":{"id":"v","display":{"en-US":"failed"}},
		"object":{"id":"o","definition":{"name":{"en":"Quiz"}}},"result":{"success":false,"score":{"raw":3,"max":4}}}`
	for _, tt := range []struct {
		name, lang, actor, statement, want string
	}{
		{"Fi", "fi", "Aino Oppilas", full, "Aino Oppilas: läpäisi – Murtoluvut 1, tulos 86 %, hyväksytysti, aikaa kului 12 min"},
		{"Sv", "sv", "Aino Oppilas", full, "Aino Oppilas: klarade – Bråk 1, resultat 86 %, godkänt, tid 12 min"},
		{"En", "en", "Aino Oppilas", full, "Aino Oppilas passed Fractions 1, score 86 %, successfully, 12 min"},
		{"FallbackToEn", "fi", "Aino", onlyEn, "Aino: failed – Quiz, tulos 75 %, hylätysti"},
		{"KnownVerbWithoutDisplay", "en", "Aino", bare, "Aino experienced https://app.test/video"},
		{"KnownVerbWithoutDisplaySv", "sv", "Aino", bare, "Aino: tog del av – https://app.test/video"},
		{"NoNamesUseIDs", "en", "Aino", `{"verb":{"id":"https://app.test/verbs/drew"},"object":{"id":"https://app.test/canvas"}}`, "Aino https://app.test/verbs/drew https://app.test/canvas"},
		{"NoActorNeverFromStatement", "en", "", full, "Someone passed Fractions 1, score 86 %, successfully, 12 min"},
		{"Unreadable", "sv", "Aino", `{`, "En oläslig utsaga"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sentence(cat, tt.lang, tt.actor, []byte(tt.statement)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSentenceHTML(t *testing.T) {
	cat := MustLoadCatalog(t)
	const onlyEn = `{"verb":{"id":"v","display":{"en-US":"finished"}},
		"object":{"id":"https://app.test/q?a=1&b=2","definition":{"name":{"fi":"<Murtoluvut & 1>"}}},"result":{"score":{"scaled":0.9},"duration":"PT12M"}}`
	href := func(id string) string { return "/ui/classes/7A/activity?id=" + id }
	for _, tt := range []struct{ name, lang, actor, want string }{
		{"OtherLanguageMarked", "fi", "Aino <A>", `<span class="who">Aino &lt;A&gt;</span>: <span lang="en-US">finished</span> – ` +
			`<a href="/ui/classes/7A/activity?id=https://app.test/q?a=1&amp;b=2"><em>&lt;Murtoluvut &amp; 1&gt;</em></a>, tulos 90 %, aikaa kului 12 min`},
		{"PageLanguageNotMarked", "en", "Aino", `<span class="who">Aino</span> finished <a href="/ui/classes/7A/activity?id=https://app.test/q?a=1&amp;b=2">` +
			`<em lang="fi">&lt;Murtoluvut &amp; 1&gt;</em></a>, score 90 %, 12 min`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(SentenceHTML(cat, tt.lang, tt.actor, []byte(onlyEn), href)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPickLang(t *testing.T) {
	m := map[string]string{"sv-FI": "Bråk", "en-GB": "Fractions"}
	if s, tag := PickLang(m, "fi"); s != "Bråk" || tag != "sv-FI" {
		t.Errorf("fi: %q %q", s, tag)
	}
	if s, tag := PickLang(m, "en"); s != "Fractions" || tag != "en-GB" {
		t.Errorf("en: %q %q", s, tag)
	}
	if otherLang("en-GB", "en") != "" || otherLang("sv-FI", "fi") != "sv-FI" {
		t.Error("otherLang")
	}
}
