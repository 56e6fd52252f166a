package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/digione/lrs/lrs/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// TestTab checks the harness on pages of its own: that axe-core finds
// what it should, that a download arrives whole, and that keys move the
// focus.
func TestTab(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><head><title>Bad</title></head><body><main>
<p style="color:#aaa;background:#fff">Faint text</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<a href="/a">First</a></main></body></html>`))
	})
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html lang="fi"><head><title>Hyvä</title><meta name="viewport" content="width=device-width"></head><body><main><h1>Hyvä</h1>
<p><a href="/file.csv" id="csv" download>Lataa</a> <a href="/b" id="second">Toinen</a></p></main></body></html>`))
	})
	mux.HandleFunc("/file.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", `attachment; filename="file.csv"`)
		w.Write([]byte("a,b\n1,2\n"))
	})
	mux.HandleFunc("/lang", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(r.Header.Get("Accept-Language")))
	})
	mux.HandleFunc("/wide", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html lang="en"><head><title>Wide</title><meta name="viewport" content="width=device-width">
</head><body><main><h1>Wide</h1><p style="width:1000px">A line that does not wrap.</p></main></body></html>`))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tab := browsertest.Open(t, browsertest.AcceptLanguage("sv-FI,sv"))

	t.Run("AcceptLanguage", func(t *testing.T) {
		tab.Go(srv.URL + "/lang")
		if got := tab.Text("body"); got != "sv-FI,sv;q=0.9" {
			t.Errorf("Accept-Language: %q", got)
		}
	})

	t.Run("Go", func(t *testing.T) {
		if res := tab.Go(srv.URL + "/good"); res.Status != 200 {
			t.Errorf("status %d", res.Status)
		}
		// The browser shows no page for an empty error answer: an error,
		// at once.
		start := time.Now()
		if res, err := tab.Load(srv.URL + "/empty"); err == nil || time.Since(start) > 5*time.Second {
			t.Errorf("an empty 404: %v, %v after %s", res, err, time.Since(start))
		}
	})

	t.Run("Violations", func(t *testing.T) {
		tab.Go(srv.URL + "/bad")
		vs, ok := tab.Violations()
		if !ok {
			t.Skip("no axe-core")
		}
		var ids []string
		for _, v := range vs {
			ids = append(ids, v.ID)
		}
		for _, want := range []string{"html-has-lang", "image-alt", "color-contrast"} {
			if !slices.Contains(ids, want) {
				t.Errorf("violations %q: no %s", ids, want)
			}
		}
		tab.Go(srv.URL + "/good")
		if vs, _ := tab.Violations(); len(vs) != 0 {
			t.Errorf("a plain page: %v", vs)
		}
	})

	t.Run("Reflow", func(t *testing.T) {
		tab.Go(srv.URL + "/wide")
		rec := &recorder{TB: t}
		wide := *tab
		wide.T = rec
		if path := wide.Screenshot("harness-wide"); !strings.HasSuffix(path, "harness-wide.png") {
			t.Errorf("screenshot at %s", path)
		}
		if len(rec.errs) != 2 || !strings.Contains(rec.errs[0], "200 %") || !strings.Contains(rec.errs[1], "phone") {
			t.Errorf("a page 1000 px wide: %q, want it to scroll sideways at 200 %% and on a phone", rec.errs)
		}
		tab.Go(srv.URL + "/good")
		rec = &recorder{TB: t}
		wide.T = rec
		wide.Screenshot("harness-good")
		if len(rec.errs) != 0 {
			t.Errorf("a plain page: %q", rec.errs)
		}
	})

	t.Run("Download", func(t *testing.T) {
		tab.Go(srv.URL + "/good")
		d := tab.Download(chromedp.Click(chromedp.ID("csv")))
		if d.Name != "file.csv" || string(d.Body) != "a,b\n1,2\n" {
			t.Errorf("got %q %q", d.Name, d.Body)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		tab.Go(srv.URL + "/good")
		var got []string
		for range 2 {
			tab.Press("\t")
			got = append(got, tab.Focused().ID)
		}
		if !slices.Equal(got, []string{"csv", "second"}) {
			t.Errorf("focus went %q", got)
		}
	})
}

// recorder is a test that keeps the errors reported to it instead of
// failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
