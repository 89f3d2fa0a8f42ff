package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// Notification is one message: the rules of one contract that changed
// state at one evaluation.
type Notification struct {
	Contract    string    `json:"contract"`
	Owner       string    `json:"owner"`
	Description string    `json:"description,omitempty"`
	Topics      []string  `json:"topics,omitempty"`
	URL         string    `json:"dashboard_url,omitempty"` // the contract's dashboard page
	At          time.Time `json:"at"`
	Alerts      []Alert   `json:"alerts"`
}

// Alert is one rule's part of a notification.
type Alert struct {
	Rule        string         `json:"rule"`
	Description string         `json:"description,omitempty"`
	Severity    rules.Severity `json:"severity"`
	Status      string         `json:"status"` // firing or resolved
	Repeat      bool           `json:"repeat,omitempty"`
	Since       time.Time      `json:"since"`
	Window      time.Duration  `json:"-"`
	Threshold   float64        `json:"threshold"`
	Checked     uint64         `json:"checked"`    // events in the window
	Violations  uint64         `json:"violations"` // fail + error in the window
	Ratio       float64        `json:"ratio"`
	// Sample is one recent violation, masked by the checker.
	Sample *Sample `json:"sample,omitempty"`
}

// Sample is a masked violation as it appears in a message.
type Sample struct {
	Reason    string    `json:"reason"`
	Topic     string    `json:"topic,omitempty"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Time      time.Time `json:"time,omitzero"`
}

func sampleOf(v *checker.Violation) *Sample {
	if v == nil {
		return nil
	}
	return &Sample{Reason: v.Reason, Topic: v.Topic, Partition: v.Partition, Offset: v.Offset, Time: v.Time}
}

// MarshalJSON adds the window as a duration string ("5m0s").
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		plain
		Window string `json:"window"`
	}{plain(a), a.Window.String()})
	return bytes.TrimRight(b.Bytes(), "\n"), err
}

// Firing reports whether any alert of the notification is firing.
func (n *Notification) Firing() bool {
	for _, a := range n.Alerts {
		if a.Status == "firing" {
			return true
		}
	}
	return false
}

// Title is a one-line summary.
func (n *Notification) Title() string {
	var firing, resolved []string
	for _, a := range n.Alerts {
		if a.Status == "firing" {
			firing = append(firing, a.Rule)
		} else {
			resolved = append(resolved, a.Rule)
		}
	}
	switch {
	case len(firing) > 0:
		return fmt.Sprintf("Contract %s broken: %s", n.Contract, strings.Join(firing, ", "))
	default:
		return fmt.Sprintf("Contract %s recovered: %s", n.Contract, strings.Join(resolved, ", "))
	}
}

// Line describes one alert in a sentence a person can act on.
func (a Alert) Line() string {
	if a.Status == "resolved" {
		return fmt.Sprintf("%s (%s) is back under %s: %d of %d events violated it in the last %s.",
			a.Rule, a.Severity, pct(a.Threshold), a.Violations, a.Checked, shortDur(a.Window))
	}
	s := fmt.Sprintf("%s (%s): %s of %d events violated it in the last %s (threshold %s).",
		a.Rule, a.Severity, pct(a.Ratio), a.Checked, shortDur(a.Window), pct(a.Threshold))
	if a.Checked == 0 {
		s = fmt.Sprintf("%s (%s): failed its last check.", a.Rule, a.Severity)
	}
	if a.Repeat {
		s += " Still firing since " + a.Since.UTC().Format(time.RFC3339) + "."
	}
	return s
}

// SampleLine describes the sample, or "".
func (a Alert) SampleLine() string {
	if a.Sample == nil {
		return ""
	}
	where := ""
	if a.Sample.Topic != "" {
		where = fmt.Sprintf("%s/%d@%d: ", a.Sample.Topic, a.Sample.Partition, a.Sample.Offset)
	}
	return "e.g. " + where + a.Sample.Reason
}

func pct(f float64) string {
	s := fmt.Sprintf("%.2f", f*100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

func shortDur(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	if s == "" {
		return "0s"
	}
	return s
}

// Text is the plain-text body used by formats without rich layout.
func (n *Notification) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nOwner: %s", n.Title(), n.Owner)
	if len(n.Topics) > 0 {
		fmt.Fprintf(&b, " · Topics: %s", strings.Join(n.Topics, ", "))
	}
	b.WriteString("\n")
	for _, a := range n.Alerts {
		b.WriteString("• " + a.Line() + "\n")
		if a.Description != "" {
			b.WriteString("  " + a.Description + "\n")
		}
		if s := a.SampleLine(); s != "" {
			b.WriteString("  " + s + "\n")
		}
	}
	if n.URL != "" {
		b.WriteString("Dashboard: " + n.URL + "\n")
	}
	return b.String()
}

// slackPayload is an incoming-webhook message with Block Kit blocks (and a
// text fallback for notifications).
func slackPayload(n *Notification) any {
	emoji := ":rotating_light:"
	if !n.Firing() {
		emoji = ":white_check_mark:"
	}
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(n.Title(), 150)}},
		map[string]any{"type": "context", "elements": []any{
			map[string]any{"type": "mrkdwn", "text": fmt.Sprintf("Owner: *%s* · Topics: %s", n.Owner, strings.Join(n.Topics, ", "))},
		}},
	}
	for _, a := range n.Alerts {
		text := emoji + " " + a.Line()
		if a.Description != "" {
			text += "\n_" + a.Description + "_"
		}
		if s := a.SampleLine(); s != "" {
			text += "\n`" + strings.ReplaceAll(s, "`", "'") + "`"
		}
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(text, 2900)}})
	}
	if n.URL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": "Open dashboard"}, "url": n.URL},
		}})
	}
	return map[string]any{"text": n.Title(), "blocks": blocks}
}

