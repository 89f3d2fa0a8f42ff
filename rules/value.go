package rules

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm/runtime"
)

// kind says where a value holds its content.
type kind uint8

const (
	kAny    kind = iota // in a (nil included): what expr's VM would hold
	kBool               // n: 0 or 1
	kInt                // n: an int
	kInt64              // n: an int64
	kFloat              // n: the bits of a float64
	kString             // a: a *string (a string of the record metadata)
	kTime               // n: Unix seconds, x: nanoseconds, a: the *time.Location
	kDur                // n: a time.Duration
	kAbort              // an optional chain stopped at nil (never outside the chain)
)

// value is a value of the native evaluator (see native): the values that
// expr's VM would box into an interface — numbers, times without a
// monotonic clock reading, durations, booleans, strings of the record
// metadata — are held unboxed, so that evaluating them allocates
// nothing; box gives the very value the VM would hold. Four words: the
// closures pass it in registers.
type value struct {
	a any
	n int64
	x int32
	k kind
}

// anyV, intV, int64V, floatV and durV make values.
func anyV(a any) value       { return value{a: a} }
func intV(i int) value       { return value{k: kInt, n: int64(i)} }
func int64V(i int64) value   { return value{k: kInt64, n: i} }
func floatV(f float64) value { return value{k: kFloat, n: int64(math.Float64bits(f))} }
func durV(d time.Duration) value {
	return value{k: kDur, n: int64(d)}
}

// timeV holds a time unboxed unless it has a monotonic clock reading,
// which Unix seconds and nanoseconds would lose.
func timeV(t time.Time) value {
	if t != t.Round(0) {
		return anyV(t)
	}
	return value{k: kTime, n: t.Unix(), x: int32(t.Nanosecond()), a: t.Location()}
}

// time is the time of a kTime value, equal (==) to the one it was made of.
func (v value) time() time.Time {
	return time.Unix(v.n, int64(v.x)).In(v.a.(*time.Location))
}

// boolV is a boolean value.
func boolV(b bool) value {
	if b {
		return value{k: kBool, n: 1}
	}
	return value{k: kBool}
}

// constV is the value of a constant, unboxed where it can be.
func constV(c any) value {
	switch c := c.(type) {
	case bool:
		return boolV(c)
	case int:
		return intV(c)
	case int64:
		return int64V(c)
	case float64:
		return floatV(c)
	case time.Time:
		return timeV(c)
	case time.Duration:
		return durV(c)
	}
	return anyV(c)
}

// float is the float64 of a kFloat value.
func (v value) float() float64 { return math.Float64frombits(uint64(v.n)) }

// box is the value as expr's VM holds it.
func (v value) box() any {
	switch v.k {
	case kBool:
		return v.n != 0
	case kInt:
		return int(v.n)
	case kInt64:
		return v.n
	case kFloat:
		return v.float()
	case kString:
		return *v.a.(*string)
	case kTime:
		return v.time()
	case kDur:
		return time.Duration(v.n)
	case kAbort:
		panic("rules: an optional chain escaped")
	}
	return v.a
}

// truth is a value that must be a boolean, as the VM's jumps and OpNot
// assert it.
func (v value) truth() bool {
	if v.k == kBool {
		return v.n != 0
	}
	return v.box().(bool)
}

// str is a value's string, if it is one.
func (v value) str() (string, bool) {
	switch v.k {
	case kAny:
		s, ok := v.a.(string)
		return s, ok
	case kString:
		return *v.a.(*string), true
	}
	return "", false
}

// isNil is runtime.IsNil of the value.
func (v value) isNil() bool {
	if v.k != kAny {
		return false
	}
	switch v.a.(type) {
	case nil:
		return true
	case string, float64, int64, int, bool:
		return false
	}
	return runtime.IsNil(v.a)
}

// deref is the VM's OpDeref: pointers are followed, other values are left
// as they are.
func (v value) deref() value {
	if v.k != kAny {
		return v
	}
	switch v.a.(type) {
	case string, float64, int64, map[string]any, []any, nil, bool, int, time.Time:
		return v
	}
	return anyV(derefInterface(v.a))
}

// derefInterface is expr's internal deref.Interface.
func derefInterface(p any) any {
	if p == nil {
		return nil
	}
	v := reflect.ValueOf(p)
	for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.IsValid() {
		return v.Interface()
	}
	panic(fmt.Sprintf("cannot dereference %v", p))
}

