// Package notify is what the alert manager hands to a channel: the
// Notification, the Notifier interface that each channel package
// (slack, teams, googlechat, webhook, alertmanager) implements, the
// sentences messages are made of, and the HTTP delivery they share.
//
// Sentences (Title, Line, SampleLine) are plain text: every value in them
// went through safetext.Visible (control and bidirectional characters made
// visible) and is bounded (MaxValue). They are not escaped for any markup:
// each channel package escapes them for its own.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/secret"
)

// The statuses of an alert (and of a notification, see Status).
const (
	Firing   = "firing"
	Resolved = "resolved"
	// NoData: a firing rule whose window no longer holds enough events to
	// be judged. It was not resolved.
	NoData = "no_data"
)

// The kinds of alert.
const (
	KindRule = "rule"
	// KindTopics is about the contract itself: it reads no topic.
	KindTopics = "reads_nothing"
	// KindSchema is a change of the schema observed on one of the
	// contract's topics (field_added, field_missing, type_changed,
	// schema_changed): sent once, with status firing, never resolved.
	KindSchema = "schema_change"
)

// MaxValue bounds, in bytes, each value shown in a sentence (a
// description, an owner, a reason).
const MaxValue = 500

// Notifier delivers notifications to one channel. An error that
// Retryable reports false for is not worth retrying.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) error
}

// Resender is implemented by notifiers whose receiver forgets an alert
// that is not sent again (Alertmanager): besides changes, they receive at
// every evaluation the alerts still open.
type Resender interface {
	ResendsOpen() bool
}

// Notification is one message: the alerts of one contract that changed
// at one evaluation (or, for a Resender, are still open).
type Notification struct {
	Contract    string    `json:"contract"`
	Owner       string    `json:"owner"`
	Description string    `json:"description,omitempty"`
	Topics      []string  `json:"topics,omitempty"`
	URL         string    `json:"dashboard_url,omitempty"` // the contract's dashboard page
	At          time.Time `json:"at"`
	Alerts      []Alert   `json:"alerts"`
}

// Alert is one rule's part of a notification, or, with Kind KindTopics,
// the contract's "reads no topic".
type Alert struct {
	Kind        string         `json:"kind"`
	Rule        string         `json:"rule,omitempty"`
	Description string         `json:"description,omitempty"`
	Severity    rules.Severity `json:"severity"`
	Status      string         `json:"status"` // firing, no_data or resolved
	Repeat      bool           `json:"repeat,omitempty"`
	// Since is when the alert started firing.
	Since      time.Time     `json:"since"`
	Window     time.Duration `json:"-"`
	Threshold  float64       `json:"threshold"`
	MinEvents  int           `json:"min_events"`
	Checked    uint64        `json:"checked"`    // events in the window
	Violations uint64        `json:"violations"` // fail + error in the window
	Ratio      float64       `json:"ratio"`
	// Synthetic is true for the volume rule, judged on its last window.
	Synthetic bool `json:"synthetic,omitempty"`
	// Anomaly is true for an anomaly rule, judged on its latest bucket
	// (Window is anomaly.every; Threshold, MinEvents, Checked, Violations
	// and Ratio are zero).
	Anomaly bool `json:"anomaly,omitempty"`
	// Sample is one recent violation, masked by the checker. For an
	// anomaly rule it is the latest failed bucket: its reason says what
	// was measured against which band, Time is the bucket's end, and
	// Partition and Offset are 0 (a bucket is no record).
	Sample *Sample `json:"sample,omitempty"`
	// Reason says why the contract reads no topic (KindTopics, firing);
	// Missing and Pattern are its literal topics that do not exist and
	// its topic_pattern; Reading are the topics it reads (resolved).
	Reason  string   `json:"reason,omitempty"`
	Missing []string `json:"missing_topics,omitempty"`
	Pattern string   `json:"topic_pattern,omitempty"`
	Reading []string `json:"reading_topics,omitempty"`
	// Change, Path and Topic are a schema change's (KindSchema): its
	// kind, the path it is about ("" for schema_changed) and the topic
	// it was seen on; Reason says what changed.
	Change string `json:"change,omitempty"`
	Path   string `json:"path,omitempty"`
	Topic  string `json:"topic,omitempty"`
}

