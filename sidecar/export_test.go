package sidecar

import "time"

// SetHTTPTimeouts shortens the HTTP server's read and idle timeouts for a
// test; the returned function restores them.
func SetHTTPTimeouts(read, idle time.Duration) (restore func()) {
	r, i := readTimeout, idleTimeout
	readTimeout, idleTimeout = read, idle
	return func() { readTimeout, idleTimeout = r, i }
}
