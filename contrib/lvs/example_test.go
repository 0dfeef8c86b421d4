// Package lvs_test checks the LVS director example in this directory:
// that both config files load to the same configuration and that its lvs
// alert lines do what the comments say.
package lvs_test

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/shellwords"
	"github.com/gomon/gomon/scheduler/config"
)

// mon.cf and mon.hcl load to the same configuration, with
// both periods (a blank line inside a watch would silently drop them).
func TestContribLVSConfigs(t *testing.T) {
	var printed []string
	for _, name := range []string{"mon.cf", "mon.hcl"} {
		c, err := config.Load(name, config.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(c.Watches[0].Services[0].Periods); n != 2 {
			t.Errorf("%s: %d periods, want 2", name, n)
		}
		var b strings.Builder
		if err := config.WriteHCL(&b, c); err != nil {
			t.Fatal(err)
		}
		printed = append(printed, b.String())
	}
	if printed[0] != printed[1] {
		t.Errorf("mon.cf loads as\n%s\nmon.hcl as\n%s", printed[0], printed[1])
	}
}

// The lvs lines of mon.cf do what its comments say, against
// an in-memory table (no packets go anywhere).
func TestContribLVSExample(t *testing.T) {
	f, err := os.Open("mon.cf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table := ipvs.NewFake()
	lines := map[string]*alerts.LVS{} // "alert" / "upalert"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		words, err := shellwords.Split(sc.Text())
		if err != nil || len(words) < 2 || words[1] != "lvs.alert" {
			continue
		}
		l, err := alerts.ParseLVS(words[2:])
		if err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		l.Open = func() (ipvs.Director, func(), error) { return table, func() {}, nil }
		lines[words[0]] = l
	}
	if lines["alert"] == nil || lines["upalert"] == nil {
		t.Fatal("mon.cf has no lvs alert/upalert lines")
	}
	members := []string{"192.168.0.1", "192.168.0.2"}
	output := "192.168.0.2\nHOST 192.168.0.2: HTTP response code failure\n"
	ctx := context.Background()
	if err := lines["upalert"].Send(ctx, alerts.Event{Hosts: members, Type: alerts.Up, Input: []byte("192.168.0.1 192.168.0.2\n")}); err != nil {
		t.Fatal(err)
	}
	if err := lines["alert"].Send(ctx, alerts.Event{Hosts: members, Type: alerts.Failure, Input: []byte(output)}); err != nil {
		t.Fatal(err)
	}
	if err := lines["upalert"].Send(ctx, alerts.Event{Hosts: members, Type: alerts.Up, Input: []byte(output)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"add-service tcp 10.0.0.3:80 wlc",
		"add-real tcp 10.0.0.3:80 192.168.0.1:80 dr 1",
		"add-real tcp 10.0.0.3:80 192.168.0.2:80 dr 1",
		"delete-real tcp 10.0.0.3:80 192.168.0.2:80",
		"add-real tcp 10.0.0.3:80 192.168.0.2:80 dr 1",
	}
	if got := table.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	list, _ := table.Services(ctx)
	if len(list) != 1 || list[0].Addr != netip.MustParseAddrPort("10.0.0.3:80") || len(list[0].Reals) != 2 {
		t.Errorf("table %+v", list)
	}
}
