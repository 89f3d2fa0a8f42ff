package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
)

// soak runs assay against a steady stream for a while and fails if its RSS
// or goroutines grow beyond a bound between the end of a warm-up and the
// end: RSS by more than 25% + 16 MB, goroutines by more than 10. The state
// that grows by design (unique keys, up to their cap) is made to fill during
// the warm-up: --unique-max-keys 20000, warm-up a third of the run.
func soak(bin, contractsDir string, d time.Duration, rate int) error {
	bin, cleanup, err := buildAssay(bin)
	if err != nil {
		return err
	}
	defer cleanup()
	broker, err := demo.StartBroker(0, 2)
	if err != nil {
		return err
	}
	defer broker.Close()
	cl, err := kafka.NewProducer(broker.ListenAddrs())
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go demo.Produce(ctx, cl, demo.NewGenerator(11, 0.05, nil), rate)
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "run", "-c", contractsDir, "--brokers", broker.ListenAddrs()[0], "--group", "soak",
		"--start", "earliest", "--http-listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "error", "--alert-interval", "1s",
		"--unique-max-keys", "20000")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	sample := func() (rss, goroutines, events float64) {
		resp, err := http.Get(metrics)
		if err != nil {
			return -1, -1, -1
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(body), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			switch {
			case strings.HasPrefix(l, "process_resident_memory_bytes "):
				rss = v
			case strings.HasPrefix(l, "go_goroutines "):
				goroutines = v
			case strings.HasPrefix(l, "assay_events_total{"):
				events += v
			}
		}
		return
	}
	warmup := d / 3
	time.Sleep(warmup)
	rss0, g0, ev0 := sample()
	if rss0 < 0 {
		return errors.New("assay does not answer")
	}
	time.Sleep(d - warmup)
	rss1, g1, ev1 := sample()
	fmt.Printf("| soak (%s at %d events/s per topic, 3 topics) | after warm-up | at the end |\n| --- | --- | --- |\n", d, rate)
	fmt.Printf("| RSS | %.1f MB | %.1f MB |\n| goroutines | %.0f | %.0f |\n| events checked | %.0f | %.0f |\n", rss0/1e6, rss1/1e6, g0, g1, ev0, ev1)
	if ev1 <= ev0 {
		return errors.New("no events checked during the soak")
	}
	if rss1 > rss0*1.25+16e6 {
		return fmt.Errorf("RSS grew from %.1f MB to %.1f MB", rss0/1e6, rss1/1e6)
	}
	if g1 > g0+10 {
		return fmt.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	fmt.Println("soak: within bounds")
	return nil
}
