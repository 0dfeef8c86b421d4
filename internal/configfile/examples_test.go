package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// monWarnings returns the warnings mon itself prints, sorted (mon prints
// the hostgroup warnings in hash order).
func monWarnings(c *config.Config) []string {
	var ws []string
	for _, d := range c.Warnings {
		if d.Legacy != "" {
			ws = append(ws, d.Legacy)
		}
	}
	sort.Strings(ws)
	return ws
}

// TestFixturesLoad loads each mon.cf fixture and checks its shape and the
// warnings mon would print.
func TestFixturesLoad(t *testing.T) {
	for _, tc := range []struct {
		file        string
		watches     int
		services    int
		monWarnings []string
	}{
		{"full.cf", 2, 5, nil},
		{"annotated.cf", 1, 3, nil},
		{"lvs.cf", 1, 1, nil},
		{"debian-etc-shape.cf", 1, 3, nil},
		{"debian-very-simple-shape.cf", 1, 2, []string{"Warning: hostgroup mail has no watch assigned to it!"}},
		{"debian-example-shape.cf", 10, 15, []string{
			"Warning: hostgroup spare has no watch assigned to it!",
			"Warning: watch group mailrelay defined with no corresponding hostgroup.",
			"Warning: watch group modems defined with no corresponding hostgroup.",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := parseFixture(t, tc.file)
			services := 0
			for _, w := range c.Watches {
				services += len(w.Services)
			}
			if len(c.Watches) != tc.watches || services != tc.services {
				t.Errorf("%d watches, %d services; want %d, %d", len(c.Watches), services, tc.watches, tc.services)
			}
			if got := monWarnings(c); !reflect.DeepEqual(got, tc.monWarnings) {
				t.Errorf("mon warnings = %q\nwant %q", got, tc.monWarnings)
			}
		})
	}
}

func parseFixture(t *testing.T, name string) *config.Config {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(name, src, LoadOptions{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestDebianExampleShape(t *testing.T) {
	c := parseFixture(t, "debian-example-shape.cf")
	if !hasWarning(c, "debian-example-shape.cf:79: warning: depend: no operator before") {
		t.Errorf("the space-separated depend list must warn: %q", warnings(c))
	}
	s := c.Watch("filers").Service("freespace")
	if s.Monitor != "freespace.monitor /nas-1:4000 /nas-2:4000 ;;" || s.Periods[0].AlertEvery.String() != "1h0m0s" {
		t.Errorf("freespace = %+v", s)
	}
	up := c.Watch("webfarm").Service("http").Periods[0].UpAlerts[0]
	if !reflect.DeepEqual(up.Args, []string{"-S", "the web farm answers again", "ops"}) {
		t.Errorf("upalert args = %q", up.Args)
	}
	if p := c.Watch("gateways").Service("ping").Periods[1]; p.Key != "LOGFILE" || p.Spec.String() != "wd {Sun-Sat}" {
		t.Errorf("labelled period = %+v", p)
	}
	if c.Watch("mailrelay").Service("fping").Interval != 0 {
		t.Error("a service without interval is never polled")
	}
}

func TestDebianExampleShapeM4(t *testing.T) {
	needM4(t)
	c, err := Load(filepath.Join(fixtures, "debian-example-shape.m4"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Watch("servers").Service("ping").Periods[1]
	if p.Key != "NIGHT" || p.Spec.String() != "wd {Mon-Fri} hr {9pm-8am}, wd {Sat Sun}" ||
		!reflect.DeepEqual(p.Alerts[0].Args, []string{"carol"}) {
		t.Errorf("period = %+v", p)
	}
	if c.Globals.MonDir[0] != "/srv/mon/mon.d" {
		t.Errorf("mondir = %q", c.Globals.MonDir)
	}
}

// TestDebianOriginals loads the configurations Debian's mon package ships,
// when they are installed on this machine.
func TestDebianOriginals(t *testing.T) {
	for _, tc := range []struct {
		path        string
		m4          bool
		monWarnings int
	}{
		{"/etc/mon/mon.cf", false, 0},
		{"/usr/share/doc/mon/examples/very-simple.cf", false, 1},
		{"/usr/share/doc/mon/examples/example.cf.gz", false, 4},
		{"/usr/share/doc/mon/examples/example.m4.gz", true, 4},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			src, err := readMaybeGzip(tc.path)
			if os.IsNotExist(err) {
				t.Skipf("%s is not installed (apt-get install mon provides it)", tc.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			var c *config.Config
			if tc.m4 {
				needM4(t)
				p := filepath.Join(t.TempDir(), "example.m4")
				writeFile(t, p, string(src), 0o644)
				c, err = Load(p, LoadOptions{})
			} else {
				c, err = Parse(tc.path, src, LoadOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Watches) == 0 || len(monWarnings(c)) != tc.monWarnings {
				t.Errorf("%d watches, mon warnings %q", len(c.Watches), monWarnings(c))
			}
		})
	}
}

func readMaybeGzip(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return data, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
