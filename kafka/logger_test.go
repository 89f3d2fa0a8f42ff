package kafka

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzLogger: franz-go's logs reach assay's logger with
// component=franz-go; its info messages at debug, its warnings and errors
// at their own levels, and franz-go is asked for no more than assay's
// level shows.
func TestFranzLogger(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		asks  kgo.LogLevel
		want  string // what shows of one message at each of franz-go's levels
	}{
		{slog.LevelDebug, kgo.LogLevelDebug, "level=DEBUG msg=d component=franz-go k=v\nlevel=DEBUG msg=i component=franz-go k=v\nlevel=WARN msg=w component=franz-go k=v\nlevel=ERROR msg=e component=franz-go k=v\n"},
		{slog.LevelInfo, kgo.LogLevelWarn, "level=WARN msg=w component=franz-go k=v\nlevel=ERROR msg=e component=franz-go k=v\n"},
		{slog.LevelWarn, kgo.LogLevelWarn, "level=WARN msg=w component=franz-go k=v\nlevel=ERROR msg=e component=franz-go k=v\n"},
		{slog.LevelError, kgo.LogLevelError, "level=ERROR msg=e component=franz-go k=v\n"},
		{slog.LevelError + 1, kgo.LogLevelNone, ""},
	} {
		var buf bytes.Buffer
		l := franzLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: c.level,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})))
		if got := l.Level(); got != c.asks {
			t.Errorf("at %s: franz-go is asked for %s, want %s", c.level, got, c.asks)
		}
		for _, lv := range []kgo.LogLevel{kgo.LogLevelDebug, kgo.LogLevelInfo, kgo.LogLevelWarn, kgo.LogLevelError} {
			l.Log(lv, strings.ToLower(lv.String()[:1]), "k", "v")
		}
		if got := buf.String(); got != c.want {
			t.Errorf("at %s:\n%s--- want\n%s", c.level, got, c.want)
		}
	}
}
