package lrs_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// pagesServer serves the LRS with its pages over a store whose roster has
// class 7A (teacher k1; students u1, u2, u3) and 7B (student u4), and
// returns its URL and a signer of ID tokens.
func pagesServer(t *testing.T) (string, func(person, role string) string) {
	t.Helper()
	names := map[string][2]string{"k1": {"Kaisa", "Opettaja"}, "u1": {"Aino", "Aaltonen"}, "u2": {"Bertil", "Berg"}, "u3": {"Cecilia", "Salo"}, "u4": {"Ville", "Virtanen"}}
	store := openClassStore(t, names, statements.RosterClass{SourcedID: "7B", Title: "Historia 7B", School: "s1"})
	api := &lrs.PeopleAPI{LineItems: func(context.Context, string, string) ([]string, error) {
		return []string{"https://app.test/fractions-1", "https://app.test/fractions-2"}, nil
	}}
	base, op := servePeople(t, store, api, nil)
	return base, func(person, role string) string { return personToken(t, op, person, role) }
}

// page GETs path with the token (none: not signed in) and headers,
// without following redirects.
func page(t *testing.T, base, path, token string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestServer_Pages(t *testing.T) {
	base, token := pagesServer(t)
	teacher, learner := token("k1", "2"), token("u1", "1")
	postAs(t, base, "u1", "completed", "https://app.test/fractions-1", 0.9)
	postAs(t, base, "u1", "passed", "https://app.test/fractions-2", 0.7)
	postAs(t, base, "u2", "failed", "https://app.test/fractions-1", 0.2)
	postAs(t, base, "u4", "completed", "https://app.test/fractions-1", 1)

	for _, tt := range []struct {
		name, path, token string
		header            []string
		status            int
		lang              string
		contains, absent  []string
	}{
		{name: "MyClassesFinnishByDefault", path: "/ui/classes", token: teacher, status: 200, lang: "fi",
			contains: []string{"<h1>Luokkani</h1>", "Matematiikka 7A", "MA7A", `href="classes/7A"`, "<td>3</td>"}, absent: []string{"Historia 7B"}},
		{name: "MyClassesSwedishFromAcceptLanguage", path: "/ui/classes", token: teacher, header: []string{"Accept-Language", "sv-FI,sv;q=0.9"},
			status: 200, lang: "sv", contains: []string{"<h1>Mina grupper</h1>"}},
		{name: "MyClassesEnglishFromQuery", path: "/ui/classes?lang=en", token: teacher, header: []string{"Accept-Language", "sv"},
			status: 200, lang: "en", contains: []string{"<h1>My classes</h1>", `href="classes/7A?lang=en"`}},
		{name: "MyClassesLanguageFromCookie", path: "/ui/classes", token: teacher, header: []string{"Cookie", "lrs_lang=en", "Accept-Language", "sv"},
			status: 200, lang: "en", contains: []string{"<h1>My classes</h1>"}},
		{name: "Overview", path: "/ui/classes/7A?lang=en&since=all", token: teacher, status: 200, lang: "en",
			contains: []string{"Aino Aaltonen", "Bertil Berg", "Cecilia Salo", "Completed", "Not started", `<progress max="2" value="2" aria-hidden="true">`, `<progress max="2" value="0" aria-hidden="true">`, "2 of 2 done",
				`aria-sort="ascending"`, `<option value="all" selected>`, "overview.csv?"},
			absent: []string{"Ville Virtanen"}},
		{name: "OverviewSortedDescending", path: "/ui/classes/7A?lang=en&sort=-name", token: teacher, status: 200, lang: "en",
			contains: []string{`aria-sort="descending"`, `name="sort" value="-name"`, `name="lang" value="en"`}},
		{name: "OtherClassIsNotFound", path: "/ui/classes/7B", token: teacher, status: 404, lang: "fi",
			contains: []string{"Sivua ei löydy"}, absent: []string{"Ville"}},
		{name: "LearnerReadsNoClass", path: "/ui/classes/7A?lang=en", token: learner, status: 404, lang: "en", absent: []string{"Bertil"}},
		{name: "MyActivity", path: "/ui/me?lang=en", token: learner, status: 200, lang: "en",
			contains: []string{"Aino Aaltonen http://adlnet.gov/expapi/verbs/passed https://app.test/fractions-2, score 70 %"}},
		{name: "TeacherHasNoActivityOfTheirOwn", path: "/ui/me?lang=sv", token: teacher, status: 200, lang: "sv",
			contains: []string{"Endast elever"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := page(t, base, tt.path, tt.token, tt.header...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if want := `<html lang="` + tt.lang + `">`; !strings.Contains(body, want) {
				t.Errorf("no %s", want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("no %q in\n%s", s, body)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("%q in the page", s)
				}
			}
			h := res.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
				!strings.Contains(csp, "base-uri 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", h)
			}
		})
	}

	t.Run("LanguageRemembered", func(t *testing.T) {
		res, _ := page(t, base, "/ui/classes?lang=sv", teacher)
		var got string
		for _, c := range res.Cookies() {
			if c.Name == "lrs_lang" {
				got = c.Value
			}
		}
		if got != "sv" {
			t.Errorf("lrs_lang cookie %q, want sv", got)
		}
	})

	t.Run("Home", func(t *testing.T) {
		for _, tt := range []struct{ token, want string }{{teacher, "/ui/classes"}, {learner, "/ui/me"}} {
			res, _ := page(t, base, "/ui/", tt.token)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tt.want {
				t.Errorf("GET /ui/: %d %q, want %q", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
		}
	})

	t.Run("NotSignedIn", func(t *testing.T) {
		res, _ := page(t, base, "/ui/classes/7A?since=7", "")
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil || loc.Path != "/auth/login" || loc.Query().Get("return") != "/ui/classes/7A?since=7" {
			t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})

	t.Run("CSV", func(t *testing.T) {
		res, body := page(t, base, "/ui/classes/7A/overview.csv?lang=sv&since=all", teacher)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			res.Header.Get("Content-Disposition") != `attachment; filename="7A.csv"` {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"Elev", "Läge", "Senast aktiv", "Slutförda", "Godkända", "Underkända", "Medelpoäng"},
			{"Aino Aaltonen", "Klar", "", "1", "1", "0", "80"},
			{"Bertil Berg", "Aktiv", "", "0", "0", "1", "20"},
			{"Cecilia Salo", "Inte påbörjat", "", "0", "0", "0", ""},
		}
		if len(rows) != len(want) {
			t.Fatalf("rows %q", rows)
		}
		for i := range want {
			if i > 0 {
				// The time of the last activity is the store's.
				if rows[i][2] == "" != (want[i][0] == "Cecilia Salo") {
					t.Errorf("row %d: last activity %q", i, rows[i][2])
				}
				rows[i][2] = ""
			}
			if strings.Join(rows[i], ",") != strings.Join(want[i], ",") {
				t.Errorf("row %d: got %q, want %q", i, rows[i], want[i])
			}
		}
		if res, _ := page(t, base, "/ui/classes/7B/overview.csv", teacher); res.StatusCode != http.StatusNotFound {
			t.Errorf("7B CSV: %d", res.StatusCode)
		}
	})

	t.Run("Static", func(t *testing.T) {
		if res, _ := page(t, base, "/ui/static/", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("listing: %d", res.StatusCode)
		}
		res, body := page(t, base, "/ui/static/ui.css", "")
		if res.StatusCode != 200 || !strings.Contains(body, "font-family") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%d %v", res.StatusCode, res.Header)
		}
	})
}
