//go:build unix

package dashboard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/internal/testenv"
)

// newBrowser is Debian's headless Chromium (make deps installs it; in CI
// a missing one fails the test).
func newBrowser(t *testing.T) *testenv.Browser { return testenv.Chromium(t) }

// screenshotDir is testdata/screenshots at the root of the repository (it
// is git-ignored), or a temporary directory.
func screenshotDir(t *testing.T) string {
	root, err := filepath.Abs("../..")
	if err == nil {
		if _, err = os.Stat(filepath.Join(root, "go.mod")); err == nil {
			dir := filepath.Join(root, "testdata", "screenshots")
			if err = os.MkdirAll(dir, 0o755); err == nil {
				return dir
			}
		}
	}
	return t.TempDir()
}

// rowText returns what a person reads in the table row with the given
// data attribute.
func rowText(t *testing.T, dom, attr, value string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr [^>]*` + attr + `="` + regexp.QuoteMeta(value) + `"[^>]*>(.*?)</tr>`)
	m := re.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no row %s=%q in the page:\n%s", attr, value, dom)
	}
	return textOf(m[1])
}

// TestInChromium opens the dashboard in a real headless browser, lets its
// script fetch the API and re-render, and checks what a person would see.
func TestInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	f := newFixture(t, "")
	shots := screenshotDir(t)

	// The overview.
	dom := b.Run(t, f.srv.URL+"/", "--dump-dom")
	if !strings.Contains(dom, "live · updated") {
		t.Errorf("the script did not refresh the overview:\n%s", dom)
	}
	for name, want := range map[string]string{
		"checkout-orders": "checkout-orders firing amount-positive team-checkout checkout.orders 5 60.00% 4 last 5m: 40.00% of 5 amount-positive 4 violations in the last hour, at most 3 in a minute",
		"user-signups":    "user-signups no data team-identity users.signups 2 50.00% 1 last 5m: 50.00% of 2 age-adult 1 violation in the last hour",
	} {
		if got := rowText(t, dom, "data-contract", name); got != want {
			t.Errorf("overview row %s:\n got %q\nwant %q", name, got, want)
		}
	}
	if n := strings.Count(dom, `<svg class="spark"`); n != 2 {
		t.Errorf("%d sparklines on the overview, want 2", n)
	}

	// The contract page.
	dom = b.Run(t, f.srv.URL+"/contracts/checkout-orders", "--dump-dom")
	if !strings.Contains(dom, "live · updated") || !strings.Contains(dom, `data-id="`) {
		t.Errorf("the script did not refresh the contract page:\n%s", dom)
	}
	for rule, want := range map[string]string{
		// rule, state and since when, severity, pass, fail, error, skip,
		// ratio since start, the alert window and threshold, the
		// sparkline's title, last violation
		"amount-positive": "amount-positive firing since 2026-11-02 09:02:30 UTC critical 3 1 1 0 40.00% last 5m: 40.00% of 5 fires above 30%, min. 3 2 violations in the last hour, at most 1 in a minute 2026-11-02 09:01:01 UTC",
		"currency-known":  "currency-known ok since 2026-11-02 09:02:30 UTC warning 4 1 0 0 20.00% last 5m: 20.00% of 5 fires above 30%, min. 3 1 violation in the last hour 2026-11-02 09:01:02 UTC",
		"email-valid":     "email-valid ok since 2026-11-02 09:02:30 UTC info 3 1 0 1 25.00% last 5m: 25.00% of 4 fires above 30%, min. 3 1 violation in the last hour 2026-11-02 09:01:03 UTC",
	} {
		if got := rowText(t, dom, "data-rule", rule); got != want {
			t.Errorf("rule row %s:\n got %q\nwant %q", rule, got, want)
		}
	}
	text := textOf(dom)
	for _, want := range []string{
		"Events checked since start 5", "Pass rate (events that passed every rule) 60.00%", "Reads unknown",
		"Alerts above 30% violations over 5m, min. 3 events",
		"2026-11-02 09:01:03 UTC email-valid fail customer.email matches",
		"(customer.email = ***) checkout.orders 0 2",
		`"email": "***"`, `"phone": "***"`,
		"2026-11-02 09:00:01 UTC amount-positive fail amount > 0 was false (amount = -3) checkout.orders 0 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("contract page lacks %q:\n%s", want, text)
		}
	}
	for _, pii := range piiValues {
		if strings.Contains(dom, pii) {
			t.Errorf("the browser shows PII %q", pii)
		}
	}

	// Screenshots at a laptop's size, for a person to look at.
	for name, path := range map[string]string{"overview": "/", "contract": "/contracts/checkout-orders"} {
		file := filepath.Join(shots, "dashboard-"+name+".png")
		os.Remove(file)
		b.Run(t, f.srv.URL+path, "--screenshot="+file, "--window-size=1280,900", "--hide-scrollbars")
		if st, err := os.Stat(file); err != nil || st.Size() < 10000 {
			t.Errorf("screenshot %s: %v", file, err)
		}
		t.Logf("screenshot of the %s: %s", name, file)
	}
}

