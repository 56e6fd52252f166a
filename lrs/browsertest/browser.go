package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Flags are Chromium's command-line flags, besides a fresh --user-data-dir
// (and the DevTools pipe chromedp opens). Without the networking flags
// Chromium calls out to Google's services, which a closed network never
// answers.
var Flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
	"disable-component-update", "disable-sync", "no-first-run", "disable-quic"}

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// StartTimeout bounds the start of the browser, TabTimeout everything a
// test does in its tab: a browser that hangs fails the test that waits on
// it long before go test's own limit.
const (
	StartTimeout = 30 * time.Second
	TabTimeout   = 40 * time.Second
	// LoadTimeout bounds the wait for a page to load, so that an action
	// that loads none (Enter on a control that submits nothing) fails
	// soon.
	LoadTimeout = 15 * time.Second
)

// Viewports of the screenshots and of a tab: a desktop, and a phone 390
// CSS pixels wide.
const (
	DesktopWidth, DesktopHeight = 1280, 800
	PhoneWidth, PhoneHeight     = 390, 844
)

// Required reports whether a missing browser or axe-core fails the tests
// instead of skipping them: in CI (CI set) and with LRS_REQUIRE_BROWSER=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LRS_REQUIRE_BROWSER") == "1"
}

// missing skips the test, or fails it when the browser is Required.
func missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		tb.Fatalf("%s (required: CI or LRS_REQUIRE_BROWSER=1 is set)", msg)
	}
	tb.Skip(msg)
}

// errNoChromium says that there is no browser to start.
var errNoChromium = errors.New("no Chromium")

// chromiumPath returns the browser to start: LRS_TEST_CHROMIUM, else
// DefaultChromium, else chromium on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("LRS_TEST_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%w: LRS_TEST_CHROMIUM=%s: %v", errNoChromium, p, err)
		}
		return p, nil
	}
	if _, err := exec.LookPath(DefaultChromium); err == nil {
		return DefaultChromium, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w at %s or on PATH: apt-get install chromium, or set LRS_TEST_CHROMIUM", errNoChromium, DefaultChromium)
}

// shared is the one browser of the test binary, started by the first test
// that opens a tab and closed by Main.
var shared struct {
	sync.Mutex
	started     bool
	err         error
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
	alloc       *chromedp.ExecAllocator
	dir         string // its --user-data-dir
	userAgent   string
}

// Start starts the test binary's browser unless it runs already; without
// one the test skips (or fails, when Required) before it sets up more.
func Start(tb testing.TB) {
	tb.Helper()
	browserContext(tb)
}

// browserContext returns the shared browser's context, starting it first.
func browserContext(tb testing.TB) context.Context {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		shared.err = start()
	}
	if errors.Is(shared.err, errNoChromium) {
		missing(tb, "browser tests not run: %v", shared.err)
	}
	if shared.err != nil {
		tb.Fatalf("browser: %v", shared.err)
	}
	return shared.ctx
}

// start starts Chromium with Flags and a fresh profile; shared is locked.
func start() error {
	path, err := chromiumPath()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lrs-chromium-")
	if err != nil {
		return err
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(dir)}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	// The browser serves every test of the binary, so it outlives any
	// one test's context; Main closes it.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err = <-done:
	case <-time.After(StartTimeout):
		err = fmt.Errorf("did not start in %s", StartTimeout)
	}
	var version browser.GetVersionResult
	if err == nil {
		vctx, vcancel := context.WithTimeout(ctx, StartTimeout)
		version, err = chromedp.CallBrowser(vctx, browser.GetVersion, cdp.Empty{})
		vcancel()
	}
	if err != nil {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
		return fmt.Errorf("%s: %w", path, err)
	}
	shared.ctx, shared.cancel, shared.cancelAlloc, shared.dir = ctx, cancel, cancelAlloc, dir
	shared.alloc, _ = chromedp.FromContext(ctx).Allocator.(*chromedp.ExecAllocator)
	shared.userAgent = version.UserAgent
	return nil
}

