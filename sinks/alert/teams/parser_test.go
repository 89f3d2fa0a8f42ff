package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks/alert/notify"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
	"github.com/assay-dev/assay/sinks/alert/teams"
)

// adaptiveCards is the version of Microsoft's Adaptive Cards SDK (npm
// package adaptivecards) whose parser the cards are checked against.
const adaptiveCards = "2.11.3"

// parseScript reads a JSON object {name: card} on stdin, parses each card
// with the SDK as a renderer would, and prints {name: [problem]}: every
// event that parsing and validation logged (an unknown element or action,
// a property value the schema does not allow, a missing required
// property, an unsupported version), and every value of the card that
// serializing the parsed card does not give back (a property the SDK does
// not know is dropped silently on parse).
const parseScript = `
const AC = require("adaptivecards");
const lost = (want, got, path, out) => {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) { out.push(path + ": " + JSON.stringify(want) + " came back as " + JSON.stringify(got)); return; }
    want.forEach((w, i) => lost(w, got[i], path + "[" + i + "]", out));
  } else if (want !== null && typeof want === "object") {
    if (got === null || typeof got !== "object") { out.push(path + ": came back as " + JSON.stringify(got)); return; }
    for (const k of Object.keys(want)) lost(want[k], got[k], path + "." + k, out);
  } else if (want !== got) {
    out.push(path + ": " + JSON.stringify(want) + " came back as " + JSON.stringify(got));
  }
};
const cards = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {};
for (const [name, json] of Object.entries(cards)) {
  const problems = [];
  const ctx = new AC.SerializationContext();
  const card = new AC.AdaptiveCard();
  card.parse(json, ctx);
  const event = (e) => AC.ValidationPhase[e.phase] + " " + AC.ValidationEvent[e.event] + ": " + e.message;
  for (let i = 0; i < ctx.eventCount; i++) problems.push(event(ctx.getEventAt(i)));
  for (const e of card.validateProperties().validationEvents) problems.push(event(e));
  lost(json, card.toJSON(), "card", problems);
  out[name] = problems;
}
process.stdout.write(JSON.stringify(out));
`

// TestCardsParse parses every kind of card the Teams payload makes with
// Microsoft's own Adaptive Cards parser (adaptivecards on npm, run by
// node) and fails on any parse or validation event, or on any value the
// parser drops. npm installs the SDK once into the user's cache directory.
// Without node or npm the test skips, except in CI (CI set), where it
// fails; -short skips it.
func TestCardsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no node")
	}
	node := testenv.Need(t, "node")
	modules := installAdaptiveCards(t)

	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	base := func(alerts ...notify.Alert) *notify.Notification {
		return &notify.Notification{Contract: "orders", Owner: "team-checkout", Description: "Orders as checkout writes them.",
			Topics: []string{"orders"}, URL: "https://assay.example/contracts/orders", At: at, Alerts: alerts}
	}
	rule := func(status string) notify.Alert {
		return notify.Alert{Kind: notify.KindRule, Rule: "amount-positive", Description: "Amounts are positive.",
			Severity: rules.Critical, Status: status, Since: at.Add(-time.Hour), Window: 5 * time.Minute,
			Threshold: 0.01, MinEvents: 20, Checked: 120, Violations: 5, Ratio: 5.0 / 120,
			Sample: &notify.Sample{Reason: "amount > 0 was false (amount = -5)", Topic: "orders", Partition: 3, Offset: 20}}
	}
	noData := rule(notify.NoData)
	noData.Checked, noData.Violations, noData.Ratio, noData.Sample = 0, 0, 0, nil
	resolved := rule(notify.Resolved)
	resolved.Violations, resolved.Ratio, resolved.Sample = 0, 0, nil
	reminder := rule(notify.Firing)
	reminder.Repeat = true
	topics := notify.Alert{Kind: notify.KindTopics, Severity: rules.Warning, Status: notify.Firing, Since: at,
		Reason: "'paymnts' does not exist", Missing: []string{"paymnts"}}
	topicsBack := notify.Alert{Kind: notify.KindTopics, Severity: rules.Warning, Status: notify.Resolved, Since: at,
		Reading: []string{"payments"}}
	noLink := base(rule(notify.Firing))
	noLink.URL = ""

	notifications := map[string]*notify.Notification{
		"firing":                    base(rule(notify.Firing)),
		"firing reminder":           base(reminder),
		"firing, no dashboard link": noLink,
		"no_data":                   base(noData),
		"resolved":                  base(resolved),
		"reads no topic":            base(topics),
		"reads topics again":        base(topicsBack),
		"hostile values":            notifytest.Notification(),
	}
	cards := map[string]any{}
	for name, n := range notifications {
		cards[name] = card(t, name, n)
	}
	in, err := json.Marshal(cards)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-e", parseScript)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var problems map[string][]string
	if err := json.Unmarshal(out, &problems); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for name := range notifications {
		p, ok := problems[name]
		if !ok {
			t.Errorf("%s: not parsed", name)
		}
		for _, msg := range p {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

// card returns the Adaptive Card of the Teams message for n, as posted.
func card(t *testing.T, name string, n *notify.Notification) any {
	t.Helper()
	body, err := notify.JSON(teams.Payload(n))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     any    `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("%s: not a message with one Adaptive Card: %s", name, body)
	}
	return msg.Attachments[0].Content
}

// installAdaptiveCards returns a node_modules directory holding the
// adaptivecards package: the one in the user's cache directory, installed
// there by npm when missing.
func installAdaptiveCards(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	parent := filepath.Join(cache, "assay-test")
	dir := filepath.Join(parent, "adaptivecards@"+adaptiveCards)
	modules := filepath.Join(dir, "node_modules")
	if installed(modules) {
		return modules
	}
	npm := testenv.Need(t, "npm")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	// Install next to the cache entry, then rename it into place, so that
	// a test run in parallel never sees half an installation.
	tmp, err := os.MkdirTemp(parent, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund", "--ignore-scripts",
		"--loglevel=error", "adaptivecards@"+adaptiveCards)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install adaptivecards@%s: %v\n%s", adaptiveCards, err, out)
	}
	if !installed(filepath.Join(tmp, "node_modules")) {
		t.Fatalf("npm installed no adaptivecards@%s in %s", adaptiveCards, tmp)
	}
	// A rename that fails because a parallel run cached it first is fine.
	if err := os.Rename(tmp, dir); err != nil && !installed(modules) {
		t.Fatalf("caching adaptivecards: %v", err)
	}
	return modules
}

// installed reports whether modules holds adaptivecards at the version
// wanted.
func installed(modules string) bool {
	data, err := os.ReadFile(filepath.Join(modules, "adaptivecards", "package.json"))
	if err != nil {
		return false
	}
	var pkg struct {
		Version string `json:"version"`
	}
	return json.Unmarshal(data, &pkg) == nil && pkg.Version == adaptiveCards
}
