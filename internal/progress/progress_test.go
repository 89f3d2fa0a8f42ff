package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestQuietWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	if b := Start(&buf, 100, "bytes", time.Millisecond, false); b != nil {
		t.Fatal("a bar on a buffer")
	}
	var b *Bar
	b.Add(1, 1) // a nil bar does nothing
	b.Done()
}

func TestLine(t *testing.T) {
	t0 := time.Now()
	line := &Bar{total: 1000, start: t0, now: func() time.Time { return t0.Add(2 * time.Second) }}
	line.Add(250, 500)
	if got := line.Line(); got != "[######..................]  25% 500 events  250/s  ETA 6s" {
		t.Fatalf("%q", got)
	}
	var buf bytes.Buffer
	b := Start(&buf, 1000, "bytes", time.Millisecond, true)
	b.Add(250, 500)
	time.Sleep(10 * time.Millisecond)
	b.Done()
	if !strings.Contains(buf.String(), "\r[######") || !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Fatalf("%q", buf.String())
	}
}
