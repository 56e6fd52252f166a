package lrs_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/signin/oidctest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// pagesServer serves the LRS with its pages over a store whose roster has
// class 7A (teacher k1; students u1, u2, u3) and 7B (student u4), and
// returns its URL and a signer of ID tokens.
func pagesServer(t *testing.T) (string, func(person, role string) string) {
	t.Helper()
	base, token, _, _ := pagesServerWith(t)
	return base, token
}

// pagesServerWith is pagesServer that also returns the store and the
// provider.
func pagesServerWith(t *testing.T) (string, func(person, role string) string, *sqlitestore.Store, *oidctest.Provider) {
	t.Helper()
	names := map[string][2]string{"k1": {"Kaisa", "Opettaja"}, "u1": {"Aino", "Aaltonen"}, "u2": {"Bertil", "Berg"}, "u3": {"Cecilia", "Salo"}, "u4": {"Ville", "Virtanen"}}
	store := openClassStore(t, names, statements.RosterClass{SourcedID: "7B", Title: "Historia 7B", School: "s1"})
	api := &lrs.PeopleAPI{LineItems: func(context.Context, string, string) ([]string, error) {
		return []string{"https://app.test/fractions-1", "https://app.test/fractions-2"}, nil
	}, Heartbeat: 200 * time.Millisecond}
	base, op := servePeople(t, store, api, nil)
	return base, func(person, role string) string { return personToken(t, op, person, role) }, store, op
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
			contains: []string{`<span class="who">Aino Aaltonen</span> passed <em>https://app.test/fractions-2</em>, score 70 %`,
				`<h2 id="day-`, ">Today</h2>", `<a id="download-my-data" class="button" href="/api/me/export" download>Download my data</a>`},
			absent: []string{"Bertil"}},
		{name: "MyActivityFinnish", path: "/ui/me", token: learner, status: 200, lang: "fi",
			contains: []string{`<span class="who">Aino Aaltonen</span>: läpäisi – <em>https://app.test/fractions-2</em>, tulos 70 %`, ">Tänään</h2>", "Lataa omat tietoni"}},
		{name: "OverviewLinksStudentsAndActivities", path: "/ui/classes/7A?lang=en", token: teacher, status: 200, lang: "en",
			contains: []string{`<a href="/ui/classes/7A/students/u1?lang=en">Aino Aaltonen</a>`,
				`href="/ui/classes/7A/activity?id=https%3A%2F%2Fapp.test%2Ffractions-1&amp;lang=en&amp;since=30"`,
				`id="overview" data-live="/ui/classes/7A/live?lang=en&amp;since=30"`, `<tr data-student="u2">`, `data-field="status"`,
				`id="live-status"`, `aria-live="polite"`, `<script src="/ui/static/live.js" defer></script>`}},
		{name: "OverviewOfOneActivity", path: "/ui/classes/7A?lang=en&since=all&activity=https%3A%2F%2Fapp.test%2Ffractions-2", token: teacher, status: 200, lang: "en",
			contains: []string{`<option value="https://app.test/fractions-2" selected>https://app.test/fractions-2</option>`, `id="overview-activity"`,
				`href="?activity=https%3A%2F%2Fapp.test%2Ffractions-2&amp;lang=en&amp;since=all&amp;sort=-name"`,
				`overview.csv?activity=https%3A%2F%2Fapp.test%2Ffractions-2&amp;`, `/live?activity=https%3A%2F%2Fapp.test%2Ffractions-2&amp;`,
				"<tr data-student=\"u2\">\n<th scope=\"row\"><a href=\"/ui/classes/7A/students/u2?lang=en\">Bertil Berg</a></th>\n<td class=\"status status-not-started\""}},
		{name: "OverviewBadActivity", path: "/ui/classes/7A?lang=en&activity=nothing", token: teacher, status: 400, lang: "en", contains: []string{"field activity"}},
		{name: "Student", path: "/ui/classes/7A/students/u1?lang=en", token: teacher, status: 200, lang: "en",
			contains: []string{"<h1>Aino Aaltonen</h1>", `<span class="who">Aino Aaltonen</span> completed <a href="/ui/classes/7A/activity?id=https%3A%2F%2Fapp.test%2Ffractions-1&amp;lang=en"><em>https://app.test/fractions-1</em></a>, score 90 %`,
				"passed", ">Today</h2>", `data-live="/ui/classes/7A/live?lang=en&amp;student=u1"`, "Back to class Matematiikka 7A", `id="stream"`},
			absent: []string{"Bertil", "Ville"}},
		{name: "StudentSwedish", path: "/ui/classes/7A/students/u2", token: teacher, header: []string{"Accept-Language", "sv"}, status: 200, lang: "sv",
			contains: []string{"<h1>Bertil Berg</h1>", ": klarade inte – ", "resultat 20 %", ">I dag</h2>"}},
		{name: "StudentFilteredByVerb", path: "/ui/classes/7A/students/u1?lang=en&verb=passed&since=7", token: teacher, status: 200, lang: "en",
			contains: []string{" passed ", `<option value="passed" selected>`, `<option value="7" selected>`}, absent: []string{" completed <a", "data-live"}},
		{name: "StudentFilteredByActivity", path: "/ui/classes/7A/students/u1?lang=en&activity=https%3A%2F%2Fapp.test%2Ffractions-2", token: teacher, status: 200, lang: "en",
			contains: []string{" passed ", `id="activity-filter"`, `name="activity" value="https://app.test/fractions-2"`}, absent: []string{" completed <a"}},
		{name: "StudentBadVerb", path: "/ui/classes/7A/students/u1?lang=en&verb=liked", token: teacher, status: 400, lang: "en",
			contains: []string{"field verb"}},
		{name: "StudentBadActivity", path: "/ui/classes/7A/students/u1?lang=en&activity=fractions", token: teacher, status: 400, lang: "en",
			contains: []string{"field activity"}},
		{name: "StudentBadCursor", path: "/ui/classes/7A/students/u1?lang=en&more=x", token: teacher, status: 400, lang: "en",
			contains: []string{"field more"}},
		{name: "StudentOfAnotherClassIsNotFound", path: "/ui/classes/7A/students/u4", token: teacher, status: 404, lang: "fi",
			absent: []string{"Ville", "Virtanen", "fractions"}},
		{name: "StudentInAnotherTeachersClassIsNotFound", path: "/ui/classes/7B/students/u4", token: teacher, status: 404, lang: "fi",
			absent: []string{"Ville", "fractions"}},
		{name: "LearnerReadsNoStudentPage", path: "/ui/classes/7A/students/u1", token: learner, status: 404, lang: "fi",
			absent: []string{"fractions"}},
		{name: "Activity", path: "/ui/classes/7A/activity?lang=en&id=https%3A%2F%2Fapp.test%2Ffractions-1", token: teacher, status: 200, lang: "en",
			contains: []string{"<h1>Activity: <em>https://app.test/fractions-1</em></h1>",
				`<tr data-outcome="completed"><th scope="row">Completed</th><td>1</td></tr>`,
				`<tr data-outcome="failed"><th scope="row">Failed</th><td>1</td></tr>`,
				`<tr data-outcome="not-started"><th scope="row">Not started</th><td>1</td></tr>`,
				`<svg id="score-chart" role="img" aria-labelledby="score-chart-title score-chart-desc"`,
				`<title id="score-chart-title">`, "Bar chart: 2 of 3 students have a score",
				`<tr><th scope="row">90–100 %</th><td>1</td></tr>`, `<tr><th scope="row">20–29 %</th><td>1</td></tr>`, `<tr><th scope="row">50–59 %</th><td>0</td></tr>`,
				`<a href="/ui/classes/7A/students/u2?activity=https%3A%2F%2Fapp.test%2Ffractions-1&amp;lang=en">Bertil Berg</a>`, "90 %"},
			absent: []string{"Ville"}},
		{name: "ActivityFinnish", path: "/ui/classes/7A/activity?id=https%3A%2F%2Fapp.test%2Ffractions-1", token: teacher, status: 200, lang: "fi",
			contains: []string{"<h1>Tehtävä: ", "Pylväskaavio: 2/3 oppilaalla on tulos", "Ei aloittanut"}},
		{name: "ActivityWithoutID", path: "/ui/classes/7A/activity?lang=en", token: teacher, status: 400, lang: "en", contains: []string{"field id"}},
		{name: "ActivityOfAnotherClassIsNotFound", path: "/ui/classes/7B/activity?id=https%3A%2F%2Fapp.test%2Ffractions-1", token: teacher, status: 404, lang: "fi",
			absent: []string{"Ville", "<svg"}},
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

	t.Run("DownloadMyData", func(t *testing.T) {
		_, body := page(t, base, "/ui/me", learner)
		m := regexp.MustCompile(`<a id="download-my-data" class="button" href="([^"]+)" download>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no download link")
		}
		res, body := page(t, base, m[1], learner)
		var export struct {
			SourcedID  string            `json:"sourcedId"`
			Statements []json.RawMessage `json:"statements"`
		}
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
			json.Unmarshal([]byte(body), &export) != nil || export.SourcedID != "u1" || len(export.Statements) != 2 {
			t.Errorf("%s: %d %v %.200s", m[1], res.StatusCode, res.Header, body)
		}
		if _, body := page(t, base, "/ui/me", teacher); strings.Contains(body, "download-my-data") {
			t.Error("a teacher is offered a download of their data")
		}
	})

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
		_, body = page(t, base, "/ui/classes/7A/overview.csv?lang=en&since=all&activity=https%3A%2F%2Fapp.test%2Ffractions-2", teacher)
		if rows, err := csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil || len(rows) != 4 ||
			strings.Join(rows[1][3:6], ",") != "0,1,0" || rows[2][1] != "Not started" || strings.Join(rows[2][3:6], ",") != "0,0,0" {
			t.Errorf("CSV of one activity: %q %v", rows, err)
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
		res, body = page(t, base, "/ui/static/live.js", "")
		if res.StatusCode != 200 || !strings.Contains(body, "EventSource") || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("live.js: %d %v", res.StatusCode, res.Header)
		}
	})
}

// postMany stores n statements of actor in one batch: "progressed" in
// activities a/0, a/1, … with no result.
func postMany(t *testing.T, base, actor string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"actor":{"account":{"homePage":%q,"name":%q}},"verb":{"id":"http://adlnet.gov/expapi/verbs/progressed","display":{"fi":"eteni"}},`+
			`"object":{"id":"https://app.test/a/%d","definition":{"name":{"sv":"Övning %d"}}}}`, mpassHome, actor, i, i)
	}
	b.WriteByte(']')
	req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(b.String()))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d", res.StatusCode)
	}
}

