package registry

import (
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	var r Registry[int]
	r.Register(1, "one", "one.monitor")
	r.Register(2, "two")
	if v, ok := r.Lookup("one.monitor"); !ok || v != 1 {
		t.Errorf("Lookup(one.monitor) = %v, %v", v, ok)
	}
	if _, ok := r.Lookup("three"); ok {
		t.Error("Lookup(three) found something")
	}
	if got := r.Names(); !slices.Equal(got, []string{"one", "one.monitor", "two"}) {
		t.Errorf("Names() = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate name did not panic")
		}
	}()
	r.Register(3, "two")
}
