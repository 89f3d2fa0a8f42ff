// Package webhook sends notifications as generic JSON: the notification
// itself, with a schema version, a status (firing, no_data or resolved, see
// notify.Notification.Status) and a title. Values are sent as they are:
// JSON carries no markup, and the receiver decides how to show them.
package webhook

import (
	"net/http"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// New returns the Notifier for the URL (a secret: it may hold a token).
func New(url secret.Secret, client *http.Client) *notify.JSONWebhook {
	return notify.NewJSONWebhook(url, client, func(n *notify.Notification) any { return Payload(n) })
}

// Message is the JSON body.
type Message struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Title   string `json:"title"`
	*notify.Notification
}

// Payload is the message for n.
func Payload(n *notify.Notification) Message {
	return Message{Version: "1", Status: n.Status(), Title: n.Title(), Notification: n}
}
