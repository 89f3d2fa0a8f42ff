// Package teams sends notifications to a Microsoft Teams Workflows webhook
// as an Adaptive Card (version 1.4): the title, the owner and topics, each
// alert with its description and sample, and a button to the dashboard.
//
// Nothing that comes from a contract or an event is read as markup: every
// text is a TextRun of a RichTextBlock, which Adaptive Cards never parse as
// markdown, so [links](…), **bold**, _italic_, # headings, lists and
// <at>mentions</at> stay literal (the card carries no mention entities);
// @-mentions are defanged as well (notify.Defang).
package teams

import (
	"net/http"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// New returns the Notifier for the Workflows webhook URL (a secret: it holds the token).
func New(url secret.Secret, client *http.Client) *notify.JSONWebhook {
	return notify.NewJSONWebhook(url, client, func(n *notify.Notification) any { return Payload(n) })
}

var color = map[string]string{notify.Firing: "Attention", notify.NoData: "Warning", notify.Resolved: "Good"}

// Payload is the message for n.
func Payload(n *notify.Notification) map[string]any {
	title := Run(n.Title())
	title["size"], title["weight"], title["color"] = "Large", "Bolder", color[n.Status()]
	owner := Run(n.OwnerLine())
	owner["isSubtle"] = true
	body := []any{Block(title), Block(owner)}
	for _, a := range n.Alerts {
		line := Run(a.Line())
		line["color"] = color[a.Status]
		body = append(body, Block(line))
		if d := a.DescriptionLine(); d != "" {
			r := Run(d)
			r["isSubtle"], r["italic"] = true, true
			body = append(body, Block(r))
		}
		if s := a.SampleLine(); s != "" {
			r := Run(s)
			r["fontType"] = "Monospace"
			body = append(body, Block(r))
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

// Run is a TextRun holding s as literal text (mentions defanged).
func Run(s string) map[string]any {
	return map[string]any{"type": "TextRun", "text": notify.Defang(s)}
}

// Block is a RichTextBlock of runs.
func Block(runs ...map[string]any) map[string]any {
	inlines := make([]any, len(runs))
	for i, r := range runs {
		inlines[i] = r
	}
	return map[string]any{"type": "RichTextBlock", "inlines": inlines}
}
