package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
)

// Limits bound what a contract file may ask of the loader. Each is checked
// before the work it protects: the file size before the YAML is parsed, the
// number of rules before they are decoded, and the length, nesting and
// size of an expression before expr parses it (expr's parser recurses once
// per nesting level, so a deep enough expression would overflow the stack
// and kill the process). Problems are reported like any other contract
// error, at file:line:column.
//
// A zero field takes its default (DefaultLimits); a field cannot be
// switched off, only raised or lowered.
type Limits struct {
	// MaxFileBytes bounds one contract file. Default 1 MiB.
	MaxFileBytes int64
	// MaxRules bounds the rules of one contract. Default 200.
	MaxRules int
	// MaxExprBytes bounds the text of one expression (expr, unique, fresh,
	// when or where). Default 8 KiB.
	MaxExprBytes int
	// MaxExprDepth bounds how deeply one expression nests: brackets ( [ {
	// and prefix operators (! not - +) count one level each. Default 100.
	MaxExprDepth int
	// MaxExprNodes bounds the syntax tree of one expression (expr's
	// MaxNodes); an expression with more operands is refused before it is
	// parsed. Default MaxNodes (2000).
	MaxExprNodes int
	// MaxContractNodes bounds the operands (identifiers and literals, as
	// MaxExprNodes counts them) of all the expressions of one contract; the
	// expression that goes past it is refused before it is compiled, and
	// the contract's later ones are not compiled. A compiled operand costs
	// some hundreds of bytes (the rule's program and the contract's
	// combined one): at the default 20,000 a contract stays within a few
	// MiB. Default 20,000.
	MaxContractNodes int
	// MaxTotalNodes bounds the operands of all contracts that Load and
	// LoadFiles read together, so that a set of contracts, each within
	// MaxContractNodes, stays within some tens of MiB compiled. Default
	// 200,000.
	MaxTotalNodes int
	// MaxTotalBytes bounds the contract files Load and LoadFiles read
	// together; a file that would go past it is refused unread, at
	// file:1:1. Default 8 MiB.
	MaxTotalBytes int64
}

// DefaultLimits are the limits of Load, LoadFiles, Parse and Compile.
var DefaultLimits = Limits{
	MaxFileBytes: 1 << 20,
	MaxRules:     200,
	MaxExprBytes: 8 << 10,
	MaxExprDepth: 100,
	MaxExprNodes: MaxNodes,

	MaxContractNodes: 20_000,
	MaxTotalNodes:    200_000,
	MaxTotalBytes:    8 << 20,
}

// withDefaults fills the zero (or negative) fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	return Limits{
		MaxFileBytes:     orDefault(l.MaxFileBytes, d.MaxFileBytes),
		MaxRules:         orDefault(l.MaxRules, d.MaxRules),
		MaxExprBytes:     orDefault(l.MaxExprBytes, d.MaxExprBytes),
		MaxExprDepth:     orDefault(l.MaxExprDepth, d.MaxExprDepth),
		MaxExprNodes:     orDefault(l.MaxExprNodes, d.MaxExprNodes),
		MaxContractNodes: orDefault(l.MaxContractNodes, d.MaxContractNodes),
		MaxTotalNodes:    orDefault(l.MaxTotalNodes, d.MaxTotalNodes),
		MaxTotalBytes:    orDefault(l.MaxTotalBytes, d.MaxTotalBytes),
	}
}