// TestInChromiumSignInFromAnotherSite follows what happens when a person
// who is not signed in opens a contract's link from another site (a chat
// alert): the sign-in sets a SameSite=Strict cookie, which the browser
// does not send on the rest of a navigation another site started; the
// form's one same-site reload gets it through to the page.
func TestInChromiumSignInFromAnotherSite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	f := newFixture(t, testToken)
	// Another site (localhost vs 127.0.0.1) posts the sign-in form.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/login">
<input name="token" value="%s"><input name="next" value="contracts/checkout-orders?rule=email-valid"></form>
<script>document.forms[0].submit()</script>`, f.srv.URL, testToken)
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	dom := b.Run(t, otherURL, "--dump-dom")
	if !strings.Contains(dom, `data-page="contract"`) || !strings.Contains(dom, "live · updated") {
		t.Fatalf("signing in from another site did not end on the contract page:\n%s", dom)
	}
	if got := rowText(t, dom, "data-rule", "email-valid"); !strings.HasPrefix(got, "email-valid ok since 2026-11-02 09:02:30 UTC info 3 1 0 1 25.00%") {
		t.Errorf("rule row %q", got)
	}
	if strings.Contains(dom, testToken) {
		t.Error("the token is in the page")
	}
}

// TestInChromiumLinkFromAnotherSite: a signed-in browser that follows a
// link from another site does not send its SameSite=Strict cookie; the
// sign-in form's same-site reload sends it, and the page opens without
// asking for the token again.
func TestInChromiumLinkFromAnotherSite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	f := newFixture(t, testToken)
	// Another site signs in in a second window, then links to a contract.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/login" target="signin">
<input name="token" value="%s"></form>
<script>
document.forms[0].submit();
setTimeout(() => { location.href = %q }, 1500);
</script>`, f.srv.URL, testToken, f.srv.URL+"/contracts/user-signups")
	}))
	defer other.Close()
	dom := b.Run(t, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), "--dump-dom", "--disable-popup-blocking")
	// (This tab is in the background behind the sign-in window, so its
	// script does not refresh: the numbers are the server's.)
	if !strings.Contains(dom, `data-contract="user-signups"`) {
		t.Fatalf("a signed-in browser following a link from another site did not reach the page:\n%s", dom)
	}
	if got := rowText(t, dom, "data-rule", "age-adult"); !strings.HasPrefix(got, "age-adult no data since 2026-11-02 09:02:30 UTC warning 1 1 0 0 50.00%") {
		t.Errorf("rule row %q", got)
	}
	if got := f.logs.String(); strings.Count(got, "dashboard sign-in") != 1 {
		t.Errorf("want one sign-in, logs:\n%s", got)
	}
}

// TestInChromiumUndecodable: the overview, re-rendered by the script from
// the API, shows each topic's undecodable records with their offsets, and
// escapes the bidi and control characters of a preview.
func TestInChromiumUndecodable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	f := newFixture(t, "")
	f.setDecode(undecodable())
	f.ch.SetCoverage(map[string]checker.Coverage{"checkout-orders": {Missing: []string{"paymnts"}}, "user-signups": {Topics: []string{"users.signups"}}})
	dom := b.Run(t, f.srv.URL+"/", "--dump-dom")
	if !strings.Contains(dom, "live · updated") {
		t.Fatalf("the script did not refresh the overview:\n%s", dom)
	}
	got := rowText(t, dom, "data-topic", "checkout.orders")
	for _, want := range []string{
		"checkout.orders json 1,234 ",
		"partition 2 · offset 7111 · 51 bytes · 2026-11-02 09:00:11 UTC invalid JSON at byte 1",
		`x-not-json-11 \u202egnp.exe\x1b[2J`,
		"partition 2 · offset 7110", "partition 2 · offset 7109",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("row lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "offset 7108") {
		t.Errorf("more than %d samples:\n%s", OverviewDecodeSample, got)
	}
	banner := regexp.MustCompile(`<p class="banner"[^>]*data-banner="checkout-orders"[^>]*>(.*?)</p>`).FindStringSubmatch(dom)
	if banner == nil || textOf(banner[1]) != "checkout-orders reads no topic: 'paymnts' does not exist" || strings.Count(dom, `class="banner"`) != 1 {
		t.Errorf("banner %q", banner)
	}
	if got := rowText(t, dom, "data-topic", "users.signups"); !strings.HasPrefix(got, "users.signups json 1 partition 0 · offset 9") {
		t.Errorf("users.signups row %q", got)
	}
	if strings.ContainsAny(dom, "\u202e\x1b") {
		t.Error("raw bidi or control characters in the DOM")
	}
	file := filepath.Join(screenshotDir(t), "dashboard-undecodable.png")
	b.Run(t, f.srv.URL+"/", "--screenshot="+file, "--window-size=1280,900", "--hide-scrollbars")
	t.Logf("screenshot: %s", file)
}