// TestServer_PagesStreamPaging walks a student's stream by its "older"
// links: every statement once, newest first, the names of activities in
// another language marked with it.
func TestServer_PagesStreamPaging(t *testing.T) {
	base, token := pagesServer(t)
	teacher := token("k1", "2")
	postMany(t, base, "u3", 120)
	entry := regexp.MustCompile(`<em lang="sv">Övning (\d+)</em>`)
	older := regexp.MustCompile(`<a id="older" rel="next" href="([^"]+)">`)
	var got []string
	path := "/ui/classes/7A/students/u3?lang=fi"
	for pages := 0; path != "" && pages < 10; pages++ {
		res, body := page(t, base, path, teacher)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if pages == 0 && !strings.Contains(body, `<span class="who">Cecilia Salo</span>: eteni – `) {
			t.Errorf("first page: no sentence in fi:\n%s", body)
		}
		for _, m := range entry.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		path = ""
		if m := older.FindStringSubmatch(body); m != nil {
			path = "/ui/classes/7A/students/u3" + strings.ReplaceAll(m[1], "&amp;", "&")
			if pages > 0 && strings.Contains(body, "data-live") {
				t.Error("an older page updates live")
			}
		}
	}
	if len(got) != 120 {
		t.Fatalf("%d entries over the pages, want 120", len(got))
	}
	for i, n := range got {
		if n != fmt.Sprint(119-i) {
			t.Fatalf("entry %d is Övning %s, want %d", i, n, 119-i)
		}
	}
}

