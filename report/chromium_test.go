//go:build unix

package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/internal/testenv"
)

// TestHTMLInChromium opens the page in headless Chromium (make deps
// installs it; in CI a missing one fails the test) and checks what the
// browser made of it: the hostile reasons are text, not elements, and the
// verdict and the rules are there.
func TestHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := testenv.Chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := hostile().HTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dom := b.Run(t, "file://"+path, "--dump-dom")
	if !strings.Contains(dom, `<div class="verdict fail">`) {
		t.Fatalf("no verdict in the DOM:\n%s", dom)
	}
	for _, bad := range []string{"<script", "<b>", "</code></li></ul>\""} {
		if strings.Contains(dom, bad) {
			t.Errorf("the DOM has %q:\n%s", bad, dom)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "c&lt;b&gt;", `<td class="status">tolerated</td>`, "not a JSON object"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<tr class="); n != 5 {
		t.Errorf("%d rule rows, want 5", n)
	}
	// A screenshot, to look at: go test ./report -run Chromium -args -screenshot
	if *screenshot {
		out := filepath.Join(os.TempDir(), "assay-report.png")
		b.Run(t, "file://"+path, "--screenshot="+out, "--window-size=1200,900")
		t.Logf("screenshot in %s", out)
	}
}
