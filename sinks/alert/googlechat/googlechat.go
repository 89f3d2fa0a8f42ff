// Package googlechat sends notifications to a Google Chat incoming webhook
// as a card (cardsV2): the title, the owner and topics, one section per
// alert and a button to the dashboard.
//
// A card rather than a text message, because Google Chat's text syntax
// (*bold*, _italic_, ~strike~, `code`, <url|links>, <users/all> mentions)
// has no escape; card paragraphs take a small HTML subset instead, where
// every value is HTML-escaped (&, <, >, quotes), so nothing from a contract
// or an event becomes a format, a link or a mention. @-mentions are
// defanged as well (notify.Defang).
package googlechat

import (
	"html"
	"net/http"
	"strings"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// New returns the Notifier for the webhook URL (a secret: it holds the key and token).
func New(url secret.Secret, client *http.Client) *notify.JSONWebhook {
	return notify.NewJSONWebhook(url, client, func(n *notify.Notification) any { return Payload(n) })
}

var color = map[string]string{notify.Firing: "#d93025", notify.NoData: "#e37400", notify.Resolved: "#188038"}

// Payload is the message for n.
func Payload(n *notify.Notification) map[string]any {
	sections := []any{
		section(paragraph("<b>" + Escape(n.Title()) + "</b><br>" + Escape(n.OwnerLine()))),
	}
	for _, a := range n.Alerts {
		text := `<font color="` + color[a.Status] + `">` + Escape(a.Line()) + "</font>"
		if d := a.DescriptionLine(); d != "" {
			text += "<br><i>" + Escape(d) + "</i>"
		}
		if s := a.SampleLine(); s != "" {
			text += "<br>" + Escape(s)
		}
		sections = append(sections, section(paragraph(text)))
	}
	if n.URL != "" {
		sections = append(sections, section(map[string]any{"buttonList": map[string]any{"buttons": []any{
			map[string]any{"text": "Open dashboard", "onClick": map[string]any{"openLink": map[string]any{"url": n.URL}}},
		}}}))
	}
	return map[string]any{"cardsV2": []any{map[string]any{
		"cardId": "assay-" + n.Contract,
		"card":   map[string]any{"sections": sections},
	}}}
}

func section(widgets ...any) map[string]any { return map[string]any{"widgets": widgets} }

func paragraph(html string) map[string]any {
	return map[string]any{"textParagraph": map[string]any{"text": html}}
}

// Escape makes s literal text of a card paragraph: mentions defanged,
// HTML escaped, newlines as <br>.
func Escape(s string) string {
	return strings.ReplaceAll(html.EscapeString(notify.Defang(s)), "\n", "<br>")
}
