package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/assay-dev/assay/internal/testenv"
)

type pki struct {
	caPEM                  []byte
	serverCert, clientCert tls.Certificate
	dir                    string
}

// newPKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, and writes the CA and the client's pair to files.
func newPKI(t *testing.T) *pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "assay test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "assay"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return pair, certPEM, keyPEM
	}
	p := &pki{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), dir: t.TempDir()}
	p.serverCert, _, _ = leaf(2, x509.ExtKeyUsageServerAuth)
	var certPEM, keyPEM []byte
	p.clientCert, certPEM, keyPEM = leaf(3, x509.ExtKeyUsageClientAuth)
	os.WriteFile(filepath.Join(p.dir, "ca.pem"), p.caPEM, 0o600)
	os.WriteFile(filepath.Join(p.dir, "client.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(p.dir, "client-key.pem"), keyPEM, 0o600)
	return p
}

// TestTLSAndSASLWithoutLeaks: a broker that requires TLS with client
// certificates and SCRAM-SHA-512; assay run gets both from --config, checks
// the events, and none of its secrets (SASL password, webhook URL, dashboard
// token) shows in its logs, /metrics, the API or the dashboard. A wrong
// password keeps it up, unready, and quiet about the password.
func TestTLSAndSASLWithoutLeaks(t *testing.T) {
	p := newPKI(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	const password = "Pa55w0rd-kafka-SCRAM"
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "checkout.orders"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "svc-assay", password))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	brokers := broker.ListenAddrs()

	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{p.clientCert}}),
		kgo.SASL(scram.Auth{User: "svc-assay", Pass: password}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var recs []*kgo.Record
	for i := range 20 {
		recs = append(recs, &kgo.Record{Topic: "checkout.orders", Value: []byte(fmt.Sprintf(
			`{"type": "order_created", "order_id": "o-%d", "amount": %d, "currency": "EUR", "items": [{"qty": 1, "unit_price": %d}], "customer": {"email": "a@b.de"}, "created_at": "2026-01-01T00:00:00Z"}`, i, i-3, i-3))})
	}
	if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	const webhook = "https://hooks.slack.test/services/T000/B000/XXXXsecretXXXX"
	const dashToken = "dash-token-0123456789"
	t.Setenv("SLACK_URL", webhook)
	os.WriteFile(filepath.Join(p.dir, "password"), []byte(password+"\n"), 0o600)
	os.WriteFile(filepath.Join(p.dir, "token"), []byte(dashToken), 0o600)
	writeConfig := func(passwordFile string) string {
		cfg := filepath.Join(p.dir, "assay-"+filepath.Base(passwordFile)+".yaml")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`tls: {ca_file: %s, cert_file: %s, key_file: %s}
sasl: {mechanism: SCRAM-SHA-512, username: svc-assay, password_file: %s}
channels:
  team: {type: slack, url_env: SLACK_URL}
`, filepath.Join(p.dir, "ca.pem"), filepath.Join(p.dir, "client.pem"), filepath.Join(p.dir, "client-key.pem"), passwordFile)), 0o600)
		return cfg
	}
	secrets := []string{password, webhook, "XXXXsecretXXXX", dashToken}

	run, base := startRun(t, "assay run (tls+sasl)", 0, "assay-secure", "--brokers", brokers[0], "--config", writeConfig(filepath.Join(p.dir, "password")),
		"--http-token-file", filepath.Join(p.dir, "token"), "--log-level", "debug", "-c", "../contracts/checkout-orders.yaml")
	eventually(t, 30*time.Second, "the events to be checked over TLS and SCRAM", func() bool {
		m, err := httpGet(base + "/metrics")
		return err == nil && sumSeries(m, "assay_events_total{") == 20
	})
	var seen strings.Builder
	for _, path := range []string{"/metrics", "/api/v1/contracts", "/api/v1/contracts/checkout-orders", "/api/v1/violations", "/", "/contracts/checkout-orders", "/login"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+dashToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := new(strings.Builder)
		fmt.Fprint(buf, resp.Header)
		b := make([]byte, 1<<20)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		seen.WriteString(buf.String() + string(b[:n]))
	}
	stop(t, run, 20*time.Second)
	seen.WriteString(run.Output())
	for _, s := range secrets {
		if strings.Contains(seen.String(), s) {
			t.Errorf("secret %q leaked (logs, /metrics, API or dashboard)", s)
		}
	}

	// A wrong password: up, not ready, never says the password.
	os.WriteFile(filepath.Join(p.dir, "wrong"), []byte("wrong-password-777"), 0o600)
	bad, badBase := startBad(t, brokers[0], writeConfig(filepath.Join(p.dir, "wrong")))
	time.Sleep(3 * time.Second)
	if resp, err := http.Get(badBase + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with a refused login: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	select {
	case <-bad.Done:
		t.Fatalf("assay exited on a wrong password:\n%s", bad.Output())
	default:
	}
	if strings.Contains(bad.Output(), "wrong-password-777") {
		t.Error("the wrong password appears in the logs")
	}
	if code := stop(t, bad, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// startBad starts assay run against a broker that will refuse it.
func startBad(t *testing.T, broker, cfg string) (*testenv.Proc, string) {
	port := testenv.FreePort(t)
	p := testenv.Start(t, "assay run (wrong password)", assayBin, "run", "-c", "../contracts/checkout-orders.yaml", "--brokers", broker,
		"--group", "assay-wrong", "--config", cfg, "--http-listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "debug")
	testenv.WaitPort(t, port, 20*time.Second)
	return p, fmt.Sprintf("http://127.0.0.1:%d", port)
}
