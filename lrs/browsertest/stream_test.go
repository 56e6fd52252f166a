package browsertest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/digione/lrs/lrs/browsertest"
)

// postMany stores n statements of learner experiencing the history
// activity in one batch through the xAPI.
func (l *testLRS) postMany(t *testing.T, learner string, n int) {
	t.Helper()
	var batch []map[string]any
	for i := range n {
		batch = append(batch, map[string]any{
			"actor":     map[string]any{"account": map[string]string{"homePage": mpassHome, "name": learner}},
			"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/experienced", "display": verbs["experienced"]},
			"object":    map[string]any{"id": "https://app.test/history-1", "definition": map[string]any{"name": names["https://app.test/history-1"]}},
			"timestamp": time.Now().Add(time.Duration(i-n) * time.Minute).UTC().Format(time.RFC3339),
		})
	}
	body, _ := json.Marshal(batch)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", l.URL+"/xapi/statements", strings.NewReader(string(body)))
	req.SetBasicAuth(testKey, testSecret)
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %d statements: %d", n, res.StatusCode)
	}
}

// entries returns the text of the sentences of the tab's stream, in the
// page's order.
func entries(tab *browsertest.Tab) []string {
	return browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#stream li .sentence")].map(e => e.innerText.trim())`)
}

// TestTeacher_StudentStream: from the overview to a student's stream, a
// timeline of sentences by day in the page's language; filters, paging and
// links to the activity; no stream of a student not in the class.
func TestTeacher_StudentStream(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.post(t, "u1", "experienced", readingEnglish, -1, 0)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	tab.Go(l.URL + "/ui/classes/7A")
	tab.Follow(chromedp.Click(chromedp.CSS(`tbody tr th a[href*="/students/u1"]`)))
	if u := tab.URL(); !strings.Contains(u, "/ui/classes/7A/students/u1") {
		t.Fatalf("Aino's name led to %s", u)
	}
	if got := browsertest.Eval[string](tab, `document.documentElement.lang`); got != "fi" {
		t.Errorf("<html lang=%q>", got)
	}
	if got := tab.Text("h1"); got != "Aino Aaltonen" {
		t.Errorf("heading %q", got)
	}
	days := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#stream section h2")].map(e => e.innerText.trim())`)
	if !slices.Equal(days, []string{cat.T("fi", "day.today")}) {
		t.Errorf("days %q, want today only", days)
	}
	got := entries(tab)
	if len(got) != 3 || !strings.Contains(got[0], "Murtoluvut 2") || !strings.Contains(got[0], "70 %") ||
		!strings.Contains(got[1], "Murtoluvut 1") || !strings.Contains(got[1], "12 min") || !strings.Contains(got[2], "Reading in English") {
		t.Errorf("Aino's stream %q", got)
	}
	// A name in another language than the page's says so (WCAG 3.1.2),
	// for a screen reader to pronounce it in that language.
	if lang := browsertest.Eval[string](tab, `(() => {
		const e = [...document.querySelectorAll("#stream .sentence *")].filter(e => e.textContent === "Reading in English").pop();
		return e ? (e.closest("[lang]") || {}).lang || "" : "no element"; })()`); !strings.HasPrefix(lang, "en") {
		t.Errorf("the English name of an activity on a Finnish page is marked lang %q", lang)
	}
	tab.Accessible("a student's stream")
	tab.Screenshot("student-fi")

	// In Swedish: the days, verbs and activities too.
	tab.Follow(chromedp.Click(chromedp.CSS(`header a[hreflang="sv"]`)))
	if got := tab.Text("#stream section h2"); got != cat.T("sv", "day.today") {
		t.Errorf("day in Swedish %q", got)
	}
	if got := entries(tab); len(got) != 3 || !strings.Contains(got[0], "Bråk 2") {
		t.Errorf("Aino's stream in Swedish %q", got)
	}
	tab.Accessible("a student's stream in Swedish")

	// Only what she passed.
	tab.Do(chromedp.SetValue(chromedp.ID("verb"), "passed"))
	tab.Follow(chromedp.Click(chromedp.CSS(`#stream-filters button`)))
	if got := entries(tab); len(got) != 1 || !strings.Contains(got[0], "Bråk 2") {
		t.Errorf("passed only: %q", got)
	}

	// An activity in a sentence leads to its page.
	tab.Follow(chromedp.Click(chromedp.CSS(`#stream li .sentence a`)))
	if u, _ := url.Parse(tab.URL()); u == nil || u.Path != "/ui/classes/7A/activity" || u.Query().Get("id") != fractions2 {
		t.Errorf("the activity of the sentence led to %s", tab.URL())
	}

	// Not a student of 7A, or not a class of k1's: not found.
	for _, path := range []string{"/ui/classes/7A/students/u4", "/ui/classes/7B/students/u4"} {
		if res := tab.Go(l.URL + path); res.Status != http.StatusNotFound || strings.Contains(tab.Text("main"), "Ville") {
			t.Errorf("%s: %d", path, res.Status)
		}
	}
}