// teamsPayload is a message for a Teams Workflows webhook carrying an
// Adaptive Card.
func teamsPayload(n *Notification) any {
	body := []any{
		map[string]any{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true, "text": n.Title(),
			"color": map[bool]string{true: "Attention", false: "Good"}[n.Firing()]},
		map[string]any{"type": "FactSet", "facts": []any{
			map[string]any{"title": "Owner", "value": n.Owner},
			map[string]any{"title": "Topics", "value": strings.Join(n.Topics, ", ")},
		}},
	}
	for _, a := range n.Alerts {
		body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "text": a.Line()})
		if a.Description != "" {
			body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "isSubtle": true, "text": a.Description})
		}
		if s := a.SampleLine(); s != "" {
			body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "fontType": "Monospace", "text": s})
		}
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard", "version": "1.4", "body": body,
	}
	if n.URL != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open dashboard", "url": n.URL}}
	}
	return map[string]any{"type": "message", "attachments": []any{
		map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card},
	}}
}

// googleChatPayload is a Google Chat incoming-webhook message.
func googleChatPayload(n *Notification) any {
	return map[string]any{"text": n.Text()}
}

// webhookPayload is the generic JSON: the Notification itself, with a
// version and a status (firing or resolved).
func webhookPayload(n *Notification) any {
	status := "resolved"
	if n.Firing() {
		status = "firing"
	}
	return struct {
		Version string `json:"version"`
		Status  string `json:"status"`
		Title   string `json:"title"`
		*Notification
	}{"1", status, n.Title(), n}
}

// amAlert is one alert of Alertmanager's POST /api/v2/alerts.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertmanagerPayload turns a notification into Alertmanager alerts. A
// firing alert ends at now+validFor unless it is sent again; a resolved one
// ends now.
func alertmanagerPayload(n *Notification, validFor time.Duration) any {
	var out []amAlert
	for _, a := range n.Alerts {
		topic := strings.Join(n.Topics, ",")
		if a.Sample != nil && a.Sample.Topic != "" {
			topic = a.Sample.Topic
		}
		al := amAlert{
			Labels: map[string]string{
				"alertname": "AssayContractBroken", "contract": n.Contract, "rule": a.Rule,
				"severity": string(a.Severity), "owner": n.Owner, "topic": topic,
			},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("Contract %s: rule %s is violated", n.Contract, a.Rule),
				"description": strings.TrimSpace(a.Line() + " " + a.Description + " " + a.SampleLine()),
			},
			StartsAt:     a.Since,
			GeneratorURL: n.URL,
		}
		if n.URL != "" {
			al.Annotations["dashboard"] = n.URL
		}
		if a.Status == "firing" {
			al.EndsAt = n.At.Add(validFor)
		} else {
			al.EndsAt = n.At
		}
		out = append(out, al)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