// Sample is a masked violation as it appears in a message.
type Sample struct {
	Reason    string    `json:"reason"`
	Topic     string    `json:"topic,omitempty"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Time      time.Time `json:"time,omitzero"`
}

// MarshalJSON adds the window as a duration string ("5m0s") and the
// alert's sentence (Line) as "message".
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	b, err := JSON(struct {
		plain
		Window  string `json:"window,omitempty"`
		Message string `json:"message"`
	}{plain(a), windowString(a), a.Line()})
	return bytes.TrimRight(b, "\n"), err
}

func windowString(a Alert) string {
	if a.Kind == KindTopics || a.Kind == KindSchema {
		return ""
	}
	return a.Window.String()
}

// Status is the notification's status: firing when an alert fires, else
// no_data when one has no data, else resolved.
func (n *Notification) Status() string {
	status := Resolved
	for _, a := range n.Alerts {
		switch a.Status {
		case Firing:
			return Firing
		case NoData:
			status = NoData
		}
	}
	return status
}

// Title is a one-line summary.
func (n *Notification) Title() string {
	by := map[string][]string{}
	var changes []string
	for _, a := range n.Alerts {
		if a.Kind == KindSchema {
			changes = append(changes, strings.TrimSpace(a.Change+" "+a.Path))
			continue
		}
		if a.Kind == KindTopics {
			switch a.Status {
			case Firing:
				return fmt.Sprintf("Contract %s reads no topic: %s", n.Contract, Clean(a.Reason))
			case Resolved:
				by["topics"] = append(by["topics"], a.Reading...)
			}
			continue
		}
		by[a.Status] = append(by[a.Status], a.Rule)
	}
	list := func(s []string) string { return Clean(strings.Join(s, ", ")) }
	switch {
	case len(changes) > 0 && len(changes) == len(n.Alerts):
		return fmt.Sprintf("Contract %s schema changed: %s", n.Contract, list(changes))
	case len(by[Firing]) > 0:
		return fmt.Sprintf("Contract %s broken: %s", n.Contract, list(by[Firing]))
	case len(by[NoData]) > 0:
		return fmt.Sprintf("Contract %s has no data: %s", n.Contract, list(by[NoData]))
	case len(by[Resolved]) > 0:
		return fmt.Sprintf("Contract %s recovered: %s", n.Contract, list(by[Resolved]))
	}
	return fmt.Sprintf("Contract %s reads topics again: %s", n.Contract, list(by["topics"]))
}

// Line describes one alert in a sentence a person can act on.
func (a Alert) Line() string {
	if a.Kind == KindSchema {
		what := Clean(a.Change)
		if a.Path != "" {
			what += " " + Clean(a.Path)
		}
		return fmt.Sprintf("Schema change on %s: %s: %s.", Clean(a.Topic), what, Clean(a.Reason))
	}
	if a.Kind == KindTopics {
		if a.Status == Resolved {
			return fmt.Sprintf("The contract reads topics again: %s.", Clean(strings.Join(a.Reading, ", ")))
		}
		s := fmt.Sprintf("The contract reads no topic: %s. None of its rules can be checked.", Clean(a.Reason))
		if a.Repeat {
			s += " Still so since " + a.Since.UTC().Format(time.RFC3339) + "."
		}
		return s
	}
	if a.Anomaly {
		return a.anomalyLine()
	}
	switch a.Status {
	case Resolved:
		return fmt.Sprintf("%s (%s) is back under %s: %d of %d events violated it in the last %s.",
			a.Rule, a.Severity, Pct(a.Threshold), a.Violations, a.Checked, ShortDur(a.Window))
	case NoData:
		what := fmt.Sprintf("no events for %s", ShortDur(a.Window))
		if a.Checked > 0 {
			what = fmt.Sprintf("only %d events in the last %s, fewer than the %d it needs", a.Checked, ShortDur(a.Window), a.MinEvents)
		}
		return fmt.Sprintf("%s (%s) has no data: %s. It was firing since %s and stays open until events show it fixed.",
			a.Rule, a.Severity, what, a.Since.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("%s (%s): %s of %d events violated it in the last %s (threshold %s).",
		a.Rule, a.Severity, Pct(a.Ratio), a.Checked, ShortDur(a.Window), Pct(a.Threshold))
	if a.Synthetic || a.Checked == 0 {
		s = fmt.Sprintf("%s (%s): failed its last check.", a.Rule, a.Severity)
	}
	if a.Repeat {
		s += " Still firing since " + a.Since.UTC().Format(time.RFC3339) + "."
	}
	return s
}

// anomalyLine describes an anomaly rule's alert: its verdicts are those
// of buckets, not a ratio of events.
func (a Alert) anomalyLine() string {
	bucket := "bucket"
	if a.Window > 0 {
		bucket = ShortDur(a.Window) + " bucket"
	}
	switch a.Status {
	case Resolved:
		return fmt.Sprintf("%s (%s) is back inside its learned band: its latest %s passed.", a.Rule, a.Severity, bucket)
	case NoData:
		return fmt.Sprintf("%s (%s) has no data: no %s was judged since it fired at %s; it stays open until a bucket passes.",
			a.Rule, a.Severity, bucket, a.Since.UTC().Format(time.RFC3339))
	}
	s := fmt.Sprintf("%s (%s): a %s fell outside the band learned from earlier buckets.", a.Rule, a.Severity, bucket)
	if a.Repeat {
		s += " Still firing since " + a.Since.UTC().Format(time.RFC3339) + ": no bucket has passed since."
	}
	return s
}

// DescriptionLine is the rule's description, clean and bounded, or "".
func (a Alert) DescriptionLine() string { return Clean(a.Description) }

// SampleLine describes the sample, or "".
func (a Alert) SampleLine() string {
	if a.Sample == nil {
		return ""
	}
	if a.Anomaly {
		// A bucket, not a record: its reason names the bucket.
		return "Latest failure: " + Clean(a.Sample.Reason)
	}
	where := ""
	if a.Sample.Topic != "" {
		where = fmt.Sprintf("%s/%d@%d: ", Clean(a.Sample.Topic), a.Sample.Partition, a.Sample.Offset)
	}
	return "e.g. " + where + Clean(a.Sample.Reason)
}

// OwnerLine is "Owner: X · Topics: a, b", clean and bounded.
func (n *Notification) OwnerLine() string {
	s := "Owner: " + Clean(n.Owner)
	if len(n.Topics) > 0 {
		s += " · Topics: " + Clean(strings.Join(n.Topics, ", "))
	}
	return s
}

// Clean makes a value fit to show: control and bidirectional characters
// visible, at most MaxValue bytes.
func Clean(s string) string { return safetext.Truncate(safetext.Visible(s), MaxValue) }

// Pct formats a ratio as a percentage ("12.5%").
func Pct(f float64) string {
	s := fmt.Sprintf("%.2f", f*100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// ShortDur formats a duration without zero units ("10s", "5m", "1h30m"),
// as reasons and the dashboard do.
func ShortDur(d time.Duration) string { return checker.FormatDuration(d) }

// Defang neutralises @-mentions (@here, @channel, @all, @someone): an @
// that starts a word and is followed by a letter becomes the full-width
// ＠, which no chat service reads as a mention. An @ inside a word (an
// e-mail address) is kept.
func Defang(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	prev := ' '
	for i, r := range s {
		if r == '@' && !isWord(prev) {
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if unicode.IsLetter(next) {
				b.WriteRune('＠')
				prev = r
				continue
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' || r == '+'
}

// JSON encodes v without HTML escaping (reasons hold > and <; channels
// that need them escaped do it themselves).
func JSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// permanent marks an error not worth retrying.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanent{err} }

// Retryable reports whether a failed delivery may succeed if tried again:
// network errors, 429 and 5xx answers are; refusals and bad URLs are not.
func Retryable(err error) bool {
	var p permanent
	return err != nil && !errors.As(err, &p)
}

// Post sends a JSON body to target. Its errors never carry the URL (it
// holds the webhook's token).
func Post(ctx context.Context, client *http.Client, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("invalid channel URL"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "assay")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return Permanent(fmt.Errorf("receiver refused the message: %s", resp.Status))
}

// JSONWebhook is a Notifier that posts the JSON of a channel's payload to
// one webhook URL: what Slack, Teams, Google Chat and the generic webhook
// have in common.
type JSONWebhook struct {
	url     secret.Secret
	client  *http.Client
	payload func(*Notification) any
}

// NewJSONWebhook returns a JSONWebhook; url is a secret (webhook URLs hold
// their token), client nil means http.DefaultClient.
func NewJSONWebhook(url secret.Secret, client *http.Client, payload func(*Notification) any) *JSONWebhook {
	if client == nil {
		client = http.DefaultClient
	}
	return &JSONWebhook{url: url, client: client, payload: payload}
}

// Notify posts the payload of n.
func (w *JSONWebhook) Notify(ctx context.Context, n *Notification) error {
	body, err := JSON(w.payload(n))
	if err != nil {
		return Permanent(err)
	}
	return Post(ctx, w.client, w.url.Reveal(), body)
}