// TestInChromiumReloadBanner: a reload refused after the page was rendered
// shows up on the page within a refresh (the script reads
// /api/v1/reload), and the banner goes away once a reload succeeds.
func TestInChromiumReloadBanner(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	ok := ReloadStatus{Loaded: t0}
	refused := ReloadStatus{Refused: true, Loaded: t0, RefusedAt: t0.Add(time.Minute)}
	var mu sync.Mutex
	var calls int
	var first, then ReloadStatus // the page is rendered with first, refreshed with then
	f := newFixtureOf(t, "", fixtureContracts, fixtureBatches, func(o *Options) {
		o.Reload = func() ReloadStatus {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return first
			}
			return then
		}
	})
	const banner = "Contract reload refused at 2026-11-02 09:01:00 UTC: the previous contracts keep running (loaded 2026-11-02 09:00:00 UTC). The sidecar's log says what is wrong; assay lint checks the files before a reload."
	for _, path := range []string{"/", "/contracts/checkout-orders"} {
		for _, tc := range []struct {
			first, then ReloadStatus
			want        string
		}{{ok, refused, banner}, {refused, ok, ""}} {
			mu.Lock()
			calls, first, then = 0, tc.first, tc.then
			mu.Unlock()
			dom := b.Run(t, f.srv.URL+path, "--dump-dom")
			m := regexp.MustCompile(`<div id="reload-banner">(.*?)</div>`).FindStringSubmatch(dom)
			if !strings.Contains(dom, "live · updated") || m == nil || textOf(m[1]) != tc.want {
				t.Errorf("%s, rendered refused %v, then %v: the script shows %q", path, tc.first.Refused, tc.then.Refused, m)
			}
		}
	}
}

// TestInChromiumAnomalies: on a contract with anomaly rules, every chart
// is drawn with a size, with its band and its failure markers inside it,
// and the section neither scrolls the page sideways nor breaks a name,
// down to a phone's width.
func TestInChromiumAnomalies(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	srv := httptest.NewServer(withMeasure(anomalyServer(t, "").Config.Handler))
	defer srv.Close()
	const path = "/contracts/orders-anomalies"
	for _, width := range []int{1280, 360} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			l, dom := measurePage(t, b, srv.URL+path, width)
			if l.ScrollWidth > width {
				t.Errorf("the page scrolls sideways: %dpx wide in a %dpx window", l.ScrollWidth, width)
			}
			charts := map[string]layoutBox{}
			for _, c := range l.find("", "chart") {
				if c.Tag != "svg" {
					continue
				}
				if !c.Shown || c.Right-c.Left < 100 || c.Bottom-c.Top < 30 || c.Left < 0 || c.Right > float64(width) {
					t.Errorf("chart %s: shown %v, %.0f–%.0f × %.0f–%.0f in %dpx", c.Series, c.Shown, c.Left, c.Right, c.Top, c.Bottom, width)
				}
				charts[c.Series] = c
			}
			if len(charts) != 4 {
				t.Fatalf("%d charts drawn, want 4:\n%s", len(charts), dom)
			}
			inside := func(what string, e layoutBox) {
				c, ok := charts[e.Series]
				if !ok || !e.Shown || e.Right <= e.Left || e.Bottom <= e.Top ||
					e.Left < c.Left-1 || e.Right > c.Right+1 || e.Top < c.Top-1 || e.Bottom > c.Bottom+1 {
					t.Errorf("%s of %s is not visible in its chart: %+v", what, e.Series, e)
				}
			}
			fails := l.find("", "fail")
			if len(fails) != 2 {
				t.Errorf("%d failure markers, want 2", len(fails))
			}
			for _, f := range fails {
				inside("failure marker", f)
				if f.Series != "orders-volume/DE" || !strings.Contains(f.Text, "volume 60 is above the expected band") && !strings.Contains(f.Text, "volume 26 is above") {
					t.Errorf("failure marker %+v", f)
				}
			}
			banded := map[string]bool{}
			for _, bd := range l.find("", "band") {
				inside("band", bd)
				banded[bd.Series] = true
			}
			if len(banded) != len(charts) {
				t.Errorf("bands in %d charts of %d", len(banded), len(charts))
			}
			for _, e := range l.find("", "name") {
				if e.Series != "" && e.Shown && e.Lines != 1 {
					t.Errorf("name %q in chart %s breaks over %d lines", e.Text, e.Series, e.Lines)
				}
			}
			if !strings.Contains(textOf(dom), "Segment Events Violating events other 0 0 DE 245 1 FR 155 29") {
				t.Errorf("no segments table:\n%s", textOf(dom))
			}
			file := filepath.Join(screenshotDir(t), fmt.Sprintf("dashboard-anomalies-%d.png", width))
			os.Remove(file)
			if width >= minWindow {
				b.Run(t, srv.URL+path, "--screenshot="+file, fmt.Sprintf("--window-size=%d,1400", width), "--hide-scrollbars")
			} else {
				b.Run(t, framed(srv.URL+path, width), "--screenshot="+file, fmt.Sprintf("--window-size=%d,1400", minWindow), "--hide-scrollbars")
			}
			t.Logf("screenshot: %s", file)
		})
	}
}