// sse reads Server-Sent Events from path until it has one of event.
type sse struct {
	t  *testing.T
	sc *bufio.Scanner
}

func openSSE(t *testing.T, base, path, token string) (*sse, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 {
		return nil, res.StatusCode
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sse{t: t, sc: bufio.NewScanner(res.Body)}
	s.sc.Scan() // the opening comment
	return s, 200
}

// next returns the data of the next event named event, skipping others.
func (s *sse) next(event string) map[string]any {
	s.t.Helper()
	var name string
	for s.sc.Scan() {
		line := s.sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && name == event {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				s.t.Fatal(err)
			}
			return m
		}
	}
	s.t.Fatalf("no %s event", event)
	return nil
}

// TestServer_PagesLive checks the live updates of the pages: a new
// statement updates its student's overview row and shows on the
// student's stream, in the page's language, within 2 s; only of the
// students the person may read.
func TestServer_PagesLive(t *testing.T) {
	base, token, store, _ := pagesServerWith(t)
	teacher := token("k1", "2")

	t.Run("Overview", func(t *testing.T) {
		s, code := openSSE(t, base, "/ui/classes/7A/live?lang=sv&since=all", teacher)
		if code != 200 {
			t.Fatalf("live: %d", code)
		}
		start := time.Now()
		postAs(t, base, "u4", "completed", "https://app.test/fractions-1", 1) // 7B: not k1's
		postAs(t, base, "u2", "passed", "https://app.test/fractions-2", 0.8)
		row := s.next("row")
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("row after %v, want within 2 s", took)
		}
		if row["student"] != "u2" || row["statusLabel"] != "Aktiv" || row["passed"] != 1.0 || row["mean"] != "80 %" ||
			row["progress"] != "1 av 2 klara" || !strings.HasPrefix(row["announce"].(string), "Bertil Berg") || row["lastISO"] == "" {
			t.Errorf("row %v", row)
		}
	})

	t.Run("Student", func(t *testing.T) {
		s, code := openSSE(t, base, "/ui/classes/7A/live?lang=en&student=u1", teacher)
		if code != 200 {
			t.Fatalf("live: %d", code)
		}
		start := time.Now()
		postAs(t, base, "u2", "failed", "https://app.test/fractions-1", 0.1) // another student
		postAs(t, base, "u1", "completed", "https://app.test/fractions-2", 0.95)
		e := s.next("entry")
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("entry after %v, want within 2 s", took)
		}
		if e["student"] != "u1" || e["dayLabel"] != "Today" || !strings.Contains(e["html"].(string), `<span class="who">Aino Aaltonen</span> completed`) ||
			!strings.Contains(e["html"].(string), "score 95 %") || e["announce"] != "New entry: Aino Aaltonen" {
			t.Errorf("entry %v", e)
		}
	})

	t.Run("ResetWhenTheRosterChanges", func(t *testing.T) {
		s, code := openSSE(t, base, "/ui/classes/7A/live?lang=fi", teacher)
		if code != 200 {
			t.Fatalf("live: %d", code)
		}
		// u3 leaves 7A: the page shows a student the rule no longer lets
		// the teacher read.
		ctx := t.Context()
		roster := &statements.Roster{Synced: time.Now().UTC().Truncate(time.Millisecond),
			Orgs:    []statements.RosterOrg{{SourcedID: "s1", Type: "school"}},
			Classes: []statements.RosterClass{{SourcedID: "7A", Title: "Matematiikka 7A", School: "s1"}},
			Users: []statements.RosterUser{{SourcedID: "k1", Identities: []string{"k1"}, Roles: []statements.RosterRole{{Role: "teacher", Org: "s1"}}},
				{SourcedID: "u1", Identities: []string{"u1"}, Roles: []statements.RosterRole{{Role: "student", Org: "s1"}}}},
			Enrollments: []statements.Enrollment{{SourcedID: "e1", Class: "7A", User: "k1", Role: "teacher"}, {SourcedID: "e2", Class: "7A", User: "u1", Role: "student"}}}
		if err := store.ReplaceRoster(ctx, lrs.DefaultTenant, roster); err != nil {
			t.Fatal(err)
		}
		if r := s.next("reset"); !strings.Contains(r["announce"].(string), "Lataa sivu uudelleen") {
			t.Errorf("reset %v", r)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, path := range []string{"/ui/classes/7B/live", "/ui/classes/7A/live?student=u4"} {
			if _, code := openSSE(t, base, path, teacher); code != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, code)
			}
		}
		if _, code := openSSE(t, base, "/ui/classes/7A/live", token("u1", "1")); code != http.StatusNotFound {
			t.Errorf("a learner: %d, want 404", code)
		}
		if _, code := openSSE(t, base, "/ui/classes/7A/live?since=1y", teacher); code != http.StatusBadRequest {
			t.Errorf("since=1y: %d, want 400", code)
		}
	})
}