// num reads a value as an integer (int or int64) or a float64, the
// numbers of decoded events and literals; ok is false for any other type,
// which the operators leave to expr's runtime.
func num(v value) (i int64, f float64, isFloat, ok bool) {
	switch v.k {
	case kInt, kInt64:
		return v.n, 0, false, true
	case kFloat:
		return 0, v.float(), true, true
	case kAny:
		switch x := v.a.(type) {
		case float64:
			return 0, x, true, true
		case int64:
			return x, 0, false, true
		case int:
			return int64(x), 0, false, true
		}
	}
	return 0, 0, false, false
}

// numPair reads two values as numbers, the way expr's runtime combines
// them: two integers as ints, or, when either is a float64, both as
// float64 (fx, fy, floats set); ok is false unless both are numbers.
func numPair(a, b value) (x, y int, fx, fy float64, floats, ok bool) {
	ai, af, afl, aok := num(a)
	bi, bf, bfl, bok := num(b)
	if !aok || !bok {
		return 0, 0, 0, 0, false, false
	}
	x, y = int(ai), int(bi)
	if !afl && !bfl {
		return x, y, float64(x), float64(y), false, true
	}
	if !afl {
		af = float64(ai)
	}
	if !bfl {
		bf = float64(bi)
	}
	return x, y, af, bf, true, true
}

// timeOf is a value's time, if it is one.
func timeOf(v value) (time.Time, bool) {
	switch v.k {
	case kTime:
		return v.time(), true
	case kAny:
		t, ok := v.a.(time.Time)
		return t, ok
	}
	return time.Time{}, false
}

// durOf is a value's duration, if it is one.
func durOf(v value) (time.Duration, bool) {
	switch v.k {
	case kDur:
		return time.Duration(v.n), true
	case kAny:
		d, ok := v.a.(time.Duration)
		return d, ok
	}
	return 0, false
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opLess cmpOp = iota
	opMore
	opLessEq
	opMoreEq
)

// ordered applies a comparison operator to numbers or strings (NaN
// compares false, as in Go).
func ordered[T cmp.Ordered](op cmpOp, x, y T) bool {
	switch op {
	case opLess:
		return x < y
	case opMore:
		return x > y
	case opLessEq:
		return x <= y
	}
	return x >= y
}

// compare is runtime.Less, More, LessOrEqual or MoreOrEqual: integers
// compare as int, numbers with a float as float64, strings, times and
// durations among themselves; everything else goes to expr's runtime
// (which fails the same way).
func compare(op cmpOp, a, b value) bool {
	if x, y, fx, fy, floats, ok := numPair(a, b); ok {
		if floats {
			return ordered(op, fx, fy)
		}
		return ordered(op, x, y)
	}
	if x, ok := a.str(); ok {
		if y, ok := b.str(); ok {
			return ordered(op, x, y)
		}
	}
	if a.k == kTime && b.k == kTime {
		// Before and After compare instants: seconds, then nanoseconds.
		if a.n != b.n {
			return ordered(op, int(a.n), int(b.n))
		}
		return ordered(op, int(a.x), int(b.x))
	}
	if x, ok := timeOf(a); ok {
		if y, ok := timeOf(b); ok {
			switch op {
			case opLess:
				return x.Before(y)
			case opMore:
				return x.After(y)
			case opLessEq:
				return x.Before(y) || x.Equal(y)
			}
			return x.After(y) || x.Equal(y)
		}
	}
	if x, ok := durOf(a); ok {
		if y, ok := durOf(b); ok {
			return ordered(op, int(x), int(y))
		}
	}
	switch op {
	case opLess:
		return runtime.Less(a.box(), b.box())
	case opMore:
		return runtime.More(a.box(), b.box())
	case opLessEq:
		return runtime.LessOrEqual(a.box(), b.box())
	}
	return runtime.MoreOrEqual(a.box(), b.box())
}

// scalar reports the unboxed values and the strings, booleans and
// numbers held in a, which runtime.Equal finds unequal to nil.
func (v value) scalar() bool {
	if v.k != kAny {
		return true
	}
	switch v.a.(type) {
	case string, float64, int64, int, bool:
		return true
	}
	return false
}

