package rules

import (
	"errors"
	"fmt"
	"io"
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
	return load(DefaultLimits, paths)
}

func load(lim Limits, paths []string) ([]*Contract, error) {
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
	contracts, perrs := loadFiles(lim, files)
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
	return loadFiles(DefaultLimits, files)
}

func loadFiles(lim Limits, files []string) ([]*Contract, Errors) {
	var all []*Contract
	var errs Errors
	var totalBytes int64
	totalNodes := 0
	for _, f := range files {
		if totalBytes >= lim.MaxTotalBytes {
			errs = append(errs, &Error{Pos: Pos{File: f, Line: 1, Column: 1}, Msg: fmt.Sprintf("not read: the contract files before it are %s in all, the limit of all contract files", FormatBytes(lim.MaxTotalBytes))})
			continue
		}
		data, err := readLimited(f, min(lim.MaxFileBytes, lim.MaxTotalBytes-totalBytes))
		var big *tooLargeError
		if errors.As(err, &big) {
			msg := big.Error()
			if big.max < lim.MaxFileBytes {
				msg = fmt.Sprintf("not read: it would take the contract files to more than %s in all, the limit of all contract files", FormatBytes(lim.MaxTotalBytes))
			}
			errs = append(errs, &Error{Pos: Pos{File: f, Line: 1, Column: 1}, Msg: msg})
			continue
		}
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: f}, Msg: cleanPathError(err)})
			continue
		}
		totalBytes += int64(len(data))
		cs, es := parseFile(lim, f, data)
		for _, c := range cs {
			if totalNodes += c.operands; totalNodes > lim.MaxTotalNodes {
				errs = append(errs, &Error{Pos: c.Pos, Contract: c.Name, Msg: fmt.Sprintf("the contracts up to this one have more than %d expression operands in all, the limit of all contracts", lim.MaxTotalNodes)})
				continue
			}
			all = append(all, c)
		}
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
	return parse(DefaultLimits, name, data)
}

func parse(lim Limits, name string, data []byte) ([]*Contract, error) {
	cs, errs := parseFile(lim, name, data)
	cs, es := uniqueNames(cs)
	errs = append(errs, es...)
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return cs, nil
}

// readLimited reads a file of at most max bytes; a larger one is refused
// having read no more than max+1 bytes of it, so that its size costs
// nothing.
func readLimited(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := max + 1
	var statSize int64 = -1
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		statSize = fi.Size()
		if statSize > max {
			return nil, &tooLargeError{size: statSize, max: max}
		}
		size = statSize + 1 // room to see the end of the file
	}
	data := make([]byte, 0, size)
	for int64(len(data)) < size {
		n, err := f.Read(data[len(data):size])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	if int64(len(data)) > max {
		return nil, &tooLargeError{size: -1, max: max} // it grew, or is no regular file
	}
	return data, nil
}

// tooLargeError is a contract file over Limits.MaxFileBytes.
type tooLargeError struct {
	size, max int64 // size -1: unknown
}

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("contract file is larger than the limit of %s", FormatBytes(e.max))
	}
	return "contract file is " + overLimit(e.size, e.max)
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
