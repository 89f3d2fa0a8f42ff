package testenv

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Browser is Debian's headless Chromium with a profile of its own.
type Browser struct {
	bin, profile string
}

// Chromium returns a Browser, or fails (CI) or skips the test when
// Chromium is not installed.
func Chromium(t testing.TB) *Browser {
	t.Helper()
	return &Browser{bin: Need(t, "chromium"), profile: t.TempDir()}
}

// Run opens url with extra flags (--dump-dom, --screenshot=FILE, ...) and
// returns what Chromium printed. Scripts get 5s of virtual time; the whole
// run gets 60s, then its process group is killed.
func (b *Browser) Run(t testing.TB, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + b.profile, "--virtual-time-budget=5000",
	}, flags...)
	cmd := exec.CommandContext(ctx, b.bin, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within 60s on %s", url)
	}
	if err != nil {
		t.Fatalf("chromium on %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}
