// Package alertmanager sends notifications to Prometheus Alertmanager
// (POST /api/v2/alerts): one alert per rule, labels alertname
// AssayContractBroken, contract, rule, severity, owner and topic;
// annotations summary, description, state and dashboard.
//
// Alertmanager forgets an alert that is not sent again before its endsAt,
// so this Notifier is a notify.Resender: it receives every open alert at
// every evaluation, with endsAt a few intervals ahead; a resolved one is
// sent once with endsAt now.
//
// A firing rule that has no data any more (notify.NoData: its window holds
// too few events to judge it) is not resolved: silence is not recovery, and
// resolving would close the page. It stays active, with the same labels (so
// the same alert), annotation state "no_data" and a description saying it
// has no data, until events show it fixed (resolved) or break it again
// (state "firing").
//
// A contract that reads no topic is the alert AssayContractReadsNothing
// (labels contract, severity warning, owner, topic), resolved when a topic
// matches.
package alertmanager

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// Notifier posts to one Alertmanager.
type Notifier struct {
	url      secret.Secret
	client   *http.Client
	validFor time.Duration
}

// New returns a Notifier for the Alertmanager at url (its base URL, or the
// full /api/v2/alerts URL). An open alert is valid for validFor unless it
// is sent again.
func New(url secret.Secret, client *http.Client, validFor time.Duration) *Notifier {
	if client == nil {
		client = http.DefaultClient
	}
	return &Notifier{url: url, client: client, validFor: validFor}
}

// ResendsOpen is true: Alertmanager needs open alerts again and again.
func (a *Notifier) ResendsOpen() bool { return true }

// Notify posts n's alerts.
func (a *Notifier) Notify(ctx context.Context, n *notify.Notification) error {
	body, err := notify.JSON(Payload(n, a.validFor))
	if err != nil {
		return notify.Permanent(err)
	}
	u := a.url.Reveal()
	if !strings.HasSuffix(u, "/api/v2/alerts") {
		u = strings.TrimSuffix(u, "/") + "/api/v2/alerts"
	}
	return notify.Post(ctx, a.client, u, body)
}

// Alert is one alert of POST /api/v2/alerts.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Payload turns a notification into Alertmanager alerts. An open alert
// ends at n.At+validFor unless it is sent again; a resolved one ends at
// n.At.
func Payload(n *notify.Notification, validFor time.Duration) []Alert {
	out := []Alert{}
	for _, a := range n.Alerts {
		topic := strings.Join(n.Topics, ",")
		if a.Sample != nil && a.Sample.Topic != "" {
			topic = a.Sample.Topic
		}
		al := Alert{
			Labels: map[string]string{
				"alertname": "AssayContractBroken", "contract": n.Contract, "rule": a.Rule,
				"severity": string(a.Severity), "owner": n.Owner, "topic": topic,
			},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("Contract %s: rule %s is violated", n.Contract, a.Rule),
				"state":   a.Status,
			},
			StartsAt:     a.Since,
			GeneratorURL: n.URL,
		}
		switch {
		case a.Kind == notify.KindTopics:
			al.Labels = map[string]string{
				"alertname": "AssayContractReadsNothing", "contract": n.Contract,
				"severity": string(a.Severity), "owner": n.Owner, "topic": strings.Join(n.Topics, ","),
			}
			al.Annotations["summary"] = fmt.Sprintf("Contract %s reads no topic", n.Contract)
		case a.Kind == notify.KindSchema:
			// The path stays out of the labels: labels are bounded.
			al.Labels = map[string]string{
				"alertname": "AssayContractSchemaChanged", "contract": n.Contract, "change": a.Change,
				"severity": string(a.Severity), "owner": n.Owner, "topic": a.Topic,
			}
			al.Annotations["summary"] = fmt.Sprintf("Contract %s: schema change %s on %s", n.Contract, a.Change, a.Topic)
			al.Annotations["path"] = a.Path
		case a.Anomaly && a.Status != notify.NoData:
			al.Annotations["summary"] = fmt.Sprintf("Contract %s: rule %s is outside its learned band", n.Contract, a.Rule)
		case a.Status == notify.NoData:
			al.Annotations["summary"] = fmt.Sprintf("Contract %s: rule %s has no data (it was firing)", n.Contract, a.Rule)
		}
		desc := []string{a.Line()}
		if d := a.DescriptionLine(); d != "" {
			desc = append(desc, d)
		}
		if s := a.SampleLine(); s != "" {
			desc = append(desc, s)
		}
		al.Annotations["description"] = strings.Join(desc, " ")
		if n.URL != "" {
			al.Annotations["dashboard"] = n.URL
		}
		if a.Status == notify.Resolved {
			al.EndsAt = n.At
		} else {
			al.EndsAt = n.At.Add(validFor)
		}
		out = append(out, al)
	}
	return out
}
