// Package contracts holds the example contracts: the demo runs them, the
// docs quote them and the tests check the events of testdata/ against them.
package contracts

import "embed"

// FS holds every example contract (*.yaml).
//
//go:embed *.yaml
var FS embed.FS
