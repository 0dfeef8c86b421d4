package main

import (
	"reflect"
	"testing"

	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// The reconcilers see each service's hosts split into checked and
// unchecked (disabled, exclude_hosts), and a disabled service or watch as
// disabled.
func TestSchedHealth(t *testing.T) {
	cf := `hostgroup web h1 h2 h3
hostgroup db d1

watch web
    service http
        interval 1m
        monitor true.monitor
        exclude_hosts h3
    service ping
        interval 1m
        monitor true.monitor

watch db
    service sql
        interval 1m
        monitor true.monitor
`
	cfg, err := configfile.Parse("mon.cf", []byte(cf), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sched := scheduler.New(cfg, scheduler.Options{Stopped: true})
	sched.DisableHosts([]string{"h1"})
	if err := sched.DisableService("web", "ping", ""); err != nil {
		t.Fatal(err)
	}
	if err := sched.DisableWatch("db"); err != nil {
		t.Fatal(err)
	}
	type view struct {
		Group, Name        string
		Disabled           bool
		Members, Unchecked []string
		Status             decide.Status
	}
	var got []view
	for _, s := range (&schedHealth{sched}).Services() {
		if s.Config == nil {
			t.Errorf("%s/%s: no configuration", s.Group, s.Name)
		}
		got = append(got, view{s.Group, s.Name, s.Disabled, s.Members, s.Unchecked, s.State.OpStatus})
	}
	want := []view{
		{"web", "http", false, []string{"h2"}, []string{"h1", "h3"}, decide.Untested},
		{"web", "ping", true, []string{"h2", "h3"}, []string{"h1"}, decide.Untested},
		{"db", "sql", true, []string{"d1"}, nil, decide.Untested},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("services\n%+v\nwant\n%+v", got, want)
	}
}
