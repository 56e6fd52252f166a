package browsertest_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/digione/lrs/lrs/browsertest"
	"github.com/digione/lrs/lrs/ui"
)

// cat is the pages' message catalog: the tests look for what a page says
// by its key, so a reworded message does not break them.
var cat = func() ui.Catalog {
	c, err := ui.LoadCatalog()
	if err != nil {
		panic(err)
	}
	return c
}()

// signIn opens a tab whose browser asks for lang, signs person (MPASSid
// role code role) in through the provider's redirects, starting at
// /ui/, and returns the tab at the page the sign-in ends on.
func signIn(t *testing.T, l *testLRS, person, role, lang string, opts ...browsertest.Option) *browsertest.Tab {
	t.Helper()
	l.signInAs(person, role)
	tab := browsertest.Open(t, append(opts, browsertest.AcceptLanguage(lang))...)
	before := l.OP.Authorizations
	if res := tab.Go(l.URL + "/ui/"); res.Status != 200 {
		t.Fatalf("sign-in ended at %s with %d", res.URL, res.Status)
	}
	if l.OP.Authorizations != before+1 {
		t.Fatalf("the provider saw %d authorizations, want 1", l.OP.Authorizations-before)
	}
	return tab
}

// checkPage checks that the tab shows a page in lang whose heading is the
// catalog's key (with args), and that it passes axe-core.
func checkPage(t *testing.T, tab *browsertest.Tab, lang, key string, args ...any) {
	t.Helper()
	if got := browsertest.Eval[string](tab, `document.documentElement.lang`); got != lang {
		t.Errorf("<html lang=%q>, want %q", got, lang)
	}
	if got, want := tab.Text("h1"), cat.T(lang, key, args...); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
	tab.Accessible(tab.URL())
}

// rowNames returns the names in the row headers of the page's table.
func rowNames(tab *browsertest.Tab) []string {
	return browsertest.Eval[[]string](tab, `[...document.querySelectorAll("tbody th[scope=row]")].map(e => e.innerText.trim())`)
}

// TestTeacher_Classes: a teacher signs in through the provider and sees
// the classes they teach, and no other.
func TestTeacher_Classes(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	if got, want := tab.URL(), l.URL+"/ui/classes"; got != want {
		t.Errorf("signed in at %s, want %s", got, want)
	}
	checkPage(t, tab, "fi", "classes.title")
	if got := rowNames(tab); !slices.Equal(got, []string{"Matematiikka 7A"}) {
		t.Errorf("classes %q, want only Matematiikka 7A", got)
	}
	tab.Screenshot("classes-fi")
}

// TestTeacher_Overview: from my classes to class 7A's overview, which
// lists its students and no one of 7B; 7B's overview is not found.
func TestTeacher_Overview(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	res := tab.Follow(chromedp.Click(chromedp.CSS(`tbody a[href$="classes/7A"]`)))
	if res.Status != 200 || !strings.HasPrefix(tab.URL(), l.URL+"/ui/classes/7A") {
		t.Fatalf("%d at %s", res.Status, tab.URL())
	}
	checkPage(t, tab, "fi", "overview.title", "Matematiikka 7A")
	if got, want := rowNames(tab), []string{"Aino Aaltonen", "Bertil Berg", "Cecilia Salo"}; !slices.Equal(got, want) {
		t.Errorf("students %q, want %q", got, want)
	}
	main := tab.Text("main")
	for _, s := range []string{cat.T("fi", "status.completed"), cat.T("fi", "status.not-started"), cat.T("fi", "overview.progress", 2, 2)} {
		if !strings.Contains(main, s) {
			t.Errorf("no %q in\n%s", s, main)
		}
	}
	if strings.Contains(main, "Ville") || strings.Contains(main, "Virtanen") {
		t.Errorf("a student of 7B in 7A's overview:\n%s", main)
	}
	shot := tab.Screenshot("overview-fi")
	browsertest.UpdateDoc(t, shot, "docs/img/teacher-overview-fi.png")

	if res := tab.Go(l.URL + "/ui/classes/7B"); res.Status != 404 {
		t.Errorf("7B: %d, want 404", res.Status)
	}
	if main := tab.Text("main"); strings.Contains(main, "Ville") || !strings.Contains(main, cat.T("fi", "error.notfound")) {
		t.Errorf("7B:\n%s", main)
	}
	tab.Accessible("7B: not found")
	tab.Screenshot("notfound-fi")
}

