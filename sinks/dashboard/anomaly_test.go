package dashboard

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

// anomalyContracts has anomaly rules split by a segment, and a contract
// without any.
const anomalyContracts = `
contract: orders-anomalies
owner: team-orders
topics: [orders]
rules:
  - name: amount-positive
    expr: amount > 0
  - name: orders-volume
    anomaly: {metric: volume, every: 1m, min_history: 5}
  - name: amount-mean
    anomaly: {metric: mean, of: amount, every: 1m, min_history: 5}
segment:
  by: country
  max: 2
---
contract: plain
owner: team-plain
topics: [plain]
rules:
  - name: ok
    expr: amount > 0
`

// anomalyMinutes is how many one-minute buckets the fixture fills; the
// volume spikes in spikeMinute.
const (
	anomalyMinutes = 30
	spikeMinute    = 24
)

// newAnomalyChecker checks a steady stream of orders, 10 to 12 a minute
// in DE and FR, with a spike of 80 in DE at spikeMinute, offline, and
// closes the buckets.
func newAnomalyChecker(t *testing.T) *checker.Checker {
	t.Helper()
	cs, err := rules.Parse("anomaly.yaml", []byte(anomalyContracts))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	w := ch.NewWorker()
	p := ch.NewPartition("orders", 0)
	var off int64
	for m := range anomalyMinutes {
		n := 10 + m%3
		if m == spikeMinute {
			n = 80
		}
		for i := range n {
			country := "FR"
			if i%2 == 0 || m == spikeMinute {
				country = "DE"
			}
			amount := float64(20 + i%5)
			if i == 3 {
				amount = -1
			}
			at := t0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second)
			w.Check(p, &checker.Event{Fields: map[string]any{"amount": amount, "country": country},
				Raw:  []byte(fmt.Sprintf(`{"amount": %v, "country": %q}`, amount, country)),
				Meta: rules.KafkaMeta{Topic: "orders", Offset: off, Timestamp: at}})
			off++
		}
	}
	ch.Finish()
	return ch
}

// verdicts of a series: learning, passes, a failure, a skip in between, a
// failure of a value JSON cannot carry, and a band of huge values.
func chartVerdicts() []anomaly.Verdict {
	var out []anomaly.Verdict
	at := func(i int) (time.Time, time.Time) {
		s := t0.Add(time.Duration(i) * 10 * time.Minute)
		return s, s.Add(10 * time.Minute)
	}
	add := func(v anomaly.Verdict) {
		v.Start, v.End = at(len(out))
		out = append(out, v)
	}
	for i := range 3 {
		add(anomaly.Verdict{Observed: 10, Reason: "learning: " + strconv.Itoa(i) + " of 3 buckets"})
	}
	for i := range 5 {
		add(anomaly.Verdict{Observed: 10 + float64(i%2), Low: 8, High: 13, Judged: true, Refs: 3 + i})
	}
	add(anomaly.Verdict{Observed: 40, Low: 8, High: 13, Judged: true, Fail: true, Refs: 8,
		Reason: `volume 40 is above the expected band 8–13 <script>alert("x")</script> & "quoted" ` + "\u202eevil"})
	add(anomaly.Verdict{Observed: math.NaN(), Reason: "no events to measure"})
	add(anomaly.Verdict{Observed: math.Inf(1), Low: math.Inf(-1), High: math.NaN(), Judged: true, Fail: true})
	add(anomaly.Verdict{Observed: 11, Low: 8, High: 13, Judged: true})
	add(anomaly.Verdict{Observed: 1e308, Low: -1e308, High: 1.7e308, Judged: true, Fail: true})
	return out
}

// svgNumbers are the attributes of the chart that hold coordinates.
var svgNumbers = regexp.MustCompile(`\b(x|y|cx|cy|r|width|height|x1|x2|y1|y2)="([^"]*)"|points="([^"]*)"|\bd="([^"]*)"`)

