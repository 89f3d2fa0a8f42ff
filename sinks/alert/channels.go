package alert

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/sinks/alert/alertmanager"
	"github.com/assay-dev/assay/sinks/alert/googlechat"
	"github.com/assay-dev/assay/sinks/alert/notify"
	"github.com/assay-dev/assay/sinks/alert/slack"
	"github.com/assay-dev/assay/sinks/alert/teams"
	"github.com/assay-dev/assay/sinks/alert/webhook"
)

// notifiers makes the Notifier of each channel type: the one place where
// types meet their packages.
var notifiers = map[string]func(ch Channel, o *Options) notify.Notifier{
	"slack":      func(ch Channel, o *Options) notify.Notifier { return slack.New(ch.URL, o.Client) },
	"teams":      func(ch Channel, o *Options) notify.Notifier { return teams.New(ch.URL, o.Client) },
	"googlechat": func(ch Channel, o *Options) notify.Notifier { return googlechat.New(ch.URL, o.Client) },
	"webhook":    func(ch Channel, o *Options) notify.Notifier { return webhook.New(ch.URL, o.Client) },
	"alertmanager": func(ch Channel, o *Options) notify.Notifier {
		// Open alerts are re-sent every Interval; they stay valid for a
		// few missed evaluations.
		return alertmanager.New(ch.URL, o.Client, max(4*o.Interval, 2*time.Minute))
	},
}

// Types are the channel types, sorted.
func Types() []string {
	out := make([]string, 0, len(notifiers))
	for t := range notifiers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// notifierFor returns the Notifier of a channel; an unknown type is an
// error.
func notifierFor(ch Channel, o *Options) (notify.Notifier, error) {
	mk := notifiers[ch.Type]
	if mk == nil {
		return nil, fmt.Errorf("channel %q: type must be one of %s, not %q", ch.Name, strings.Join(Types(), ", "), ch.Type)
	}
	return mk(ch, o), nil
}
