package browsertest_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/browsertest"
)

// TestVendor_SandboxPage: a vendor opens /ui/sandbox with the sandbox
// credential (the Authorization header a browser sends after its Basic
// prompt) and reads, in English and then Swedish, the rejection of a
// statement named by its rule and the result the good one would write;
// the page passes axe-core.
func TestVendor_SandboxPage(t *testing.T) {
	t.Parallel()
	l := startLRS(t)
	sb, err := (&lrs.Admin{Store: l.Store, Admin: l.Store}).CreateSandbox(t.Context(), "test", lrs.NewSandbox{Vendor: "acme", XAPIVersion: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	key, secret := sb.Credentials[0].Key, sb.Credentials[0].Secret
	learner, li := sb.School.Learners[0], sb.School.LineItems[0]
	post := func(id string, max string, want int) {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"actor":%s,"verb":{"id":"http://adlnet.gov/expapi/verbs/scored","display":{"en":"scored"}},
			"object":{"objectType":"Activity","id":%q,"definition":{"type":"http://adlnet.gov/expapi/activities/assessment"}},
			"result":{"score":{"raw":7,"min":0%s}},
			"context":{"extensions":{"https://digione.fi/xapi/extensions/oneroster/lineitem":%q,"https://digione.fi/xapi/extensions/oneroster/class":%q}},
			"timestamp":"2026-12-01T08:15:00+02:00"}`, id, learner.Agent, li.Activity, max, li.SourcedID, li.Class)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", l.URL+"/xapi/statements", strings.NewReader(body))
		req.SetBasicAuth(key, secret)
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("POST statement %s: %d, want %d", id, res.StatusCode, want)
		}
	}
	const good, bad = "7c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f01", "7c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f02"
	post(good, `,"max":10`, http.StatusOK)
	post(bad, ``, http.StatusBadRequest)

	tab := browsertest.Open(t)
	if _, err := chromedp.Call(tab.Ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))}}); err != nil {
		t.Fatal(err)
	}
	if res := tab.Go(l.URL + "/ui/sandbox?lang=en&since=2020-01-01"); res.Status != 200 {
		t.Fatalf("/ui/sandbox: %d", res.Status)
	}
	checkPage(t, tab, "en", "sandbox.title", "acme")
	rejected := browsertest.Eval[string](tab, `document.querySelector("#sandbox-report tr[data-kind=rejected]").innerText`)
	for _, want := range []string{cat.T("en", "sandbox.kind.rejected"), cat.T("en", "sandbox.rule", 8), "$.result.score selector $.scaled | $.max", bad} {
		if !strings.Contains(rejected, want) {
			t.Errorf("the rejection row %q lacks %q", rejected, want)
		}
	}
	if got := tab.Text("#sandbox-results tbody tr"); !strings.Contains(got, learner.Name) || !strings.Contains(got, li.SourcedID) || !strings.Contains(got, "7") || !strings.Contains(got, good) {
		t.Errorf("the gradebook's result %q, want %s on %s scored 7 from %s", got, learner.Name, li.SourcedID, good)
	}
	tab.Screenshot("sandbox-en")

	// The language links keep the credential and the day.
	tab.Follow(chromedp.Click(chromedp.CSS(`header a[hreflang="sv"]`)))
	checkPage(t, tab, "sv", "sandbox.title", "acme")
	if got := browsertest.Eval[string](tab, `document.getElementById("since").value`); got != "2020-01-01" {
		t.Errorf("since after the language switch %q, want 2020-01-01", got)
	}
	if got := tab.Text("#sandbox-report tr[data-kind=rejected] th"); got != cat.T("sv", "sandbox.kind.rejected") {
		t.Errorf("the rejection in Swedish %q, want %q", got, cat.T("sv", "sandbox.kind.rejected"))
	}

	// The teacher view: the vendor opens it as the test teacher of the
	// learner's class and finds the learner and the statement there.
	tab.Go(l.URL + "/ui/sandbox?lang=en&since=2020-01-01")
	teacher := sb.School.Teachers[0]
	tab.Follow(chromedp.Click(chromedp.CSS(`#sandbox-teachers button[aria-label="` + cat.T("en", "sandbox.open.teacher.label", teacher.Name) + `"]`)))
	if got, want := tab.URL(), l.URL+"/ui/classes?lang=en"; got != want {
		t.Fatalf("the teacher view opened at %s, want %s", got, want)
	}
	checkPage(t, tab, "en", "classes.title")
	tab.Follow(chromedp.Click(chromedp.CSS(`tbody th[scope=row] a`)))
	checkPage(t, tab, "en", "overview.title", sb.School.Classes[0].Title)
	names := rowNames(tab)
	if len(names) != 3 || !slices.Contains(names, learner.Name) {
		t.Errorf("the class overview lists %q, want the class's 3 test learners with %s", names, learner.Name)
	}
	row := browsertest.Eval[string](tab, `[...document.querySelectorAll("tbody tr")].find(r => r.innerText.includes(`+strconv.Quote(learner.Name)+`)).innerText`)
	if !strings.Contains(row, "1") {
		t.Errorf("the learner's row %q, want their one statement counted", row)
	}
	tab.Screenshot("sandbox-teacher-overview")
}