// TestChartSVG: the chart of a series draws the band, the line, a marker
// per failed bucket and per skipped one, inside its box, with every text
// escaped and no NaN or Inf, as well-formed XML.
func TestChartSVG(t *testing.T) {
	vs := chartVerdicts()
	s := seriesOf(checker.SeriesSnapshot{Rule: `vol<ume>&"`, Metric: anomaly.Volume, Segment: "DE\u202e", Every: 10 * time.Minute, Learned: 9, Recent: vs}, true, true)
	c := s.Chart
	svg := string(c.SVG)
	var failed, skipped int
	for _, v := range vs {
		switch {
		case !v.Judged:
			skipped++
		case v.Fail:
			failed++
		}
	}
	if got := strings.Count(svg, `<circle class="fail"`); got != failed || c.Failed != failed {
		t.Errorf("%d failure markers (counted %d), want %d", got, c.Failed, failed)
	}
	if got := strings.Count(svg, `<rect class="skip"`); got != skipped {
		t.Errorf("%d skip markers, want %d", got, skipped)
	}
	// Judged runs: 3–8 and 12–13 have a band (10 has none: not finite).
	if got := strings.Count(svg, `<polygon class="band"`); got != 2 {
		t.Errorf("%d band polygons, want 2:\n%s", got, svg)
	}
	if !strings.Contains(svg, `<path class="obs" d="M`) {
		t.Errorf("no observed line:\n%s", svg)
	}
	for _, bad := range []string{"NaN", "Inf", "<script", "\u202e", `vol<ume>`, `"quoted"`} {
		if strings.Contains(svg, bad) {
			t.Errorf("the SVG holds %q:\n%s", bad, svg)
		}
	}
	for _, want := range []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34; \u202eevil`, `vol&lt;ume&gt;&amp;&#34; (volume, segment DE\u202e)`,
		">11-02 09:00</text>", ">11:10 UTC</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q:\n%s", want, svg)
		}
	}
	for _, m := range svgNumbers.FindAllStringSubmatch(svg, -1) {
		for _, f := range regexp.MustCompile(`-?[0-9.]+|[A-Za-z]+`).FindAllString(m[2]+m[3]+m[4], -1) {
			if f == "M" || f == "L" {
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || v < 0 || v > chartW {
				t.Errorf("coordinate %q out of the chart in %s", f, m[0])
			}
		}
	}
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v\n%s", err, svg)
		}
	}
	if c.Latest == nil || c.Latest.Result != ResultFail || formatBand(*c.Latest) != "band -1e+308–1.7e+308" {
		t.Errorf("latest %+v", c.Latest)
	}

	// No bucket closed: no chart. One bucket, judged: a band and a dot.
	if c := drawChart(AnomalySeries{Rule: "r"}); c.SVG != "" || c.Latest != nil {
		t.Errorf("empty series: %+v", c)
	}
	one := seriesOf(checker.SeriesSnapshot{Rule: "r", Metric: anomaly.Mean, Recent: vs[4:5]}, false, true).Chart.SVG
	if !strings.Contains(string(one), `<polygon class="band"`) || !strings.Contains(string(one), `<circle class="obs"`) {
		t.Errorf("one bucket:\n%s", one)
	}
	// 200 verdicts: the latest 144 are drawn.
	var many []anomaly.Verdict
	for len(many) < 200 {
		many = append(many, vs...)
	}
	ms := seriesOf(checker.SeriesSnapshot{Rule: "r", Metric: anomaly.Mean, Recent: many[:200]}, false, true)
	if len(ms.Recent) != MaxChartBuckets || ms.Recent[len(ms.Recent)-1].Start != many[199].Start.UTC() {
		t.Errorf("%d buckets kept", len(ms.Recent))
	}
}

