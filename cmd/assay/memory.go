package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// tuneMemory sets a soft memory limit for `assay run` unless GOMEMLIMIT
// says otherwise: limit when given (bytes, --memory-limit), else 80 % of the
// cgroup's memory limit when there is one, so that the heap stays within
// what the container grants. The pace is Go's own (GOGC=100 unless set):
// the hot path allocates about two objects per event, so collecting is
// cheap and a higher pace would only grow the heap.
func tuneMemory(limit int64, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	source := "--memory-limit"
	if limit <= 0 {
		limit, source = cgroupMemoryLimit()*8/10, "80% of the container's memory limit"
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Debug("memory limit", "bytes", limit, "from", source)
	}
}

// cgroupMemoryLimit is the memory limit of the process's cgroup (v2
// memory.max, or v1 memory.limit_in_bytes), 0 when there is none.
func cgroupMemoryLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		return parseMemoryLimit(string(data))
	}
	return 0
}

// parseMemoryLimit reads a cgroup memory limit file: a number of bytes, or
// "max" (none). A value near the largest int64 is cgroup v1's "none".
func parseMemoryLimit(s string) int64 {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= math.MaxInt64/2 {
		return 0
	}
	return n
}
