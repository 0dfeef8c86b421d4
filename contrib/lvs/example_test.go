// Package lvs_test checks the LVS director example in this directory:
// that both config files load to the same configuration and that its lvs
// alert lines do what the comments say.
package lvs_test

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/internal/auth"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/shellwords"
	"github.com/gomon/gomon/scheduler/decide"
)

// mon.cf and mon.hcl load to the same configuration, with
// both periods (a blank line inside a watch would silently drop them).
func TestContribLVSConfigs(t *testing.T) {
	var printed []string
	for _, name := range []string{"mon.cf", "mon.hcl"} {
		c, err := configfile.Load(name, configfile.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(c.Watches[0].Services[0].Periods); n != 2 {
			t.Errorf("%s: %d periods, want 2", name, n)
		}
		var b strings.Builder
		if err := configfile.WriteHCL(&b, c); err != nil {
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
	lines := map[string]*lvs.Alert{} // "alert" / "upalert"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		words, err := shellwords.Split(sc.Text())
		if err != nil || len(words) < 2 || words[1] != "lvs.alert" {
			continue
		}
		l, err := lvs.Parse(words[2:])
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
	if err := lines["upalert"].Send(ctx, alerts.Event{Hosts: members, Type: decide.UpAlert, Input: []byte("192.168.0.1 192.168.0.2\n")}); err != nil {
		t.Fatal(err)
	}
	if err := lines["alert"].Send(ctx, alerts.Event{Hosts: members, Type: decide.FailureAlert, Input: []byte(output)}); err != nil {
		t.Fatal(err)
	}
	if err := lines["upalert"].Send(ctx, alerts.Event{Hosts: members, Type: decide.UpAlert, Input: []byte(output)}); err != nil {
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

// mon.service starts the daemon with options it accepts (the real binary
// checks the configuration with them), and its ExecStop is allowed by
// auth.cf without a login.
func TestContribLVSUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gomon")
	}
	unit, err := os.ReadFile("mon.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	if keys["Type"] != "notify" {
		t.Errorf("Type=%s, want notify (gomon speaks sd_notify)", keys["Type"])
	}
	argv, err := shellwords.Split(keys["ExecStart"])
	if err != nil || len(argv) < 2 {
		t.Fatalf("ExecStart=%s: %v", keys["ExecStart"], err)
	}
	// The installed paths become this directory's files.
	local := map[string]string{"/etc/mon/mon.cf": "mon.cf", "/etc/mon/auth.cf": "auth.cf"}
	args := []string{"-C"}
	for _, a := range argv[1:] {
		if l, ok := local[a]; ok {
			a = l
		}
		args = append(args, a)
	}
	bin := filepath.Join(t.TempDir(), "mon")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mon").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK") {
		t.Errorf("mon %q: %v\n%s", args, err, out)
	}

	stop, _ := shellwords.Split(strings.TrimPrefix(keys["ExecStop"], "-"))
	if len(stop) < 2 || stop[len(stop)-2] != "savestate" {
		t.Fatalf("ExecStop=%s: want moncmd … savestate WHAT", keys["ExecStop"])
	}
	tab, err := auth.Load("auth.cf")
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := tab.Allowed("", false, "savestate"); !ok {
		t.Errorf("auth.cf denies savestate without a login: %s", why)
	}
}
