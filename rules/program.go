package rules

import (
	"reflect"
	"unsafe"

	"github.com/expr-lang/expr/vm"
)

// dropTree lets go of the typed syntax tree a compiled program keeps
// (vm.Program.Node, used by nothing that runs it): it is most of the
// program's memory, some hundreds of bytes per node.
func dropTree(p *vm.Program) {
	if p == nil {
		return
	}
	f := reflect.ValueOf(p).Elem().FieldByName("node")
	if !f.IsValid() {
		return // a version of expr without it
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.Zero(f.Type()))
}