// TestTeacher_StreamPages: a stream longer than a page goes on with
// "older", by keyboard too, without repeating an entry.
func TestTeacher_StreamPages(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	const n = 60
	l.postMany(t, "u2", n)
	tab.Go(l.URL + "/ui/classes/7A/students/u2")
	first := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#stream li")].map(e => e.dataset.position)`)
	if len(first) == 0 || len(first) >= n {
		t.Fatalf("the first page has %d of %d entries", len(first), n)
	}
	tab.Do(chromedp.Focus(chromedp.ID("older")))
	tab.Follow(chromedp.KeyEvent("\r"))
	second := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#stream li")].map(e => e.dataset.position)`)
	if len(first)+len(second) != n {
		t.Errorf("pages of %d and %d entries, want %d in all", len(first), len(second), n)
	}
	for _, p := range second {
		if slices.Contains(first, p) {
			t.Errorf("entry %s on both pages", p)
		}
	}
	last, _ := strconv.ParseInt(first[len(first)-1], 10, 64)
	if len(second) > 0 {
		if p, _ := strconv.ParseInt(second[0], 10, 64); p >= last {
			t.Errorf("the older page starts at %d, after the first page's last %d", p, last)
		}
	}
	tab.Accessible("a stream's older page")
}

// TestTeacher_Activity: an activity in a class: who completed, passed,
// failed or has not started, and the score distribution as an SVG chart
// with a text alternative and a table of the same numbers.
func TestTeacher_Activity(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	tab.Go(l.URL + "/ui/classes/7A")
	tab.Follow(chromedp.Click(chromedp.CSS(`#class-activities a[href*="` + url.QueryEscape(fractions1) + `"]`)))
	if got, want := tab.Text("h1"), cat.T("fi", "activity.title", "Murtoluvut 1"); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
	outcomes := browsertest.Eval[map[string]string](tab, `Object.fromEntries([...document.querySelectorAll("#activity-outcomes tbody tr")]
		.map(r => [r.dataset.outcome, r.querySelector("td").innerText.trim()]))`)
	for k, want := range map[string]string{"completed": "1", "failed": "1", "not-started": "1", "passed": "0"} {
		if outcomes[k] != want {
			t.Errorf("outcome %s: %q students, want %s (all: %v)", k, outcomes[k], want, outcomes)
		}
	}
	students := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("#activity-students tbody tr")]
		.map(r => r.querySelector("th").innerText.trim() + ": " + r.querySelector("td").innerText.trim())`)
	slices.Sort(students)
	if want := []string{"Aino Aaltonen: " + cat.T("fi", "outcome.completed"), "Bertil Berg: " + cat.T("fi", "outcome.failed"),
		"Cecilia Salo: " + cat.T("fi", "outcome.not-started")}; !slices.Equal(students, want) {
		t.Errorf("students %q, want %q", students, want)
	}
	// The chart: an image with a name and a description, and its numbers
	// again in a table.
	chart := browsertest.Eval[struct {
		Role, Name, Desc string
		Bars, Scored     int
	}](tab, `(() => { const s = document.getElementById("score-chart");
		const ids = (s.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
		const text = id => (document.getElementById(id) || {}).textContent || "";
		return {Role: s.getAttribute("role"), Name: text(ids[0]), Desc: text(ids[1]), Bars: s.querySelectorAll("rect").length,
			Scored: [...document.querySelectorAll("#score-table tbody td")].reduce((n, td) => n + Number(td.innerText), 0)}; })()`)
	if chart.Role != "img" || chart.Name != cat.T("fi", "activity.chart.title") || !strings.Contains(chart.Desc, cat.T("fi", "activity.chart.desc", 2, 3)) {
		t.Errorf("chart %+v", chart)
	}
	if chart.Bars == 0 || chart.Scored != 2 {
		t.Errorf("chart of %d bars, its table counts %d students, want 2", chart.Bars, chart.Scored)
	}
	tab.Accessible("an activity")
	tab.Screenshot("activity-fi")

	if res := tab.Go(l.URL + "/ui/classes/7B/activity?id=" + url.QueryEscape("https://app.test/history-1")); res.Status != http.StatusNotFound {
		t.Errorf("an activity of 7B: %d", res.Status)
	}
}

// TestTeacher_LiveStream: a statement posted through the xAPI shows in
// the open stream of its student within 2 s, without a reload, and the
// live region says so.
func TestTeacher_LiveStream(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi", browsertest.WatchEventSources())
	tab.Go(l.URL + "/ui/classes/7A/students/u3")
	browsertest.Eval[bool](tab, `window.notReloaded = true`)
	tab.WaitEventSources(1)
	posted := time.Now()
	l.post(t, "u3", "passed", fractions2, 0.95, 7)
	var got []string
	for len(got) == 0 && time.Since(posted) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
		got = entries(tab)
	}
	if len(got) != 1 || !strings.Contains(got[0], "Murtoluvut 2") || !strings.Contains(got[0], "95 %") {
		t.Fatalf("Cecilia's stream 2 s after her statement: %q", got)
	}
	t.Logf("the entry showed %s after the POST began", time.Since(posted).Round(10*time.Millisecond))
	if !browsertest.Eval[bool](tab, `window.notReloaded === true`) {
		t.Errorf("the page reloaded")
	}
	if status := browsertest.Eval[string](tab, `new Promise(r => setTimeout(() => r((document.querySelector("[role=status]") || {}).textContent || ""), 200))`); !strings.Contains(status, "Cecilia Salo") {
		t.Errorf("live region %q", status)
	}
	tab.Accessible("a stream after a live entry")
}