func orDefault[T int | int64](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Load is the package's Load with these limits.
func (l Limits) Load(paths ...string) ([]*Contract, error) {
	return load(l.withDefaults(), paths)
}

// LoadFiles is the package's LoadFiles with these limits.
func (l Limits) LoadFiles(files []string) ([]*Contract, Errors) {
	return loadFiles(l.withDefaults(), files)
}

// Parse is the package's Parse with these limits.
func (l Limits) Parse(name string, data []byte) ([]*Contract, error) {
	return parse(l.withDefaults(), name, data)
}

// Compile is the package's Compile with these limits.
func (l Limits) Compile(src string) (*Program, error) {
	return compile(src, boolExpr, l.withDefaults())
}

// FormatBytes prints a byte count the way limits are written: 1 MiB, 8 KiB,
// 300 B (1.5 MiB when it is not a whole number of them).
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// checkShape refuses, before expr parses it, an expression that is too
// long, nests too deeply or has too many operands. It reads the tokens of
// expr's own lexer (which does not recurse), so strings and comments are
// skipped exactly as the parser skips them. A text the lexer rejects is
// left to the parser, which reports it. The depth counted is the parser's
// recursion: each open bracket, and each prefix operator until its operand
// (an identifier, a literal or a bracketed group) is read. It returns the
// operands counted.
func checkShape(src string, l Limits) (operands int, err error) {
	if len(src) > l.MaxExprBytes {
		return 0, fmt.Errorf("expression is %s long, more than the limit of %s",
			FormatBytes(int64(len(src))), FormatBytes(int64(l.MaxExprBytes)))
	}
	source := file.NewSource(src)
	lx := lexer.New()
	lx.Reset(source)
	var (
		open     []int  // pending prefix operators at each open bracket
		pending  int    // their sum
		run      int    // prefix operators waiting for their operand
		prefix   = true // the next token starts an operand
		matching bool   // after matches (and open brackets): a pattern
	)
	for {
		tok, err := lx.Next()
		if err != nil {
			return operands, nil // EOF, or a lexing error the parser reports
		}
		// A constant pattern is compiled by expr's checker: its size is
		// checked first (a repeat of a repeat can take gigabytes).
		wasMatching := matching
		matching = false
		switch tok.Kind {
		case lexer.Operator:
			matching = tok.Value == "matches"
		case lexer.Bracket:
			matching = wasMatching && tok.Value == "("
		case lexer.String:
			if wasMatching {
				if n, err := checkRegexp(tok.Value); n > MaxRegexpInsts {
					return operands, shapeError(tok, source, err.Error())
				}
			}
		}
		switch tok.Kind {
		case lexer.Bracket:
			switch tok.Value {
			case "(", "[", "{":
				open = append(open, run)
				pending += run
				run = 0
				prefix = true
			default:
				if n := len(open); n > 0 {
					pending -= open[n-1]
					open = open[:n-1]
				}
				run = 0
				prefix = false
			}
		case lexer.Operator:
			switch {
			case prefix && (tok.Value == "!" || tok.Value == "not" || tok.Value == "-" || tok.Value == "+"):
				run++
			case tok.Value == "." || tok.Value == "?." || tok.Value == "#":
				// member access and closure pointers: an operand follows
				// but no new level
			default:
				prefix = true
			}
		case lexer.EOF:
			return operands, nil
		default: // identifiers, numbers, strings, bytes
			operands++
			run = 0
			prefix = false
			if operands > l.MaxExprNodes {
				return operands, shapeError(tok, source, fmt.Sprintf("expression has more than %d operands (the limit of its syntax tree)", l.MaxExprNodes))
			}
		}
		if depth := len(open) + pending + run; depth > l.MaxExprDepth {
			return operands, shapeError(tok, source, fmt.Sprintf("expression nests more than %d levels deep", l.MaxExprDepth))
		}
	}
}

// overLimit says that size is more than limit, in bytes: rounded
// (1.5 MiB, more than the limit of 1 MiB) unless the rounded figures read
// the same, then exact (1,100,000 bytes, more than the limit of 1,048,576
// bytes (1 MiB)).
func overLimit(size, limit int64) string {
	a, b := FormatBytes(size), FormatBytes(limit)
	if strings.TrimSuffix(strings.Fields(a)[0], ".0") != strings.Fields(b)[0] || strings.Fields(a)[1] != strings.Fields(b)[1] {
		return fmt.Sprintf("%s, more than the limit of %s", a, b)
	}
	return fmt.Sprintf("%s bytes, more than the limit of %s bytes (%s)", groupDigits(size), groupDigits(limit), b)
}

// groupDigits writes n with thousands separators: 1,048,576.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func shapeError(tok lexer.Token, source file.Source, msg string) error {
	e := &file.Error{Location: tok.Location, Message: msg}
	return e.Bind(source)
}
