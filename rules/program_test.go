package rules

import (
	"reflect"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// TestDropTreeStillApplies fails when an expr upgrade renames the field
// that dropTree clears: the contract memory bounds depend on it.
func TestDropTreeStillApplies(t *testing.T) {
	if !reflect.ValueOf(vm.Program{}).FieldByName("node").IsValid() {
		t.Fatal("vm.Program has no field node any more: dropTree does nothing, compiled contracts keep their syntax trees")
	}
	p, err := expr.Compile("a > 1 && b < 2", expr.AllowUndefinedVariables())
	if err != nil {
		t.Fatal(err)
	}
	dropTree(p)
	if p.Node() != nil {
		t.Fatal("dropTree left the tree")
	}
	out, err := expr.Run(p, map[string]any{"a": 2, "b": 1})
	if err != nil || out != true {
		t.Fatalf("the program no longer runs after dropTree: %v %v", out, err)
	}
}
