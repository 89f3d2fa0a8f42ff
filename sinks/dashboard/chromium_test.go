//go:build unix

package dashboard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
		"checkout-orders": "checkout-orders team-checkout checkout.orders 5 71.43% 4 firing amount-positive 4 violations in the last hour, at most 3 in a minute",
		"user-signups":    "user-signups team-identity users.signups 2 50.00% 1 ok 1 violation in the last hour",
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
		// rule, severity, pass, fail, error, skip, ratio, the sparkline's
		// title, last violation, state
		"amount-positive": "amount-positive critical 3 1 1 0 40.00% 2 violations in the last hour, at most 1 in a minute 2026-11-02 09:01:01 UTC firing",
		"currency-known":  "currency-known warning 4 1 0 0 20.00% 1 violation in the last hour 2026-11-02 09:01:02 UTC ok",
		"email-valid":     "email-valid info 3 1 0 1 25.00% 1 violation in the last hour 2026-11-02 09:01:03 UTC ok",
	} {
		if got := rowText(t, dom, "data-rule", rule); got != want {
			t.Errorf("rule row %s:\n got %q\nwant %q", rule, got, want)
		}
	}
	text := textOf(dom)
	for _, want := range []string{
		"Events checked 5", "Pass rate 71.43%",
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
	if got := rowText(t, dom, "data-rule", "email-valid"); !strings.HasPrefix(got, "email-valid info 3 1 0 1 25.00%") {
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
setTimeout(() => { location.href = %q }, 300);
</script>`, f.srv.URL, testToken, f.srv.URL+"/contracts/user-signups")
	}))
	defer other.Close()
	dom := b.Run(t, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), "--dump-dom", "--disable-popup-blocking")
	// (This tab is in the background behind the sign-in window, so its
	// script does not refresh: the numbers are the server's.)
	if !strings.Contains(dom, `data-contract="user-signups"`) {
		t.Fatalf("a signed-in browser following a link from another site did not reach the page:\n%s", dom)
	}
	if got := rowText(t, dom, "data-rule", "age-adult"); !strings.HasPrefix(got, "age-adult warning 1 1 0 0 50.00%") {
		t.Errorf("rule row %q", got)
	}
	if got := f.logs.String(); strings.Count(got, "dashboard sign-in") != 1 {
		t.Errorf("want one sign-in, logs:\n%s", got)
	}
}
