// Package testenv finds and starts the real parts that tests run against
// (Debian's Prometheus, Alertmanager, kcat, Chromium). `make test` installs
// them; in CI (CI set) a missing part fails the test, elsewhere it skips
// with a message saying how to install it.
package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Need returns the path of a program the test cannot do without.
func Need(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (make deps installs it)", program)
		}
		t.Skipf("%s is not installed: run make deps (in CI this fails instead of skipping)", program)
	}
	return p
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a process started for a test; it is killed when the test ends,
// and its output is logged when the test failed.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Done chan struct{} // closed when the process exited
	out  *buffer
}

// Start starts a program.
func Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	out := &buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Done: make(chan struct{}), out: out}
	go func() {
		cmd.Wait()
		close(p.Done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.Done:
		default:
			cmd.Process.Kill()
			<-p.Done
		}
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, out.String())
		}
	})
	return p
}

// Output returns what the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// WaitPort waits until 127.0.0.1:port accepts connections.
func WaitPort(t testing.TB, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(port)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d did not accept connections within %s", port, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

type buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
