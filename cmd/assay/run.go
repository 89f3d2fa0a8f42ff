package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats/confluent"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sidecar"
	"github.com/assay-dev/assay/sinks/dashboard"
)

// runFlags are the flags of `assay run`; each can also be set with an
// ASSAY_* environment variable (ASSAY_BROKERS for --brokers).
type runFlags struct {
	brokers        string
	group          string
	contracts      stringList
	start          string
	httpListen     string
	config         string
	logFormat      string
	logLevel       string
	maxRecordBytes int
	watchInterval  time.Duration
	sessionTimeout time.Duration
	alertInterval  time.Duration
	datadogAddr    string
	httpTokenFile  string
	allowedHosts   string
	uniqueMaxKeys  int
	samplesPerRule int
	schemaRegistry string
	limits         limitFlags
	maxEvalBytes   int
	maxEvalTime    time.Duration
	sampleMaxBytes int
	memoryLimit    int64
	state          string
	schema         schemaFlags
}

// schemaFlags configure the watch of schema drift (docs/schema.md).
type schemaFlags struct {
	samples        int
	warmUp         int
	missingAfter   time.Duration
	missingSamples int
}

func (f *schemaFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.samples, "schema-samples", schemawatch.DefaultPerSecond, "records per second and partition decoded whole to profile the schema of each contract's topic (0 turns schema drift off)")
	fs.IntVar(&f.warmUp, "schema-warmup", schemawatch.DefaultWarmUp, "sampled events that settle a profile: before, new paths are learnt silently (paths a contract does not declare in fields: are reported at once)")
	durationVar(fs, &f.missingAfter, "schema-missing-after", schemawatch.DefaultMissingAfter, "a required or regular path is missing once not seen for `duration` and --schema-missing-samples sampled events")
	fs.IntVar(&f.missingSamples, "schema-missing-samples", schemawatch.DefaultMissingSamples, "sampled events without a path, besides --schema-missing-after, before it is missing")
}

func (f schemaFlags) options() schemawatch.Options {
	o := schemawatch.Options{PerSecond: f.samples, WarmUp: f.warmUp, MissingAfter: f.missingAfter, MissingSamples: f.missingSamples}
	if f.samples <= 0 {
		o.PerSecond = -1
	}
	return o
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.brokers, "brokers", "localhost:9092", "Kafka bootstrap brokers, host:port,...")
	fs.StringVar(&f.group, "group", "assay", "assay's own consumer group (never the observed team's)")
	fs.Var(&f.contracts, "c", "contract file or directory (repeatable)")
	fs.Var(&f.contracts, "contracts", "same as -c")
	fs.StringVar(&f.start, "start", "latest", "where a new group begins: earliest or latest")
	fs.StringVar(&f.httpListen, "http-listen", "127.0.0.1:9464", "address of /metrics, /healthz, /readyz, the dashboard and /api/v1")
	fs.StringVar(&f.config, "config", "", "service config file: tls, sasl, datadog, dashboard_url, channels")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.IntVar(&f.maxRecordBytes, "max-record-bytes", 1<<20, "larger records are skipped and counted")
	durationVar(fs, &f.sessionTimeout, "session-timeout", 45*time.Second, "`duration` the group waits for a replica that stopped before moving its partitions")
	fs.StringVar(&f.datadogAddr, "datadog-addr", "", "DogStatsD address, host:port or unix:///path (default: DD_DOGSTATSD_URL or DD_AGENT_HOST; off when none is set)")
	fs.IntVar(&f.uniqueMaxKeys, "unique-max-keys", 100000, "keys a unique rule remembers per partition (about 100 bytes each), and open expectations (about 160 bytes) and referenced keys a sequence or reference rule keeps; the least recently seen go first")
	fs.StringVar(&f.state, "state", "kafka", "where the state of unique, sequence and reference rules lives: kafka (a compacted changelog topic GROUP-state-changelog, restored on restart and when a partition moves) or memory")
	fs.Int64Var(&f.memoryLimit, "memory-limit", 0, "soft limit of the Go heap in bytes (default: 80% of the container's memory limit when there is one; GOMEMLIMIT overrides it)")
	fs.IntVar(&f.samplesPerRule, "samples-per-rule", 20, "violation samples kept per rule for the dashboard and alerts")
	fs.StringVar(&f.schemaRegistry, "schema-registry", "", "Schema Registry URL(s), comma separated, for contracts with format confluent or auto (auth from --config schema_registry)")
	fs.StringVar(&f.httpTokenFile, "http-token-file", "", "file holding a token that the dashboard and /api/v1 require (bearer or login form); /metrics and probes stay open")
	fs.StringVar(&f.allowedHosts, "http-allowed-hosts", "", "host names, comma separated, under which the dashboard and API answer when no --http-token-file is set (IP addresses, localhost and dashboard_url's host always do)")
	durationVar(fs, &f.alertInterval, "alert-interval", 15*time.Second, "alert policies are evaluated every `duration`")
	f.limits.register(fs)
	f.schema.register(fs)
	fs.IntVar(&f.maxEvalBytes, "max-eval-bytes", rules.DefaultMaxBytes, "memory one rule may build while evaluating one event (strings, lists); beyond, the rule gives error for that event")
	durationVar(fs, &f.maxEvalTime, "max-eval-time", rules.DefaultMaxTime, "`duration` one rule may take on one event; beyond, the rule gives error for that event")
	fs.IntVar(&f.sampleMaxBytes, "sample-max-bytes", checker.DefaultSampleMaxBytes, "bytes of the masked event kept with each violation sample (the rest is cut, marked truncated)")
	durationVarZeroOK(fs, &f.watchInterval, "watch-interval", 2*time.Second, "contract files are checked for changes every `duration` (0 turns it off)")
}

