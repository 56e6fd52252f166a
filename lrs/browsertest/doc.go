// Package browsertest drives the pages under /ui/ in a real headless
// Chromium for tests: one browser per test binary, a fresh tab in its own
// browser context (cookies, storage, downloads) per test, deadlines so a
// hung browser fails the test that waited on it, axe-core checks of WCAG
// 2.1 A/AA, full-page screenshots at a desktop and a phone width, and
// downloads into a test's temporary directory.
//
// The browser is Debian's chromium (/usr/bin/chromium, or the binary
// LRS_TEST_CHROMIUM names); axe-core is the npm fixture of
// deploy/testdeps (npm ci --prefix deploy/testdeps), or the axe.min.js
// LRS_TEST_AXE names. Without them a test skips and says why, except
// where the environment sets CI or LRS_REQUIRE_BROWSER=1: there it fails.
// Screenshots go to LRS_SCREENSHOTS_DIR, or to a temporary directory that
// is removed when every test passed and kept (and printed) otherwise.
//
// The package imports chromedp, cdproto and the standard library; it
// knows nothing of the LRS (the tests that use it start their own).
package browsertest