// anomalyServer serves a dashboard over newAnomalyChecker's checker.
func anomalyServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	ch := newAnomalyChecker(t)
	d := New(sinkstest.Of(func() *checker.Checker { return ch }), Options{Token: secret.New(token), Now: func() time.Time { return t0.Add(time.Hour) }})
	mux := http.NewServeMux()
	d.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func getURL(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

// TestAPIAnomalies: GET /api/v1/contracts/{name}/anomalies returns the
// series with their recent buckets, the failed buckets and the segments,
// filters by rule and segment, and answers like the other endpoints.
func TestAPIAnomalies(t *testing.T) {
	srv := anomalyServer(t, "")
	const path = "/api/v1/contracts/orders-anomalies/anomalies"
	resp, body := getURL(t, srv.URL+path)
	wantStatus(t, resp, body, 200)
	for _, key := range []string{`"contract":`, `"enabled":true`, `"training":false`, `"series_total":6`, `"series":[`, `"anomalies":[`, `"failed":2`, `"late":0`,
		`"segmented":true`, `"segments":[{"name":"other","events":0,"violating":0},{"name":"DE","events":245,"violating":1},{"name":"FR","events":155,"violating":29}]`,
		`{"rule":"orders-volume","metric":"volume","segment":"DE","every_seconds":60,"learned":24,"recent":[{"start":"2026-11-02T09:00:00Z","end":"2026-11-02T09:01:00Z","observed":0,"result":"skip","reason":"the first bucket after a start holds only part of its events","refs":0}`,
		`{"start":"2026-11-02T09:24:00Z","end":"2026-11-02T09:25:00Z","observed":60,"low":0,"high":14.92859215666151,"result":"fail","reason":"volume 60 is above the expected band 0–14.93 (compared with 23 earlier buckets)","refs":23}`,
		`"anomalies":[{"rule":"orders-volume","segment":"DE","start":"2026-11-02T09:24:00Z","end":"2026-11-02T09:25:00Z","observed":60,"low":0,"high":14.92859215666151}`,
	} {
		if !strings.Contains(body, key) {
			t.Errorf("answer lacks %s:\n%s", key, body)
		}
	}
	a := decode[Anomalies](t, body)
	if len(a.Series) != 6 || len(a.Anomalies) != 2 {
		t.Fatalf("%d series, %d anomalies", len(a.Series), len(a.Anomalies))
	}
	for _, s := range a.Series {
		var fails int
		for _, v := range s.Recent {
			if (v.Result == ResultSkip) != (v.Low == nil && v.High == nil) {
				t.Errorf("%s/%s %v: result %s, band %v–%v", s.Rule, s.Segment, v.Start, v.Result, v.Low, v.High)
			}
			if v.Result == ResultFail {
				fails++
			}
		}
		if want := map[string]int{"orders-volume/DE": 2}[s.Rule+"/"+s.Segment]; fails != want {
			t.Errorf("%s/%s: %d failed buckets, want %d", s.Rule, s.Segment, fails, want)
		}
	}

	for q, want := range map[string]string{
		"?rule=orders-volume&segment=DE": `"series_total":1,"series":[{"rule":"orders-volume","metric":"volume","segment":"DE"`,
		"?segment=FR":                    `"series_total":2,"series":[{"rule":"orders-volume","metric":"volume","segment":"FR"`,
		"?rule=amount-mean&limit=1":      `"series_total":3,"series":[{"rule":"amount-mean","metric":"mean","segment":"other","every_seconds":60,"learned":0,"recent":[]}],"anomalies":[],`,
		"?limit=100000":                  `"series_total":6`,
	} {
		resp, body := getURL(t, srv.URL+path+q)
		wantStatus(t, resp, body, 200)
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %s:\n%s", q, want, body)
		}
	}
	for q, status := range map[string]int{"?limit=0": 400, "?limit=x": 400, "?rule=amount-positive": 404, "?rule=nope": 404} {
		resp, body := getURL(t, srv.URL+path+q)
		wantStatus(t, resp, body, status)
		if !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("%s: %s", q, body)
		}
	}
	resp, body = getURL(t, srv.URL+"/api/v1/contracts/nope/anomalies")
	wantStatus(t, resp, body, 404)
	resp, body = getURL(t, srv.URL+"/api/v1/contracts/plain/anomalies")
	wantStatus(t, resp, body, 200)
	if want := `{"contract":"plain","enabled":false,"training":false,"series_total":0,"series":[],"anomalies":[],"failed":0,"late":0,"segmented":false,"segments":[]}` + "\n"; body != want {
		t.Errorf("a contract without anomaly rules:\n got %s\nwant %s", body, want)
	}

	// The token protects it like the rest of the API.
	sec := anomalyServer(t, testToken)
	resp, body = getURL(t, sec.URL+path)
	wantStatus(t, resp, body, 401)
	resp, body = getURL(t, sec.URL+path, "Authorization", "Bearer "+testToken)
	wantStatus(t, resp, body, 200)
}

