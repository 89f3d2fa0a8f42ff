package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = ""
	commit  = ""
)

func buildInfo() (ver, com string) {
	ver, com = version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && com == "" {
				com = s.Value
			}
		}
	}
	if ver == "" {
		ver = "(devel)"
	}
	if com == "" {
		com = "unknown"
	}
	return ver, com
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay version\n\nPrints assay's version, its commit, and the Go version and platform it was built with.")
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if extraArgs("version", fs, stderr) {
		return exitBadInput
	}
	ver, com := buildInfo()
	fmt.Fprintf(stdout, "assay %s\ncommit %s\n%s %s/%s\n", ver, com, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