// TestServer_PagesSignOut signs in through the provider, finds the
// sign-out form with the session's CSRF token, and signs out with it: the
// session ends, and the pages' CSP lets the form land at the provider.
func TestServer_PagesSignOut(t *testing.T) {
	base, _, _, op := pagesServerWith(t)
	op.SignInAs(map[string]any{"urn:mpass.id:uid": "k1", "urn:mpass.id:role": "Espoo;00001;7A;2", "urn:mpass.id:educationProviderId": "1.2.246.562.10.1"})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	// The sign-in: /ui/classes → /auth/login → the provider → /auth/callback → /ui/classes.
	u := base + "/ui/classes?lang=en"
	for i := 0; i < 6; i++ {
		res, _ := get(u)
		loc := res.Header.Get("Location")
		if loc == "" {
			break
		}
		next, _ := res.Request.URL.Parse(loc)
		u = next.String()
	}
	res, body := get(base + "/ui/classes?lang=en")
	if res.StatusCode != 200 {
		t.Fatalf("after sign-in: %d", res.StatusCode)
	}
	m := regexp.MustCompile(`<form id="signout" method="post" action="/auth/logout">\s*<input type="hidden" name="csrf" value="([^"]+)">\s*<button type="submit" id="signout-button">Sign out</button>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-out form in\n%s", body)
	}
	opURL, _ := url.Parse(op.URL)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' "+opURL.Scheme+"://"+opURL.Host) {
		t.Errorf("CSP %q does not let the sign-out land at the provider", csp)
	}
	post := func(token string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/auth/logout", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post("wrong"); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: %d, want 403", res.StatusCode)
	}
	if res := post(m[1]); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if res, _ := get(base + "/ui/classes"); res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/auth/login") {
		t.Errorf("after sign-out: %d %q, want a redirect to sign in", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestServer_PagesActivityNames names activities by the definitions the
// LRS keeps from the statements, in the page's language or the fallback
// order, marked with their language where it differs.
func TestServer_PagesActivityNames(t *testing.T) {
	base, token := pagesServer(t)
	teacher := token("k1", "2")
	body := fmt.Sprintf(`{"actor":{"account":{"homePage":%q,"name":"u1"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed"}},
		"object":{"id":"https://app.test/fractions-1","definition":{"name":{"sv-FI":"Bråk 1","en":"Fractions 1"}}},
		"result":{"score":{"scaled":0.9},"duration":"PT12M"}}`, mpassHome)
	req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(body))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST: %d", res.StatusCode)
	}
	const act = "id=https%3A%2F%2Fapp.test%2Ffractions-1"
	for _, tt := range []struct{ path, want string }{
		{"/ui/classes/7A", `&amp;lang=fi&amp;since=30" lang="sv-FI">Bråk 1</a>`},
		{"/ui/classes/7A/activity?lang=en&" + act, "<h1>Activity: <em>Fractions 1</em></h1>"},
		{"/ui/classes/7A/activity?" + act, `<h1>Tehtävä: <em lang="sv-FI">Bråk 1</em></h1>`},
		{"/ui/classes/7A/students/u1?lang=en", `<span class="who">Aino Aaltonen</span> completed <a href="/ui/classes/7A/activity?` + strings.ReplaceAll(act, "&", "&amp;") +
			`&amp;lang=en"><em>Fractions 1</em></a>, score 90 %, 12 min`},
		{"/ui/classes/7A/students/u1", `<span class="who">Aino Aaltonen</span>: <span lang="en-US">completed</span> – <a href="/ui/classes/7A/activity?` + act +
			`&amp;lang=fi"><em lang="sv-FI">Bråk 1</em></a>, tulos 90 %, aikaa kului 12 min`},
		{"/ui/classes/7A/students/u1?lang=sv&" + strings.Replace(act, "id=", "activity=", 1), `<p id="activity-filter">Endast uppgiften <em>Bråk 1</em>`},
	} {
		res, body := page(t, base, tt.path, teacher)
		if res.StatusCode != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, no %s in\n%s", tt.path, res.StatusCode, tt.want, body)
		}
	}
}