// TestAnomalySection: the contract page draws a chart per series with its
// facts and latest verdict, lists the failed buckets and the segments; a
// contract without anomaly rules has no such section.
func TestAnomalySection(t *testing.T) {
	srv := anomalyServer(t, "")
	resp, body := getURL(t, srv.URL+"/contracts/orders-anomalies")
	wantStatus(t, resp, body, 200)
	if got := strings.Count(body, `<svg class="chart"`); got != 4 {
		t.Errorf("%d charts, want 4 (other has no bucket)", got)
	}
	if got := strings.Count(body, "No bucket closed yet."); got != 2 {
		t.Errorf("%d empty series, want 2", got)
	}
	if got := strings.Count(body, `<circle class="fail"`); got != 2 {
		t.Errorf("%d failure markers, want 2", got)
	}
	text := textOf(body)
	for _, want := range []string{
		"Anomalies 2 failed buckets · 0 late events",
		"orders-volume volume segment DE 24 buckets learned, every 1m",
		"Latest 2026-11-02 09:28:00 UTC: pass 6, band 0–14.92",
		"2026-11-02 09:25:00 UTC orders-volume DE 26 0–14.92 2026-11-02 09:24:00 UTC orders-volume DE 60 0–14.93",
		"Segments", "other 0 0 DE 245 1 FR 155 29",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(body, "training from history") || strings.Contains(body, `class="note"`) {
		t.Error("training or cut note shown")
	}
	_, plain := getURL(t, srv.URL+"/contracts/plain")
	if strings.Contains(plain, `id="anomalies"`) || strings.Contains(plain, `id="segments"`) {
		t.Error("a contract without anomaly rules shows the section")
	}
}

// TestAnomalySectionIsBounded: of many series the page draws the first
// MaxAnomalyCharts, says so, and says when the rules train.
func TestAnomalySectionIsBounded(t *testing.T) {
	cs, err := rules.Parse("x.yaml", []byte(anomalyContracts))
	if err != nil {
		t.Fatal(err)
	}
	snap := &checker.ContractSnapshot{Contract: cs[0], Anomalies: &checker.AnomalySnapshot{Training: true}}
	for i := range 3 * MaxAnomalyCharts {
		snap.Anomalies.Series = append(snap.Anomalies.Series, checker.SeriesSnapshot{Rule: "orders-volume", Metric: anomaly.Volume,
			Segment: "s" + strconv.Itoa(i), Every: time.Minute, Recent: chartVerdicts()})
	}
	a := anomaliesOf(snap, anomalyFilter{limit: MaxAnomalyCharts, page: true})
	if len(a.Series) != MaxAnomalyCharts || a.SeriesTotal != 3*MaxAnomalyCharts {
		t.Fatalf("%d of %d series", len(a.Series), a.SeriesTotal)
	}
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, "contract", page{Page: "contract", Root: "../", Data: contractPage{Contract: Contract{Name: "orders-anomalies"}, Anomalies: a}}); err != nil {
		t.Fatal(err)
	}
	text := textOf(b.String())
	for _, want := range []string{"training from history ·", "Drawn: the first 50 of 150 series; GET api/v1/contracts/orders-anomalies/anomalies has them all"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%s", want, text)
		}
	}
	if got := strings.Count(b.String(), `<svg class="chart"`); got != MaxAnomalyCharts {
		t.Errorf("%d charts", got)
	}
	if b.Len() > 2<<20 {
		t.Errorf("the section is %d bytes", b.Len())
	}
}
