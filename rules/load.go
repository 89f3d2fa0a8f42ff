package rules

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads every contract in the given paths. A path is a file, or a
// directory searched recursively for *.yaml and *.yml files. It returns
// either all contracts or, when anything is wrong, nil and an Errors that
// lists every problem of every file, sorted by position.
func Load(paths ...string) ([]*Contract, error) {
	var files []string
	var errs Errors
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: cleanPathError(err)})
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && IsContractFile(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: p}, Msg: cleanPathError(err)})
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	contracts, perrs := LoadFiles(files)
	errs = append(errs, perrs...)
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return contracts, nil
}

// LoadFiles parses the named files and checks that contract names are
// unique across them. Problems come back as Errors (possibly empty).
func LoadFiles(files []string) ([]*Contract, Errors) {
	var all []*Contract
	var errs Errors
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: f}, Msg: cleanPathError(err)})
			continue
		}
		cs, es := parseFile(f, data)
		all = append(all, cs...)
		errs = append(errs, es...)
	}
	out, es := uniqueNames(all)
	return out, append(errs, es...)
}

// uniqueNames drops and reports contracts whose name was already taken.
func uniqueNames(all []*Contract) ([]*Contract, Errors) {
	var errs Errors
	first := map[string]*Contract{}
	var out []*Contract
	for _, c := range all {
		if prev, dup := first[c.Name]; dup {
			errs = append(errs, &Error{Pos: c.Pos, Contract: c.Name,
				Msg: fmt.Sprintf("duplicate contract name (first defined at %s:%d)", prev.Pos.File, prev.Pos.Line)})
			continue
		}
		first[c.Name] = c
		out = append(out, c)
	}
	return out, errs
}

// Parse parses contracts from one file's content; name is used in errors.
func Parse(name string, data []byte) ([]*Contract, error) {
	cs, errs := parseFile(name, data)
	cs, es := uniqueNames(cs)
	errs = append(errs, es...)
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return cs, nil
}

// IsContractFile reports whether a file in a contract directory is read:
// its name ends in .yaml or .yml, in any case.
func IsContractFile(path string) bool {
	p := strings.ToLower(path)
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}

func cleanPathError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