// closeBrowser closes the shared browser, if it started, and removes its
// profile.
func closeBrowser() {
	shared.Lock()
	defer shared.Unlock()
	if shared.ctx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(shared.ctx, 10*time.Second)
	chromedp.Cancel(ctx)
	cancel()
	shared.cancel()
	shared.cancelAlloc()
	if shared.alloc != nil {
		shared.alloc.Wait()
	}
	os.RemoveAll(shared.dir)
	shared.ctx = nil
}

// Main runs the tests of a package that opens tabs, then closes the
// browser and removes the screenshots of a run that passed (see
// ScreenshotDir). Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	closeBrowser()
	finishScreenshots(code)
	os.Exit(code)
}

// Tab is a browser tab of one test, in a browser context of its own: no
// cookies, storage or downloads of another test reach it. Its actions
// fail the test on error and share the test's deadline (TabTimeout).
type Tab struct {
	T   testing.TB
	Ctx context.Context
	// Downloads is where the tab's downloads are saved, a temporary
	// directory of the test.
	Downloads string
}

// Option sets up a tab before its first page.
type Option func(*tabOptions)

type tabOptions struct {
	acceptLanguage string
	eventSources   bool
}

// WatchEventSources counts, in every page of the tab, the EventSource
// streams the server has answered (see Tab.WaitEventSources), so that a
// test posts what a live page should show only once the page listens.
func WatchEventSources() Option {
	return func(o *tabOptions) { o.eventSources = true }
}

// watchEventSources runs before a page's own scripts (DevTools adds it,
// so the page's CSP does not apply) and counts the opened streams.
const watchEventSources = `(() => {
	const ES = window.EventSource;
	if (!ES) return;
	window.__lrsOpenStreams = 0;
	window.EventSource = class extends ES {
		constructor(url, init) { super(url, init); this.addEventListener("open", () => window.__lrsOpenStreams++); }
	};
})()`

// AcceptLanguage makes the tab ask for the languages langs, tags in the
// order of preference separated by commas ("sv-FI,sv"), as a browser set
// to them does: Chromium sends them in Accept-Language with q-values.
func AcceptLanguage(langs string) Option {
	return func(o *tabOptions) { o.acceptLanguage = langs }
}

// Open returns a new tab at the desktop viewport, closed when the test
// ends; when the test failed, a screenshot of the tab is kept first.
func Open(t testing.TB, opts ...Option) *Tab {
	t.Helper()
	var o tabOptions
	for _, f := range opts {
		f(&o)
	}
	bctx := browserContext(t)
	ctx, cancel := context.WithTimeout(bctx, TabTimeout)
	tctx, tcancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		tcancel()
		cancel()
	})
	tab := &Tab{T: t, Ctx: tctx, Downloads: t.TempDir()}
	tab.Do(chromedp.EmulateViewport(DesktopWidth, DesktopHeight))
	if o.acceptLanguage != "" {
		tab.call("Accept-Language", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride,
				emulation.SetUserAgentOverrideParams{UserAgent: shared.userAgent, AcceptLanguage: o.acceptLanguage})
			return err
		})
	}
	if o.eventSources {
		tab.call("watch EventSource", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchEventSources})
			return err
		})
	}
	tab.call("download behaviour", func(ctx context.Context) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
			DownloadPath:     tab.Downloads, EventsEnabled: new(true)})
		return err
	})
	t.Cleanup(func() {
		if t.Failed() {
			tab.keepFailure()
		}
	})
	return tab
}

// call runs f with the tab's context and fails the test on error.
func (tab *Tab) call(what string, f func(ctx context.Context) error) {
	tab.T.Helper()
	if err := f(tab.Ctx); err != nil {
		tab.T.Fatalf("%s: %v", what, err)
	}
}

// Do runs actions in order and fails the test at the first error.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.T.Helper()
	if err := chromedp.Do(tab.Ctx, actions...); err != nil {
		tab.T.Fatalf("browser: %v", err)
	}
}