// applyEnv sets every flag that has an ASSAY_* variable; flags given on the
// command line win because they are parsed afterwards.
func applyEnv(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "c" {
			return
		}
		env := "ASSAY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func cmdRun(args []string, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var f runFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: assay run -c DIR --brokers HOST:PORT [flags]

The sidecar: consumes the contracts' topics, checks every event, serves metrics.
Every flag can also be set as ASSAY_<FLAG> (e.g. ASSAY_BROKERS). Durations are
written as in contracts: 300ms, 30s, 1h30m, 7d, 2w.
Exit 0 after SIGTERM or SIGINT, 1 on a fatal error at run time, 2 on bad input
(a bad flag, contract or --config).`)
		fs.PrintDefaults()
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "assay run:", err)
		return exitBadInput
	}
	if v := os.Getenv("ASSAY_CONTRACTS"); v != "" {
		f.contracts = strings.Split(v, ",")
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if extraArgs("run", fs, stderr) {
		return exitBadInput
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "assay run:", err)
		return exitBadInput
	}
	if len(f.contracts) == 0 {
		fmt.Fprintln(stderr, "assay run: give contracts with -c DIR|FILE (or ASSAY_CONTRACTS)")
		return exitBadInput
	}
	tuneMemory(f.memoryLimit, log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runSidecar(ctx, f, log, nil)
}

// runSidecar builds and runs the sidecar until ctx is done. started, when
// not nil, receives the sidecar once it listens (the demo prints its URLs).
func runSidecar(ctx context.Context, f runFlags, log *slog.Logger, started func(*sidecar.Sidecar)) int {
	svc, err := loadServiceConfig(f.config)
	if err != nil {
		log.Error("bad --config", "err", err)
		return exitBadInput
	}
	kcfg := kafka.Config{
		Brokers: splitList(f.brokers),
		Group:   f.group,
		Start:   f.start,

		SessionTimeout: f.sessionTimeout,
	}
	if svc.TLS != nil {
		if kcfg.TLS, err = kafka.TLSConfig(svc.TLS.CAFile, svc.TLS.CertFile, svc.TLS.KeyFile); err != nil {
			log.Error("bad tls config", "err", err)
			return exitBadInput
		}
	}
	if svc.SASL != nil {
		if kcfg.SASL, err = kafka.SASLMechanism(svc.SASL.Mechanism, svc.SASL.Username, svc.SASL.password.Reveal()); err != nil {
			log.Error("bad sasl config", "err", err)
			return exitBadInput
		}
	}
	var token secret.Secret
	if f.httpTokenFile != "" {
		if token, err = secret.FromSources("--http-token-file", "", "", f.httpTokenFile); err != nil {
			log.Error("bad dashboard token", "err", err)
			return exitBadInput
		}
	}
	var schemas *confluent.Decoder
	if f.schemaRegistry != "" {
		rc := confluent.Config{URLs: splitList(f.schemaRegistry)}
		if sr := svc.SchemaRegistry; sr != nil {
			rc.Username, rc.Password, rc.BearerToken = sr.Username, sr.password.Reveal(), sr.token.Reveal()
		}
		if schemas, err = confluent.New(rc); err != nil {
			log.Error("bad --schema-registry", "err", err)
			return exitBadInput
		}
	}
	// The sinks are built on the sidecar (wireSinks, below); the sidecar
	// mounts the dashboard's routes only when Run starts serving.
	var dash *dashboard.Dashboard
	s, err := sidecar.New(sidecar.Config{
		Contracts:      f.contracts,
		Kafka:          kcfg,
		HTTPListen:     f.httpListen,
		Logger:         log,
		WatchInterval:  watchInterval(f.watchInterval),
		MaxRecordBytes: f.maxRecordBytes,
		Routes:         func(mux *http.ServeMux) { dash.Routes(mux) },
		Token:          token,
		AllowedHosts:   allowedHosts(f.allowedHosts, svc.DashboardURL),
		Schemas:        schemas,
		Limits:         f.limits.limits(),
		State:          f.state,
		Schema:         f.schema.options(),
		Checker: checker.Options{UniqueMaxKeys: f.uniqueMaxKeys, SamplesPerRule: f.samplesPerRule,
			SampleMaxBytes: f.sampleMaxBytes, MaxEvalBytes: f.maxEvalBytes, MaxEvalTime: f.maxEvalTime},
	})
	if err != nil {
		// Every error of New is the input's: contracts that do not load
		// or compile, none at all, or a Kafka setting the client refuses.
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				log.Error("bad contract", "problem", e.Error())
			}
		} else {
			log.Error("cannot start", "err", err)
		}
		return exitBadInput
	}
	if err := s.Listen(); err != nil {
		log.Error("cannot start", "err", err)
		if badAddress(err) {
			return exitBadInput
		}
		return exitFatal // the port is taken, say
	}
	if dash, err = wireSinks(s, f, svc, token, log); err != nil {
		log.Error("cannot start the Datadog sink", "err", err)
		return exitBadInput // a malformed --datadog-addr
	}
	if started != nil {
		started(s)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading contracts")
				s.Reload()
			}
		}
	}()
	log.Info("assay running", "contracts", len(s.Checker().Contracts()), "brokers", f.brokers, "group", f.group)
	if err := s.Run(ctx); err != nil {
		log.Error("stopped on error", "err", err)
		return exitFatal
	}
	log.Info("stopped cleanly")
	return exitOK
}

// badAddress reports whether a listen error is the address's own: one that
// does not parse, or a host name that does not exist.
func badAddress(err error) bool {
	var addr *net.AddrError
	var dns *net.DNSError
	return errors.As(err, &addr) || errors.As(err, &dns) && dns.IsNotFound
}

// allowedHosts are the --http-allowed-hosts and the host of dashboard_url.
func allowedHosts(flag, dashboardURL string) []string {
	out := splitList(flag)
	if u, err := url.Parse(dashboardURL); err == nil && u.Hostname() != "" {
		out = append(out, u.Hostname())
	}
	return out
}

func watchInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