// equal is runtime.Equal.
func equal(a, b value) bool {
	if x, y, fx, fy, floats, ok := numPair(a, b); ok {
		if floats {
			return fx == fy
		}
		return x == y
	}
	if x, ok := a.str(); ok {
		if y, ok := b.str(); ok {
			return x == y
		}
	}
	if a.k == kBool || b.k == kBool {
		if x, ok := a.box().(bool); ok {
			if y, ok := b.box().(bool); ok {
				return x == y
			}
		}
	}
	if a.k == kTime && b.k == kTime {
		return a.n == b.n && a.x == b.x // Equal: the same instant
	}
	if x, ok := timeOf(a); ok {
		if y, ok := timeOf(b); ok {
			return x.Equal(y)
		}
	}
	if x, ok := durOf(a); ok {
		if y, ok := durOf(b); ok {
			return x == y
		}
	}
	if (a.k == kAny && a.a == nil && b.scalar()) || (b.k == kAny && b.a == nil && a.scalar()) {
		return false
	}
	return runtime.Equal(a.box(), b.box())
}

// arith is an arithmetic operator.
type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
	opPow
)

// arith is runtime.Add, Subtract, Multiply, Divide, Modulo and Exponent:
// integers give an int, a float64 among numbers gives a float64, / always
// a float64; strings add, times and durations add and subtract; the rest
// goes to expr's runtime.
func arith(op arithOp, a, b value) value {
	if x, y, af, bf, floats, ok := numPair(a, b); ok {
		if !floats {
			switch op {
			case opAdd:
				return intV(x + y)
			case opSub:
				return intV(x - y)
			case opMul:
				return intV(x * y)
			case opMod:
				return intV(x % y)
			}
		}
		switch op {
		case opAdd:
			return floatV(af + bf)
		case opSub:
			return floatV(af - bf)
		case opMul:
			return floatV(af * bf)
		case opDiv:
			return floatV(af / bf)
		case opPow:
			return floatV(math.Pow(af, bf))
		}
		// % of floats: expr's runtime refuses it
	}
	switch op {
	case opAdd:
		if x, ok := a.str(); ok {
			if y, ok := b.str(); ok {
				return anyV(x + y)
			}
		}
		if t, ok := timeOf(a); ok {
			if d, ok := durOf(b); ok {
				return timeV(t.Add(d))
			}
		}
		if d, ok := durOf(a); ok {
			if t, ok := timeOf(b); ok {
				return timeV(t.Add(d))
			}
			if e, ok := durOf(b); ok {
				return durV(d + e)
			}
		}
		return constV(runtime.Add(a.box(), b.box()))
	case opSub:
		if t, ok := timeOf(a); ok {
			if u, ok := timeOf(b); ok {
				return durV(t.Sub(u))
			}
			if d, ok := durOf(b); ok {
				return timeV(t.Add(-d))
			}
		}
		if d, ok := durOf(a); ok {
			if e, ok := durOf(b); ok {
				return durV(d - e)
			}
		}
		return constV(runtime.Subtract(a.box(), b.box()))
	case opMul:
		return constV(runtime.Multiply(a.box(), b.box()))
	case opDiv:
		return floatV(runtime.Divide(a.box(), b.box()))
	case opMod:
		return intV(runtime.Modulo(a.box(), b.box()))
	}
	return floatV(runtime.Exponent(a.box(), b.box()))
}

// negate is runtime.Negate, which keeps the type of the number.
func negate(v value) value {
	switch v.k {
	case kInt, kInt64:
		return value{k: v.k, n: -v.n}
	case kFloat:
		return floatV(-v.float())
	case kAny:
		switch x := v.a.(type) {
		case float64:
			return floatV(-x)
		case int64:
			return int64V(-x)
		case int:
			return intV(-x)
		}
	}
	return constV(runtime.Negate(v.box()))
}

// in is runtime.In(needle, list) for lists and maps of events; sets of
// constants are looked up by the caller.
func in(needle, list value) bool {
	if list.k == kAny {
		switch l := list.a.(type) {
		case []any:
			for _, e := range l {
				if equal(anyV(e), needle) {
					return true
				}
			}
			return false
		case map[string]any:
			if s, ok := needle.str(); ok {
				_, found := l[s]
				return found
			}
			if needle.k == kAny && needle.a == nil {
				_, found := l[""]
				return found
			}
		}
	}
	return runtime.In(needle.box(), list.box())
}

// stringOp is contains, startsWith or endsWith: false when either side is
// nil, and a string on both sides.
func stringOp(op string, a, b value) bool {
	if a.isNil() || b.isNil() {
		return false
	}
	x, ok := a.str()
	if !ok {
		x = a.box().(string)
	}
	y, ok := b.str()
	if !ok {
		y = b.box().(string)
	}
	switch op {
	case "contains":
		return strings.Contains(x, y)
	case "startsWith":
		return strings.HasPrefix(x, y)
	}
	return strings.HasSuffix(x, y)
}
