package configfile

import (
	"reflect"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// Services that differ only in name and position share their spec; any
// other difference, and a period (which has its own position), keeps
// them apart. A shared spec carries nothing of the service read before.
func TestSharedSpecs(t *testing.T) {
	c := parseOK(t, `hostgroup a h1
hostgroup b h2

watch a
    service ping
        interval 10s
        monitor ping.monitor
    service http
        interval 10s
        monitor http.monitor
        description web
        period wd {Sun-Sat}
            alert mail.alert root
    service tcp
        interval 10s
        monitor ping.monitor

watch b
    service ping
        interval 10s
        monitor ping.monitor
    service slow
        interval 20s
        monitor ping.monitor
    service http
        interval 10s
        monitor http.monitor
        description web
        period wd {Sun-Sat}
            alert mail.alert root
`)
	a, b := c.Watch("a"), c.Watch("b")
	same := func(x, y *config.Service) bool { return x.ServiceSpec == y.ServiceSpec }
	if !same(a.Service("ping"), b.Service("ping")) || !same(a.Service("ping"), a.Service("tcp")) {
		t.Error("services alike but for name and position have specs of their own")
	}
	if same(a.Service("ping"), b.Service("slow")) {
		t.Error("services of different intervals share a spec")
	}
	if same(a.Service("http"), b.Service("http")) {
		t.Error("services with periods share a spec")
	}
	if got := b.Service("slow"); got.Interval != 20*time.Second || got.Description != "" || len(got.Periods) != 0 {
		t.Errorf("b/slow = %+v; want its own interval, no description, no period", *got.ServiceSpec)
	}
	if got := a.Service("tcp"); got.Description != "" || len(got.Periods) != 0 {
		t.Errorf("a/tcp has the previous service's description or periods: %+v", *got.ServiceSpec)
	}
	if a.Service("ping").Pos == b.Service("ping").Pos {
		t.Error("services sharing a spec share a position")
	}
}

// Every field of ServiceSpec either is in the sharing key or keeps a
// spec that sets it from being shared: a field added to the spec and not
// to the key would make services that differ in it share one spec.
func TestSpecKeyCoversSpec(t *testing.T) {
	var zero config.ServiceSpec
	zk, ok := keyOf(&zero)
	if !ok {
		t.Fatal("the zero spec is not shared")
	}
	typ := reflect.TypeOf(zero)
	for i := range typ.NumField() {
		f := typ.Field(i)
		var sp config.ServiceSpec
		v := reflect.ValueOf(&sp).Elem().Field(i)
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int64:
			v.SetInt(1)
		case reflect.String:
			v.SetString("x")
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		default:
			t.Fatalf("field %s: kind %v not covered by this test", f.Name, v.Kind())
		}
		if k, ok := keyOf(&sp); ok && k == zk {
			t.Errorf("field %s: a spec setting it shares the key of the zero spec", f.Name)
		}
	}
}
