package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/report"
)

// chromium finds Debian's headless-capable Chromium ($MKE_MIGRATE_CHROMIUM
// first). Without one the browser tests skip, except in CI (CI=true),
// where .ci/run installs it and its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MKE_MIGRATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// browserSeen is what the browser reported while it showed a page.
type browserSeen struct {
	mu       sync.Mutex
	errors   []string // console errors and warnings, exceptions, log errors
	dialogs  []string // alert, confirm, prompt
	requests []string // every URL the page asked for
}

func (s *browserSeen) add(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			s.errors = append(s.errors, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		s.errors = append(s.errors, "exception: "+e.ExceptionDetails.Text+" "+exceptionDescription(e.ExceptionDetails))
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			s.errors = append(s.errors, fmt.Sprintf("log %s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text))
		}
	case *page.EventJavascriptDialogOpening:
		s.dialogs = append(s.dialogs, string(e.Type)+": "+e.Message)
	case *network.EventRequestWillBeSent:
		s.requests = append(s.requests, e.Request.URL)
	}
}

func exceptionDescription(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (s *browserSeen) snapshot() (errs, dialogs, requests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.errors...), append([]string{}, s.dialogs...), append([]string{}, s.requests...)
}

// browser starts a headless Chromium with no network (offline emulation,
// every host name unresolvable) and a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := chromium(t)
	// a safety net for a browser that hangs, not a measure of speed
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1600))
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	// start the browser now, so that each page gets a tab of this one
	require.NoError(t, chromedp.Do(bctx))
	return bctx
}

// open shows file in a new tab, offline, and returns what the browser saw
// up to then.
func open(t *testing.T, ctx context.Context, file string) (context.Context, *browserSeen) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(tab)) // the tab exists, so the listener sees everything
	seen := &browserSeen{}
	require.NoError(t, chromedp.Listen(tab, seen.add))
	offline := network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{
		{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}}
	_, err := chromedp.Call(tab, network.EmulateNetworkConditionsByRule, offline)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate("file://"+file), chromedp.WaitReady(chromedp.CSS("footer"))))
	return tab, seen
}

func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}

// TestBrowserShowsReportsWithoutErrors opens each fixture's report and the
// hostile one from file:// with the network off: no console error, no
// dialog, no request but the page itself; the script ran (data parsed,
// filters work); and a screenshot that is not blank.
func TestBrowserShowsReportsWithoutErrors(t *testing.T) {
	ctx := browser(t)

	// First, that the checks can fail: a page with a script error and a
	// request for the network is caught.
	bad := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><title>bad</title><img src="https://example.com/x.png"><script>null.f()</script><footer></footer>`), 0o600))
	tab, seen := open(t, ctx, bad)
	_ = eval[int](t, tab, "1")
	errs, _, reqs := seen.snapshot()
	assert.NotEmpty(t, errs, "a script error is seen")
	assert.Contains(t, reqs, "https://example.com/x.png", "a request is seen")

	pages := map[string]string{}
	for _, f := range fixtures {
		pages[f.name] = filepath.Join("testdata", f.name)
	}
	pages["hostile"] = hostileFolder(t)
	for name, dir := range pages {
		t.Run(name, func(t *testing.T) {
			d := load(t, dir)
			file := filepath.Join(t.TempDir(), "report.html")
			var b bytes.Buffer
			require.NoError(t, report.Render(&b, d))
			require.NoError(t, os.WriteFile(file, b.Bytes(), 0o600))

			tab, seen := open(t, ctx, file)
			assert.Equal(t, d.Outcome, eval[string](t, tab, "window.mkeMigrateReport.outcome"), "the script ran and parsed the data")
			if d.Conversion != nil {
				all := len(d.Conversion.Entries)
				assert.Equal(t, fmt.Sprintf("%d of %d keys shown", all, all), eval[string](t, tab, `document.getElementById("shown-count").textContent`))
				notCarried := 0
				for _, e := range d.Conversion.Entries {
					if e.Status != "converted" && e.Status != "default" {
						notCarried++
					}
				}
				require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.ID("only-attention"))))
				assert.Equal(t, notCarried, eval[int](t, tab, `document.querySelectorAll("#conversion-table tbody tr:not([hidden])").length`))
				// sort by key, descending on the second click
				require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#conversion-table th:nth-child(2)")), chromedp.Click(chromedp.CSS("#conversion-table th:nth-child(2)"))))
				assert.Equal(t, "descending", eval[string](t, tab, `document.querySelector("#conversion-table th:nth-child(2)").getAttribute("aria-sort")`))
			}
			if name == "hostile" {
				text := eval[string](t, tab, "document.body.innerText")
				for _, s := range []string{hostileTeam, hostileTOMLKey, hostileError} {
					if s == hostileTeam {
						// inside a closed <details>: open it
						require.NoError(t, chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`)))
						text = eval[string](t, tab, "document.body.innerText")
					}
					assert.Contains(t, text, s, "shown as text")
				}
				assert.Zero(t, eval[int](t, tab, `document.querySelectorAll("img, iframe, [onerror], [onload], [onmouseover]").length`))
			}
			shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			require.NoError(t, err)
			assertNotBlank(t, shot)

			errs, dialogs, reqs := seen.snapshot()
			assert.Empty(t, errs, "console errors")
			assert.Empty(t, dialogs, "dialogs (a script from the data ran)")
			for _, u := range reqs {
				assert.True(t, strings.HasPrefix(u, "file://") || strings.HasPrefix(u, "data:"), "the page fetched %s", u)
			}
		})
	}
}

// assertNotBlank checks a PNG screenshot: more than 10% of its pixels are
// not white, in more than a handful of colours.
func assertNotBlank(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	b := img.Bounds()
	require.Greater(t, b.Dx(), 800)
	require.Greater(t, b.Dy(), 600)
	ink, total := 0, 0
	colours := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xf0f0 || g < 0xf0f0 || bl < 0xf0f0 {
				ink++
			}
			colours[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
		}
	}
	ratio := float64(ink) / float64(total)
	t.Logf("screenshot %dx%d: %.1f%% not white, %d colours", b.Dx(), b.Dy(), 100*ratio, len(colours))
	assert.Greater(t, ratio, 0.10, "the page looks blank")
	assert.Greater(t, len(colours), 16, "the page has hardly any colours")
}
