package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
)

// textOf is what a person reads in a piece of HTML.
func textOf(html string) string {
	html = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, " ")
	html = strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#39;", "'").Replace(html)
	return strings.Join(strings.Fields(html), " ")
}

// TestDashboardInChromium: after `assay run` checked the example events
// (known violations, PII), the pages Chromium renders show each contract,
// each rule's exact counts (those of `assay test`), and masked samples.
func TestDashboardInChromium(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	browser := testenv.Chromium(t)
	kport := startBroker(t, 1)
	want, wantEvents, files := produceExamples(t, kcat, kport)
	var pii []string
	for _, file := range files {
		data, _ := os.ReadFile(file)
		for _, m := range regexp.MustCompile(`"(?:email|phone|holder|iban|street)": "([^"]+)"`).FindAllStringSubmatch(string(data), -1) {
			pii = append(pii, m[1])
		}
	}
	rulesOf := map[string][]string{} // contract -> its rules (fresh ones left out)
	for k := range want {
		if parts := strings.Split(k, "/"); parts[2] == "pass" {
			rulesOf[parts[0]] = append(rulesOf[parts[0]], parts[1])
		}
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("s3cret-dashboard-token\n"), 0o600)
	run, base := startRun(t, "assay run", kport, "assay-dash")
	eventually(t, 30*time.Second, "every event checked", func() bool {
		m, err := httpGet(base + "/metrics")
		return err == nil && sumSeries(m, "assay_events_total{") == wantEvents
	})

	overview := textOf(browser.Run(t, base+"/", "--dump-dom"))
	for c := range rulesOf {
		if !strings.Contains(overview, c) {
			t.Errorf("overview lacks contract %s:\n%s", c, overview)
		}
	}
	shots := filepath.Join("..", "testdata", "screenshots")
	os.MkdirAll(shots, 0o755)
	for contract, rules := range rulesOf {
		dom := browser.Run(t, base+"/contracts/"+contract, "--dump-dom")
		for _, rule := range rules {
			re := regexp.MustCompile(`(?s)<tr [^>]*data-rule="` + regexp.QuoteMeta(rule) + `"[^>]*>(.*?)</tr>`)
			m := re.FindStringSubmatch(dom)
			if m == nil {
				t.Errorf("%s: no row for rule %s", contract, rule)
				continue
			}
			row := textOf(m[1])
			k := contract + "/" + rule + "/"
			if wantRow := fmt.Sprintf(" %v %v %v %v ", want[k+"pass"], want[k+"fail"], want[k+"error"], want[k+"skip"]); !strings.Contains(row, wantRow) {
				t.Errorf("%s/%s: the page shows %q, want counts%s", contract, rule, row, wantRow)
			}
		}
		text := textOf(dom)
		if contract == "checkout-orders" && (!strings.Contains(text, "amount > 0 was false (amount = -3)") || !strings.Contains(text, "(customer.email = ***)")) {
			t.Errorf("checkout-orders page lacks its masked samples:\n%s", text)
		}
		for _, p := range pii {
			if strings.Contains(dom, p) {
				t.Errorf("%s page shows PII %q", contract, p)
			}
		}
	}
	file, _ := filepath.Abs(filepath.Join(shots, "e2e-checkout-orders.png"))
	browser.Run(t, base+"/contracts/checkout-orders", "--screenshot="+file, "--window-size=1280,900", "--hide-scrollbars")
	t.Logf("screenshot: %s", file)
	stop(t, run, 20*time.Second)

	// With --http-token-file the UI and API need the token; probes do not.
	run, base = startRun(t, "assay run (token)", kport, "assay-dash-token", "--http-token-file", tokenFile)
	for path, code := range map[string]int{"/api/v1/contracts": 401, "/metrics": 200, "/healthz": 200} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("%s without token: %d, want %d", path, resp.StatusCode, code)
		}
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/contracts", nil)
	req.Header.Set("Authorization", "Bearer s3cret-dashboard-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("with token: %v %v", err, resp)
	}
	resp.Body.Close()
	if strings.Contains(run.Output(), "s3cret-dashboard-token") {
		t.Error("the token appears in the logs")
	}
	stop(t, run, 20*time.Second)
}