// Run runs one action of tab and returns its value, failing the test on
// error.
func Run[T any](tab *Tab, a chromedp.Action[T]) T {
	tab.T.Helper()
	v, err := chromedp.Run(tab.Ctx, a)
	if err != nil {
		tab.T.Fatalf("browser: %v", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page (not subject to the
// page's Content-Security-Policy) and returns its value as T.
func Eval[T any](tab *Tab, expr string) T {
	tab.T.Helper()
	v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.T.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// Go opens url and returns the response of the page it ends at, after
// redirects.
func (tab *Tab) Go(url string) *network.Response {
	tab.T.Helper()
	res, err := tab.Load(url)
	if err != nil {
		tab.T.Fatalf("browser: %v", err)
	}
	return res
}

// Load opens url and returns the response of the page it ends at, or the
// error of a page the browser could not show (such as an error status
// with an empty body).
func (tab *Tab) Load(url string) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(tab.Ctx, LoadTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.NavigateResponse(url))
}

// Follow runs actions that load a page (a click on a link, Enter on a
// button) and returns the page's response once it has loaded.
func (tab *Tab) Follow(actions ...chromedp.Action[chromedp.Void]) *network.Response {
	tab.T.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, LoadTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if errors.Is(err, context.DeadlineExceeded) && tab.Ctx.Err() == nil {
		tab.T.Fatalf("browser: no page loaded within %s", LoadTimeout)
	}
	if err != nil {
		tab.T.Fatalf("browser: %v", err)
	}
	return res
}

// URL is the address of the tab's page.
func (tab *Tab) URL() string {
	tab.T.Helper()
	return Run(tab, chromedp.Location())
}

// Text returns the rendered text of the first element CSS selector sel
// matches, waiting for it to be visible.
func (tab *Tab) Text(sel string) string {
	tab.T.Helper()
	return Run(tab, chromedp.Text(chromedp.CSS(sel)))
}

// Press sends keys to the focused element, one key at a time: "\t" is
// Tab, "\r" Enter.
func (tab *Tab) Press(keys string) {
	tab.T.Helper()
	tab.Do(chromedp.KeyEvent(keys))
}

// Element describes a page's element for focus checks.
type Element struct {
	Tag, Text, Href, ID, Name string
	// Outline is the computed outline-style: a focused element should
	// show where the focus is.
	Outline string
}

func (e Element) String() string {
	return fmt.Sprintf("<%s id=%q name=%q href=%q> %q", e.Tag, e.ID, e.Name, e.Href, e.Text)
}

// WaitEventSources waits until the page has n streams open (the tab must
// be opened with WatchEventSources), at most 5 s.
func (tab *Tab) WaitEventSources(n int) {
	tab.T.Helper()
	Eval[bool](tab, fmt.Sprintf(`new Promise((resolve, reject) => {
		const t0 = Date.now();
		const tick = () => {
			if ((window.__lrsOpenStreams || 0) >= %d) resolve(true);
			else if (Date.now() - t0 > 5000) reject(new Error("%d EventSource streams not open after 5 s: " + (window.__lrsOpenStreams === undefined ? "not watched" : window.__lrsOpenStreams + " open")));
			else setTimeout(tick, 20);
		};
		tick();
	})`, n, n))
}

// Key tells elements apart for comparing focus orders.
func (e Element) Key() string {
	return e.Tag + "|" + e.ID + "|" + e.Name + "|" + e.Href + "|" + e.Text
}

// describe is a JavaScript function that returns an element as Element.
const describe = `(e => ({Tag: e.tagName.toLowerCase(), Text: (e.innerText || "").trim(), Href: e.getAttribute("href") || "",
	ID: e.id || "", Name: e.getAttribute("name") || "", Outline: getComputedStyle(e).outlineStyle}))`

// Focused describes document.activeElement.
func (tab *Tab) Focused() Element {
	tab.T.Helper()
	return Eval[Element](tab, describe+`(document.activeElement)`)
}

// Focusables describes the elements of the page that Tab should visit,
// in the order of the document: links, buttons and form fields that are
// rendered and enabled, and anything with a tabindex of 0. A positive
// tabindex, which takes an element out of that order, fails the test.
func (tab *Tab) Focusables() []Element {
	tab.T.Helper()
	if n := Eval[int](tab, `[...document.querySelectorAll("[tabindex]")].filter(e => e.tabIndex > 0).length`); n > 0 {
		tab.T.Errorf("%d elements with a positive tabindex change the focus order", n)
	}
	return Eval[[]Element](tab, `[...document.querySelectorAll('a[href], button, select, textarea, input:not([type=hidden]), [tabindex]')]
		.filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")
		.map(`+describe+`)`)
}