// TestTeacher_Languages: the language links switch fi → sv → en, and the
// choice outlasts the page.
func TestTeacher_Languages(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	tab.Go(l.URL + "/ui/classes/7A")
	checkPage(t, tab, "fi", "overview.title", "Matematiikka 7A")

	tab.Follow(chromedp.Click(chromedp.CSS(`header a[hreflang="sv"]`)))
	checkPage(t, tab, "sv", "overview.title", "Matematiikka 7A")
	if got := tab.Text("thead th:first-child"); !strings.HasPrefix(got, cat.T("sv", "overview.col.name")) {
		t.Errorf("first column %q in Swedish", got)
	}
	shot := tab.Screenshot("overview-sv")
	browsertest.UpdateDoc(t, shot, "docs/img/teacher-overview-sv.png")

	tab.Follow(chromedp.Click(chromedp.CSS(`header a[hreflang="en"]`)))
	checkPage(t, tab, "en", "overview.title", "Matematiikka 7A")

	// Remembered: a page without ?lang= is in English although the
	// browser asks for Finnish.
	tab.Go(l.URL + "/ui/classes")
	checkPage(t, tab, "en", "classes.title")
	tab.Screenshot("classes-en")
}

// TestTeacher_CSV: the overview's download link saves the table as CSV,
// its header in the page's language, 7A's students only.
func TestTeacher_CSV(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	tab.Go(l.URL + "/ui/classes/7A")
	d := tab.Download(chromedp.Click(chromedp.CSS(`main a[download]`)))
	if d.Name != "7A.csv" {
		t.Errorf("saved as %q, want 7A.csv", d.Name)
	}
	rows, err := csv.NewReader(strings.NewReader(string(d.Body))).ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, d.Body)
	}
	var head []string
	for _, k := range []string{"name", "status", "last", "completed", "passed", "failed", "mean"} {
		head = append(head, cat.T("fi", "overview.col."+k))
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s", r[0], r[1], r[3], r[4], r[5], r[6]))
	}
	want := []string{
		fmt.Sprintf("%s|%s|%s|%s|%s|%s", head[0], head[1], head[3], head[4], head[5], head[6]),
		"Aino Aaltonen|" + cat.T("fi", "status.completed") + "|1|1|0|80",
		"Bertil Berg|" + cat.T("fi", "status.active") + "|0|0|1|20",
		"Cecilia Salo|" + cat.T("fi", "status.not-started") + "|0|0|0|",
	}
	if !slices.Equal(got, want) {
		t.Errorf("CSV\n%q\nwant\n%q", got, want)
	}
}

