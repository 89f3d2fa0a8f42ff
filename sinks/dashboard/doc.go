// Package dashboard serves assay's web UI and its JSON API: every contract
// and rule with its counts, pass rate, state and trend over the last hour,
// and the latest violation samples with their PII masked.
//
// # Pages
//
//   - / lists every contract: owner, topics, events checked, pass rate,
//     violations, state (ok or firing) and a sparkline of violations per
//     minute over the last hour.
//   - /contracts/{name} is a contract's stable page (alerts link to it):
//     every rule with its severity, pass/fail/error/skip counts, violation
//     ratio, sparkline, last violation and state, then the recent
//     violations with reason, topic, partition, offset, key and the masked
//     payload. ?rule=NAME shows the violations of one rule.
//
// Pages are rendered on the server (html/template), so they show the
// numbers without JavaScript; a small script (static/app.js, embedded like
// the CSS: no CDN, no build step) then fetches the API every 5 seconds and
// re-renders the tables. Links and redirects are relative, so the
// dashboard also works behind a proxy that serves it under a prefix.
//
// # API
//
// GET /api/v1/contracts, GET /api/v1/contracts/{name} and
// GET /api/v1/violations?contract=&rule=&limit= answer JSON; API.md in
// this directory documents them with examples. The shapes are the types
// Contract, Rule, History and Sample.
//
// # Counts, rates and states
//
// Counts are the checker's tallies since the process started (they carry
// over a reload). A contract's pass rate is pass / (pass + fail + error)
// over all its rules, a rule's violation ratio (fail + error) / (pass +
// fail + error); skips count in neither.
//
// The trends come from the Dashboard's own history: Run reads the counters
// every Options.SampleEvery (10s) and keeps, per contract and rule, the
// counts at the end of each minute of the last hour. Memory is bounded by
// the number of rules, nothing is done per event, and minutes before Run
// started are 0.
//
// A rule's state comes from Options.Firing when the alerting sink provides
// it. Otherwise it is derived from the history with the contract's own
// alert policy, the way an alert would judge it: the rule is "firing" when,
// over the last alert.window (rounded up to whole minutes, at most one
// hour), it was evaluated at least alert.min_events times and its violation
// ratio is at least alert.ratio (with at least one violation); the
// synthetic volume rule fires on any failure in that window. A contract is
// "firing" when any of its rules is.
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
// Every response carries a strict Content-Security-Policy (scripts and
// styles from the dashboard only), nosniff, no-referrer, and no-store for
// pages and API answers.
package dashboard
