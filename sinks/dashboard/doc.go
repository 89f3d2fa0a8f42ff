// Package dashboard serves assay's web UI and its JSON API: every contract
// and rule with its counts, pass rate, state and trend over the last hour,
// and the latest violation samples with their PII masked.
//
// # Pages
//
//   - / lists every contract: its state (ok, firing, no data), owner,
//     topics, events checked, pass rate (events that passed every rule)
//     and violations since start, the alert window its state comes from,
//     and a sparkline of violations per minute over the last hour; a banner for each contract that reads no topic;
//     then the undecodable records per topic, with the latest few.
//   - /contracts/{name} is a contract's stable page (alerts link to it):
//     what it reads, every rule with its severity, pass/fail/error/skip
//     counts and violation ratio since start, its alert window ("last 5m:
//     3.10% of 412", "fires above 2%"), sparkline, last violation and
//     state, then the recent violations with reason, topic, partition,
//     offset, key and the masked payload. ?rule=NAME shows the violations
//     of one rule.
//
// Every page shows a banner while the last contract reload was refused
// (Options.Reload; GET /api/v1/reload): when, and that the previous
// contracts keep running, never the contract's text.
//
// In the tables the State comes right after the name, so it stays in view
// at any width; wider tables scroll inside their box and, on narrow
// screens, the least important columns give way first. Names and topics
// never break inside (a long one is cut with an ellipsis, whole in its
// title); the Topics are those read, then the topic_pattern as one short
// code element. Times say their clock: record time (the producer's) or
// seen at (when assay checked the record).
//
// Pages are rendered on the server (html/template), so they show the
// numbers without JavaScript; a small script (static/app.js, embedded like
// the CSS: no CDN, no build step) then fetches the API every 5 seconds and
// re-renders the tables. Links and redirects are relative, so the
// dashboard also works behind a proxy that serves it under a prefix.
//
// # API
//
// GET /api/v1/contracts, GET /api/v1/contracts/{name},
// GET /api/v1/contracts/{name}/schema, GET /api/v1/contracts/{name}/anomalies,
// GET /api/v1/violations?contract=&rule=&limit=, GET /api/v1/decode_errors
// and GET /api/v1/reload answer JSON; API.md in this directory documents
// them with examples. The shapes are the types Contract, Rule, Window,
// Coverage, History, Sample, DecodeTopic, Reload, Schema and Anomalies.
//
// # Counts, rates and states
//
// Counts are the checker's tallies since the process started (they carry
// over a reload). A contract's pass rate (events that passed every rule)
// is the share of its checked events that passed every rule, shadow rules
// aside (checker.ContractSnapshot.Passed / Events): an event that breaks
// two rules counts once, so more rules do not make a contract look
// healthier. A rule's violation ratio is (fail + error) / (pass + fail +
// error); skips count in neither.
//
// The trends come from the Dashboard's own history: Run reads the counters
// every Options.SampleEvery (10s) and keeps, per contract and rule, the
// counts at the end of each minute of the last hour. Memory is bounded by
// the number of rules, nothing is done per event, and minutes before Run
// started are 0.
//
// States are the alert policy's (package policy, through Options.States),
// never the dashboard's own: a rule is ok, firing or no_data as the alerts
// say, and shows the window the state was computed from next to the counts
// since start, which tell another story (a rule can be ok at 62% since
// start when its last five minutes are clean). Without Options.States
// every state is no_data.
//
// # Bounds
//
// Whatever the events, every page and answer grows at most linearly with
// the number of samples it shows (payload.go): a payload is pruned to
// MaxPayloadBytes of compact JSON and MaxPayloadDepth levels (strings to
// MaxValueBytes), the reason to MaxReasonBytes, the key to MaxKeyBytes;
// pages print the payload indented down to IndentDepth and compact below,
// cut at MaxPrettyBytes; a cut sample is marked truncated ("… truncated"
// on the page). Non-finite numbers read as the strings "NaN", "+Inf",
// "-Inf". Every answer is encoded or rendered to a buffer first: an
// encoding or template error is a logged 500, never a 200 with an empty
// body.
//
// Shown text (names, descriptions, owners, reasons, keys, topics,
// payloads, previews) passes through safetext.Visible, on the server and
// in the script: control and bidirectional characters read as escapes
// such as \u202e. The API keeps the raw values, JSON-escaped.
//
// # Protection
//
// The samples show business data, masked or not, so Options.Token can
// protect the pages and the API. With a token, a request needs either
// "Authorization: Bearer <token>" or the session cookie that the form at
// /login sets once given the token. The cookie (HttpOnly, SameSite=Strict,
// Secure behind TLS) holds an HMAC of the token under a key drawn when the
// process starts, never the token: it stops working on restart or when the
// token changes. Without a credential, the API answers 401 with a JSON
// error and the pages redirect to /login, which comes back afterwards. The
// token is compared in constant time and never written to a response or a
// log. /static/ holds no data and is open; /metrics and the probes belong
// to the sidecar and stay open.
//
// Wrong tokens, at /login or as a bearer token, are throttled per client
// address (throttle.go): after FreeFailures the client waits FirstBackoff,
// doubling with every further wrong token up to MaxBackoff, answered 429
// with Retry-After; one warning is logged at the first wrong token and one
// per wait. At most MaxClients addresses are tracked. The sign-in form is
// at most MaxLoginBytes (413 beyond).
//
// Every response of the dashboard's handlers carries the same headers:
//
//	Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'
//	X-Content-Type-Options: nosniff
//	X-Frame-Options: DENY
//	Referrer-Policy: no-referrer
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//	Cache-Control: no-store (no-cache for the assets under /static/)
package dashboard