// TestTeacher_Keyboard: the overview used with the keyboard alone. Tab
// goes through the skip link, the languages, the menu, the filters, the
// download and the column headers in reading order, each showing its
// focus; Enter on a column header sorts by it.
func TestTeacher_Keyboard(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	tab.Go(l.URL + "/ui/classes/7A")

	// Tab visits every control of the page once, in the order of the
	// document, each showing where the focus is.
	want := tab.Focusables()
	var got []browsertest.Element
	for range want {
		tab.Press("\t")
		e := tab.Focused()
		if e.Outline == "none" {
			t.Errorf("%s: no visible focus", e)
		}
		got = append(got, e)
	}
	if !slices.EqualFunc(got, want, func(a, b browsertest.Element) bool { return a.Key() == b.Key() }) {
		t.Fatalf("focus order\n%v\nwant the document's order\n%v", got, want)
	}
	// What a teacher needs is on that path, in reading order: the skip
	// link first, then the languages, the menu, the time window, the
	// download, and the column headers from left to right.
	index := func(match func(browsertest.Element) bool) int { return slices.IndexFunc(got, match) }
	path := []int{
		index(func(e browsertest.Element) bool { return e.Href == "#main" }),
		index(func(e browsertest.Element) bool { return e.Text == cat.T("fi", "lang.sv") }),
		index(func(e browsertest.Element) bool { return e.Text == cat.T("fi", "nav.classes") }),
		index(func(e browsertest.Element) bool { return e.ID == "since" }),
		index(func(e browsertest.Element) bool { return e.Text == cat.T("fi", "overview.csv") }),
	}
	for _, k := range sortColumns {
		label := cat.T("fi", "overview.col."+k)
		path = append(path, index(func(e browsertest.Element) bool {
			return strings.HasPrefix(e.Href, "?") && strings.TrimRight(e.Text, " ▲▼") == label
		}))
	}
	if path[0] != 0 || slices.Contains(path, -1) || !slices.IsSorted(path) {
		t.Fatalf("the skip link, languages, menu, time window, download and column headers at %v of\n%v", path, got)
	}

	// Back to the status column, then Enter.
	status := path[len(path)-len(sortColumns)+slices.Index(sortColumns, "status")]
	for range len(got) - 1 - status {
		tab.Do(chromedp.KeyEvent("\t", chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
	if e := tab.Focused(); !strings.HasPrefix(e.Text, cat.T("fi", "overview.col.status")) {
		t.Fatalf("Shift+Tab ended at %s", e)
	}
	tab.Follow(chromedp.KeyEvent("\r"))
	if u := tab.URL(); !strings.Contains(u, "sort=status") {
		t.Fatalf("Enter on the status column went to %s", u)
	}
	sort := browsertest.Eval[string](tab, `[...document.querySelectorAll("thead th")].map(e => e.getAttribute("aria-sort") || "").join(",")`)
	if want := "none,ascending,none,none,none,none,none,"; sort != want {
		t.Errorf("aria-sort %s, want %s", sort, want)
	}
	// Sorted by the status a teacher reads: Aktiivinen, Ei aloittanut,
	// Valmis.
	statuses := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("tbody tr td:nth-of-type(1)")].map(e => e.innerText.trim())`)
	wantStatuses := []string{cat.T("fi", "status.active"), cat.T("fi", "status.not-started"), cat.T("fi", "status.completed")}
	for i := range wantStatuses {
		if i >= len(statuses) || !strings.HasSuffix(statuses[i], wantStatuses[i]) {
			t.Fatalf("sorted by status: %q, want %q", statuses, wantStatuses)
		}
	}
	if got, want := rowNames(tab), []string{"Bertil Berg", "Cecilia Salo", "Aino Aaltonen"}; !slices.Equal(got, want) {
		t.Errorf("sorted by status: %q, want %q", got, want)
	}
	tab.Accessible("sorted by status")

	// The time window: Tab to it, End picks the last window (all time),
	// Tab to the button, Enter shows it.
	for range 10 {
		if tab.Focused().ID == "since" {
			break
		}
		tab.Press("\t")
	}
	if e := tab.Focused(); e.ID != "since" {
		t.Fatalf("Tab never reached the time window; at %s", e)
	}
	tab.Press(kb.End)
	show := cat.T("fi", "overview.show")
	for range 5 {
		if e := tab.Focused(); e.Tag == "button" && e.Text == show {
			break
		}
		tab.Press("\t")
	}
	if e := tab.Focused(); e.Tag != "button" || e.Text != show {
		t.Fatalf("Tab never reached the button %q; at %s", show, e)
	}
	tab.Follow(chromedp.KeyEvent("\r"))
	if u := tab.URL(); !strings.Contains(u, "since=all") || !strings.Contains(u, "sort=status") {
		t.Errorf("the time window by keyboard went to %s, want since=all and still sort=status", u)
	}
	if v := browsertest.Eval[string](tab, `document.getElementById("since").value`); v != "all" {
		t.Errorf("time window %q after choosing all", v)
	}

	// The skip link: the first Tab of a page, and Enter goes to the main
	// content.
	tab.Press("\t")
	if e := tab.Focused(); e.Href != "#main" {
		t.Fatalf("first Tab: %s", e)
	}
	if left := browsertest.Eval[float64](tab, `document.activeElement.getBoundingClientRect().left`); left < 0 {
		t.Errorf("the focused skip link is off screen (left %v)", left)
	}
	tab.Press("\r")
	if u := tab.URL(); !strings.HasSuffix(u, "#main") {
		t.Errorf("Enter on the skip link: %s", u)
	}
}

// sortColumns are the overview's sortable columns in their order.
var sortColumns = []string{"name", "status", "last", "completed", "passed", "failed", "mean"}

// TestLearner_Me: a learner signs in, lands on their own activity in
// their browser's language, and reads no class.
func TestLearner_Me(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "u1", "1", "sv-FI,sv")
	if got, want := tab.URL(), l.URL+"/ui/me"; got != want {
		t.Errorf("signed in at %s, want %s", got, want)
	}
	checkPage(t, tab, "sv", "me.title")
	items := browsertest.Eval[[]string](tab, `[...document.querySelectorAll("main li")].map(e => e.innerText)`)
	passed, completed := cat.T("sv", "sentence.main", "Aino Aaltonen", "klarade", "Bråk 2"), cat.T("sv", "sentence.main", "Aino Aaltonen", "slutförde", "Bråk 1")
	if len(items) != 2 || !strings.Contains(items[0], passed) || !strings.Contains(items[1], completed) {
		t.Errorf("my activity %q", items)
	}
	if main := tab.Text("main"); strings.Contains(main, "Bertil") || strings.Contains(main, "Ville") {
		t.Errorf("another learner's activity:\n%s", main)
	}
	tab.Screenshot("me-sv")
	tab.Follow(chromedp.Click(chromedp.CSS(`header a[hreflang="fi"]`)))
	checkPage(t, tab, "fi", "me.title")
	tab.Screenshot("me-fi")
	if res := tab.Go(l.URL + "/ui/classes/7A"); res.Status != 404 {
		t.Errorf("a learner at 7A's overview: %d", res.Status)
	}
}

// TestTeacher_Live: a statement posted through the xAPI shows in the open
// overview within 2 s, without a reload.
func TestTeacher_Live(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi", browsertest.WatchEventSources())
	tab.Go(l.URL + "/ui/classes/7A")
	tab.WaitEventSources(1)
	row := `(() => { const r = [...document.querySelectorAll("tbody tr")].find(r => r.innerText.includes("Cecilia Salo"));
		return r ? r.innerText : ""; })()`
	before := browsertest.Eval[string](tab, row)
	// The page is not reloaded: a mark on the document stays.
	browsertest.Eval[bool](tab, `window.notReloaded = true`)
	posted := time.Now()
	l.post(t, "u3", "completed", fractions1, 0.8, 5)
	after := before
	for after == before && time.Since(posted) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
		after = browsertest.Eval[string](tab, row)
	}
	if after == before {
		t.Fatalf("Cecilia's row is still %q 2 s after her statement", before)
	}
	t.Logf("the row changed %s after the POST began", time.Since(posted).Round(10*time.Millisecond))
	// One of the class's two line items done: active, no longer not
	// started.
	if !strings.Contains(after, cat.T("fi", "status.active")) || strings.Contains(after, cat.T("fi", "status.not-started")) {
		t.Errorf("Cecilia's row %q, want %q", after, cat.T("fi", "status.active"))
	}
	if !browsertest.Eval[bool](tab, `window.notReloaded === true`) {
		t.Errorf("the page reloaded")
	}
}

// TestLearner_Download: the button on "my activity" saves everything the
// LRS keeps of the learner, and nothing of anyone else.
func TestLearner_Download(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	l.seed(t)
	tab := signIn(t, l, "u1", "1", "fi-FI,fi")
	d := tab.Download(chromedp.Click(chromedp.CSS(`main a[href*="/api/me/export"]`)))
	var export struct {
		SourcedID  string `json:"sourcedId"`
		Statements []struct {
			Actor struct{ Account struct{ Name string } }
		}
	}
	if err := json.Unmarshal(d.Body, &export); err != nil {
		t.Fatalf("%s: %v\n%s", d.Name, err, d.Body)
	}
	if export.SourcedID != "u1" || len(export.Statements) != 2 {
		t.Fatalf("export of %q with %d statements, want u1's 2", export.SourcedID, len(export.Statements))
	}
	for _, s := range export.Statements {
		if s.Actor.Account.Name != "u1" {
			t.Errorf("a statement of %q in u1's export", s.Actor.Account.Name)
		}
	}
}

// TestSignOut: the sign-out button ends the session: the next page asks
// the provider again.
func TestSignOut(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	tab := signIn(t, l, "k1", "2", "fi-FI,fi")
	const button = `form[action$="/auth/logout"] button`
	tab.Follow(chromedp.Click(chromedp.CSS(button)))
	before := l.OP.Authorizations
	tab.Go(l.URL + "/ui/classes")
	if l.OP.Authorizations != before+1 {
		t.Errorf("after signing out, /ui/classes asked the provider %d times, want 1", l.OP.Authorizations-before)
	}
}
