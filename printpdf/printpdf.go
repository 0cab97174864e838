// Package printpdf prints HTML pages to PDF with a headless Chromium kept warm between prints and
// driven over the DevTools protocol (github.com/chromedp/chromedp): the monthly brief of the
// statistics (issue #16). Starting Chromium for each print (--headless --print-to-pdf) costs more
// than 2 s on this project's machines before the page is even read; a warm browser opens a tab in
// tens of milliseconds (docs/decisions.md, "The monthly brief's PDF"). It knows nothing of HTTP.
package printpdf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium is returned when there is no Chromium at the configured path.
var ErrNoChromium = errors.New("printpdf: Chromium is not installed")

// DefaultPath is Debian's Chromium (the package chromium, installed by scripts/setup.sh).
const DefaultPath = "/usr/bin/chromium"

// Chromium prints with one headless Chromium, started at the first print and kept until Close.
type Chromium struct {
	path string
	// Ready is a JavaScript expression that is true when the page has drawn everything (its
	// charts): the print waits for it at most ReadyWait, then prints what is there.
	Ready     string
	ReadyWait time.Duration
	// Timeout bounds one print, start of the browser included.
	Timeout time.Duration

	mu       sync.Mutex
	browser  context.Context // nil until started, and after the browser died
	stop     func()
	dir      string        // pages are written here and opened as file:// (never from the network)
	slots    chan struct{} // at most this many tabs print at once
	idle     []*tab        // tabs of the running browser waiting for the next print
	printSeq int
}

// New returns a printer using the Chromium at path ("" means DefaultPath). Nothing starts
// until the first print.
func New(path string) *Chromium {
	if path == "" {
		path = DefaultPath
	}
	return &Chromium{path: path, Ready: `document.body && document.body.dataset.ready === '1'`, ReadyWait: 3 * time.Second, Timeout: 20 * time.Second, slots: make(chan struct{}, 2)}
}

// Available reports whether Chromium is where the printer looks for it.
func (c *Chromium) Available() bool {
	_, err := exec.LookPath(c.path)
	return err == nil
}

// start runs the browser once; later calls reuse it.
func (c *Chromium) start() (context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.browser != nil && c.browser.Err() == nil {
		return c.browser, nil
	}
	if !c.Available() {
		return nil, fmt.Errorf("%w at %s", ErrNoChromium, c.path)
	}
	if c.stop != nil {
		c.stop()
	}
	c.idle = nil
	dir, err := os.MkdirTemp("", "gridline-print-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(c.path),
		chromedp.NoSandbox, // root in containers; the pages printed are the server's own
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("allow-file-access-from-files", false),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	// Do with no actions starts the browser and its first tab (with no timeout on this context:
	// it would stop the browser; a browser that does not start makes Do fail).
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("printpdf: starting %s: %w", c.path, err)
	}
	c.browser, c.dir = browser, dir
	c.stop = func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }
	return browser, nil
}

// Start starts the browser now (at server start), so that the first print does not wait for it.
func (c *Chromium) Start() error {
	_, err := c.start()
	return err
}

// PDF prints html (a whole self-contained page; its @page rule sets the paper) to PDF.
func (c *Chromium) PDF(ctx context.Context, html []byte) ([]byte, error) {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	browser, err := c.start()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.printSeq++
	file := filepath.Join(c.dir, fmt.Sprintf("page-%d.html", c.printSeq))
	c.mu.Unlock()
	if err := os.WriteFile(file, html, 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(file)

	t, err := c.takeTab(browser)
	if err != nil {
		return nil, c.failed(ctx, browser, err)
	}
	kept := false
	defer func() {
		if !kept {
			t.close()
		}
	}()
	tab, cancel := context.WithTimeout(t.ctx, c.Timeout)
	defer cancel()
	stopOnCaller := context.AfterFunc(ctx, cancel)
	defer stopOnCaller()
	if err := chromedp.Do(tab, chromedp.Navigate("file://"+file)); err != nil {
		return nil, c.failed(ctx, browser, err)
	}
	// A page whose script failed still prints (its tables are HTML): wait a bounded time only.
	chromedp.Run(tab, chromedp.Poll[bool](c.Ready, chromedp.WithPollingTimeout(c.ReadyWait), chromedp.WithPollingInterval(10*time.Millisecond)))
	pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		return nil, c.failed(ctx, browser, err)
	}
	kept = c.keepTab(browser, t)
	return pdf, nil
}

// tab is a tab of the browser kept open between prints: its renderer process keeps its fonts and
// compiled script, which makes the next print of the same kind of page much faster than in a new
// tab (a new renderer process each time).
type tab struct {
	ctx   context.Context
	close func()
}

// takeTab takes an idle tab of browser, or opens one.
func (c *Chromium) takeTab(browser context.Context) (*tab, error) {
	c.mu.Lock()
	for len(c.idle) > 0 {
		t := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if t.ctx.Err() == nil {
			c.mu.Unlock()
			return t, nil
		}
		t.close()
	}
	c.mu.Unlock()
	ctx, cancel := chromedp.NewContext(browser)
	// The tab's first run opens it; no timeout here (it would close the tab when it fires).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, err
	}
	return &tab{ctx: ctx, close: cancel}, nil
}

// keepTab puts t back among the idle tabs of browser, if that is still the running browser.
func (c *Chromium) keepTab(browser context.Context, t *tab) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.browser != browser || t.ctx.Err() != nil || len(c.idle) >= cap(c.slots) {
		return false
	}
	c.idle = append(c.idle, t)
	return true
}

// failed forgets a browser that died (the next print starts a new one) and says what failed.
func (c *Chromium) failed(ctx, browser context.Context, err error) error {
	if browser.Err() != nil {
		c.mu.Lock()
		if c.browser == browser {
			c.browser = nil
		}
		c.mu.Unlock()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("printpdf: printing: %w", err)
}

// Close stops the browser.
func (c *Chromium) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		c.stop()
		c.stop, c.browser, c.idle = nil, nil, nil
	}
}
