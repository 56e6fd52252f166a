package browsertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// shots is the directory of the screenshots of the test binary.
var shots struct {
	sync.Mutex
	dir  string
	temp bool // made here: removed when every test passed
	err  error
}

// ScreenshotDir returns the directory screenshots are written to:
// LRS_SCREENSHOTS_DIR (made when missing, always kept), or a temporary
// directory that Main removes when every test passed and keeps, printing
// its path, when one failed.
func ScreenshotDir(tb testing.TB) string {
	tb.Helper()
	shots.Lock()
	defer shots.Unlock()
	if shots.dir == "" && shots.err == nil {
		if d := os.Getenv("LRS_SCREENSHOTS_DIR"); d != "" {
			shots.dir, shots.err = d, os.MkdirAll(d, 0o755)
		} else {
			shots.dir, shots.err = os.MkdirTemp("", "lrs-screenshots-")
			shots.temp = true
		}
	}
	if shots.err != nil {
		tb.Fatalf("screenshots: %v", shots.err)
	}
	return shots.dir
}

func finishScreenshots(code int) {
	shots.Lock()
	defer shots.Unlock()
	switch {
	case shots.dir == "":
	case shots.temp && code == 0:
		os.RemoveAll(shots.dir)
	default:
		fmt.Fprintf(os.Stderr, "browsertest: screenshots in %s\n", shots.dir)
	}
}

// fullPage captures the whole page, not only the viewport, as PNG: as
// wide as the viewport (or the page, if wider) and as tall as the page's
// content.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	if m.CSSContentSize == nil || m.CSSLayoutViewport == nil {
		return nil, errors.New("no layout metrics")
	}
	h, err := chromedp.Evaluate[float64](`document.documentElement.getBoundingClientRect().height`)(ctx, t)
	if err != nil {
		return nil, err
	}
	w := math.Max(m.CSSContentSize.Width, float64(m.CSSLayoutViewport.ClientWidth))
	res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: new(true), FromSurface: new(true),
		Clip: &page.Viewport{Width: math.Ceil(w), Height: math.Max(math.Ceil(h), 1), Scale: 1},
	})
	return res.Data, err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot writes full-page PNGs of the tab's page to ScreenshotDir:
// name.png at the desktop width and name-phone.png at the phone width
// (390 px). At the phone and at the desktop zoomed to 200 % the page
// must not scroll sideways (WCAG 1.4.4, 1.4.10). It returns the desktop
// file's path; the tab is back at the desktop viewport after it.
func (tab *Tab) Screenshot(name string) string {
	tab.T.Helper()
	name = unsafeName.ReplaceAllString(name, "_")
	dir := ScreenshotDir(tab.T)
	desktop := filepath.Join(dir, name+".png")
	tab.writeShot(desktop)
	tab.Do(chromedp.EmulateViewport(DesktopWidth/2, DesktopHeight/2, chromedp.EmulateScale(2)))
	tab.checkReflow(name+" at 200 %", DesktopWidth/2)
	tab.Do(chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateMobile))
	tab.checkReflow(name+" on a phone", PhoneWidth)
	tab.writeShot(filepath.Join(dir, name+"-phone.png"))
	tab.Do(chromedp.EmulateViewport(DesktopWidth, DesktopHeight))
	return desktop
}

// checkReflow fails the test when the page, laid out width CSS pixels
// wide, is wider: a reader would scroll sideways for each line.
func (tab *Tab) checkReflow(what string, width int) {
	tab.T.Helper()
	// Media queries and the layout follow a new viewport on the next
	// frame.
	Eval[chromedp.Void](tab, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`)
	if w := Eval[int](tab, `document.documentElement.scrollWidth`); w > width {
		tab.T.Errorf("%s: the page is %d px wide in a %d px viewport: it scrolls sideways", what, w, width)
	}
}

func (tab *Tab) writeShot(path string) {
	tab.T.Helper()
	png := Run(tab, chromedp.Action[[]byte](fullPage))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.T.Fatal(err)
	}
	tab.T.Logf("screenshot %s", path)
}

// keepFailure writes a screenshot of the failed test's page, if the tab
// still answers.
func (tab *Tab) keepFailure() {
	ctx, cancel := context.WithTimeout(tab.Ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Action[[]byte](fullPage))
	if err != nil {
		tab.T.Logf("no screenshot of the failure: %v", err)
		return
	}
	path := filepath.Join(ScreenshotDir(tab.T), "FAILED-"+unsafeName.ReplaceAllString(tab.T.Name(), "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		tab.T.Logf("the page at the failure: %s", path)
	}
}

// UpdateDoc copies the screenshot at src to the repository path dst (such
// as docs/img/teacher-overview-fi.png) when LRS_UPDATE_SCREENSHOTS=1, so
// that the README's pictures are made by the tests.
func UpdateDoc(tb testing.TB, src, dst string) {
	tb.Helper()
	if os.Getenv("LRS_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(filepath.Join(root, dst), b, 0o644)
	}
	if err != nil {
		tb.Fatalf("update %s: %v", dst, err)
	}
	tb.Logf("updated %s", dst)
}

// RepoRoot returns the directory of go.mod above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}

// Download is a file the tab downloaded.
type Download struct {
	// Name is the file name the server suggested (Content-Disposition).
	Name string
	Body []byte
}

// Download runs trigger (a click on a download link) and waits until the
// browser has saved the file it starts.
func (tab *Tab) Download(trigger chromedp.Action[chromedp.Void]) Download {
	tab.T.Helper()
	begins := chromedp.BrowserEvents(tab.Ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(tab.Ctx, browser.DownloadProgress)
	tab.Do(trigger)
	var begin browser.EventDownloadWillBegin
	for ev, err := range begins {
		if err != nil {
			tab.T.Fatalf("no download began: %v", err)
		}
		begin = ev
		break
	}
	for ev, err := range progress {
		if err != nil {
			tab.T.Fatalf("download of %s: %v", begin.URL, err)
		}
		if ev.GUID != begin.GUID {
			continue
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(tab.Downloads, begin.GUID))
			if err != nil {
				tab.T.Fatalf("download of %s: %v", begin.URL, err)
			}
			return Download{Name: begin.SuggestedFilename, Body: b}
		case browser.DownloadProgressStateCanceled:
			tab.T.Fatalf("download of %s was canceled", begin.URL)
		}
	}
	tab.T.Fatalf("download of %s did not complete", begin.URL)
	return Download{}
}
