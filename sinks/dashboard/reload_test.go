package dashboard

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReloadBanner: while the last contract reload was refused, every page
// says so, when, and that the previous contracts keep running, and so does
// GET /api/v1/reload; never the contract's text or the refusal's reason.
func TestReloadBanner(t *testing.T) {
	st := ReloadStatus{Loaded: t0}
	f := newFixtureOf(t, "", fixtureContracts, fixtureBatches, func(o *Options) {
		o.Reload = func() ReloadStatus { return st }
	})
	const banner = "Contract reload refused at 2026-11-02 09:02:10 UTC: the previous contracts keep running " +
		"(loaded 2026-11-02 09:00:00 UTC). The sidecar's log says what is wrong; assay lint checks the files before a reload."
	for _, refused := range []bool{false, true, false} {
		st.Refused = refused
		if refused {
			st.RefusedAt = t0.Add(2*time.Minute + 10*time.Second)
		} else {
			st.RefusedAt = time.Time{}
		}
		for _, path := range []string{"/", "/contracts/checkout-orders"} {
			_, page := f.get(t, path)
			if got := strings.Contains(textOf(page), banner); got != refused {
				t.Errorf("refused %v: %s shows the banner: %v\n%s", refused, path, got, textOf(page))
			}
			if want := `<div id="reload-banner"></div>`; !refused && !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		resp, body := f.get(t, "/api/v1/reload")
		wantStatus(t, resp, body, 200)
		got := decode[map[string]any](t, body)
		want := map[string]any{"successful": true, "loaded_at": "2026-11-02T09:00:00Z"}
		if refused {
			want = map[string]any{"successful": false, "loaded_at": "2026-11-02T09:00:00Z",
				"refused_at": "2026-11-02T09:02:10Z", "banner": banner}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("refused %v: /api/v1/reload\n got %v\nwant %v", refused, got, want)
		}
	}
	// Not found pages and the sign-in form carry no banner.
	st.Refused = true
	if _, page := f.get(t, "/contracts/nope"); strings.Contains(page, "reload refused") {
		t.Error("the not-found page shows the banner")
	}

	// Without Options.Reload there is nothing to say.
	g := newFixture(t, "")
	if _, body := g.get(t, "/api/v1/reload"); body != `{"successful":true}`+"\n" {
		t.Errorf("no Reload: %s", body)
	}
}

// TestReloadNeedsTheToken: the reload status is behind the token like the
// rest of the API.
func TestReloadNeedsTheToken(t *testing.T) {
	f := newFixture(t, testToken)
	resp, body := f.get(t, "/api/v1/reload")
	wantStatus(t, resp, body, 401)
	resp, body = f.get(t, "/api/v1/reload", "Authorization", "Bearer "+testToken)
	wantStatus(t, resp, body, 200)
}
