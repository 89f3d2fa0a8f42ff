// Package slack sends notifications to a Slack incoming webhook as a Block
// Kit message: a header, the owner and topics, one section per alert and a
// button to the dashboard.
//
// Nothing that comes from a contract or an event is read as markup. Every
// text object is plain_text, so mrkdwn (*bold*, _italic_, ~strike~,
// `code`, > quotes) never applies to a value; the fallback text goes with
// "mrkdwn": false. In every text &, < and > are sent as &amp;, &lt; and
// &gt;, as Slack asks, so that <!channel>, <!here>, <@U…> and
// <http://…|…> are shown and never act; @here, @channel and other
// @-mentions are defanged (notify.Defang).
package slack

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// Slack's limits on a header and a section text, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
	maxText    = 2000
)

// New returns the Notifier for the incoming webhook URL (a secret: it holds the token).
func New(url secret.Secret, client *http.Client) *notify.JSONWebhook {
	return notify.NewJSONWebhook(url, client, func(n *notify.Notification) any { return Payload(n) })
}

var emoji = map[string]string{notify.Firing: "🚨", notify.NoData: "❔", notify.Resolved: "✅"}

// Payload is the message for n.
func Payload(n *notify.Notification) map[string]any {
	blocks := []any{
		map[string]any{"type": "header", "text": Text(n.Title(), maxHeader)},
		map[string]any{"type": "context", "elements": []any{Text(n.OwnerLine(), maxText)}},
	}
	for _, a := range n.Alerts {
		lines := []string{emoji[a.Status] + " " + a.Line()}
		if d := a.DescriptionLine(); d != "" {
			lines = append(lines, d)
		}
		if s := a.SampleLine(); s != "" {
			lines = append(lines, s)
		}
		blocks = append(blocks, map[string]any{"type": "section", "text": Text(strings.Join(lines, "\n"), maxSection)})
	}
	if n.URL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "text": Text("Open dashboard", maxText), "url": n.URL},
		}})
	}
	return map[string]any{"text": Escape(n.Title(), maxText), "mrkdwn": false, "blocks": blocks}
}

// Text is a plain_text object holding s, escaped and bounded.
func Text(s string, limit int) map[string]any {
	return map[string]any{"type": "plain_text", "text": Escape(s, limit), "emoji": false}
}

// Escape defangs mentions in s and escapes &, < and >; the result is at
// most limit characters (cut with "…", never inside an entity).
func Escape(s string, limit int) string {
	s = notify.Defang(s)
	if full := escaper.Replace(s); utf8.RuneCountInString(full) <= limit {
		return full
	}
	var b strings.Builder
	count := 0
	for _, r := range s {
		e := escaper.Replace(string(r))
		n := utf8.RuneCountInString(e)
		if count+n > limit-1 {
			break
		}
		b.WriteString(e)
		count += n
	}
	return b.String() + "…"
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
