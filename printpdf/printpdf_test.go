package printpdf

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gridline.dev/gridline/internal/testenv"
)

var pageRE = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

func chromium(t *testing.T) *Chromium {
	t.Helper()
	c := New(os.Getenv("CHROMIUM"))
	if !c.Available() {
		testenv.Missing(t, "no Chromium at %s: run scripts/setup.sh deps as root", c.path)
	}
	t.Cleanup(c.Close)
	return c
}

// TestPDF prints a two-page document whose script marks it ready late, in parallel from a warm
// browser: each PDF has the document's two A4 pages and the text the script wrote.
func TestPDF(t *testing.T) {
	c := chromium(t)
	html := []byte(`<!doctype html><html><head><meta charset="utf-8"><style>@page{size:A4;margin:10mm}
section{height:270mm;break-after:page}section:last-child{break-after:auto}</style></head><body>
<section>一</section><section id="two">二</section>
<script>setTimeout(()=>{document.getElementById('two').textContent='drawn';document.body.dataset.ready='1'},150)</script></body></html>`)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pdf, err := c.PDF(context.Background(), html)
			if err != nil {
				t.Error(err)
				return
			}
			if !strings.HasPrefix(string(pdf), "%PDF-") {
				t.Errorf("not a PDF: %.20q", pdf)
			}
			if n := len(pageRE.FindAll(pdf, -1)); n != 2 {
				t.Errorf("%d pages, want 2", n)
			}
		}()
	}
	wg.Wait()
}

func TestNoChromium(t *testing.T) {
	c := New("/nonexistent/chromium")
	if c.Available() {
		t.Fatal("available at a path that does not exist")
	}
	if _, err := c.PDF(context.Background(), []byte("<p>x")); !errors.Is(err, ErrNoChromium) {
		t.Fatalf("err = %v, want ErrNoChromium", err)
	}
}
