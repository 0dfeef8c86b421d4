package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// stripPositions clears what legitimately differs between two readings of
// the same configuration: positions, warnings and the file name.
func stripPositions(c *config.Config) {
	c.Source, c.Warnings = "", nil
	for _, g := range c.HostGroups {
		g.Pos = config.Pos{}
	}
	for _, v := range c.Views {
		v.Pos = config.Pos{}
	}
	for _, a := range c.Aliases {
		a.Pos = config.Pos{}
	}
	for _, w := range c.Watches {
		w.Pos = config.Pos{}
		for _, s := range w.Services {
			s.Pos = config.Pos{}
			for _, r := range s.SNMPTraps {
				r.Pos = config.Pos{}
			}
			for _, d := range s.Downtimes {
				d.Pos = config.Pos{}
			}
			for _, p := range s.Periods {
				p.Pos = config.Pos{}
				for _, list := range [][]config.AlertLine{p.Alerts, p.UpAlerts, p.StartupAlerts, p.AckAlerts, p.DisableAlerts} {
					for i := range list {
						list[i].Pos = config.Pos{}
					}
				}
			}
		}
	}
}

func sameModel(t *testing.T, a, b *config.Config) {
	t.Helper()
	stripPositions(a)
	stripPositions(b)
	if !reflect.DeepEqual(a.Globals, b.Globals) {
		t.Errorf("globals differ:\n%+v\n%+v", a.Globals, b.Globals)
	}
	for i := range a.Watches {
		if i < len(b.Watches) && !reflect.DeepEqual(a.Watches[i], b.Watches[i]) {
			for j := range a.Watches[i].Services {
				if j < len(b.Watches[i].Services) && !reflect.DeepEqual(a.Watches[i].Services[j], b.Watches[i].Services[j]) {
					t.Errorf("watch %s service %d differs:\n%+v\n%+v", a.Watches[i].Name, j, a.Watches[i].Services[j], b.Watches[i].Services[j])
				}
			}
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("models differ:\n%+v\n%+v", a, b)
	}
}

// TestConvertFixtures converts every mon.cf fixture to HCL and back.
func TestConvertFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.cf"))
	if len(files) < 5 {
		t.Fatalf("fixtures missing: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			orig := parseFixture(t, filepath.Base(f))
			var buf bytes.Buffer
			if err := WriteHCL(&buf, orig); err != nil {
				t.Fatal(err)
			}
			back, err := ParseHCL("converted.hcl", buf.Bytes())
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			if got, want := monWarnings(back), monWarnings(orig); !reflect.DeepEqual(got, want) {
				t.Errorf("mon warnings %q, want %q", got, want)
			}
			sameModel(t, orig, back)
			if t.Failed() {
				t.Logf("HCL:\n%s", buf.String())
			}
		})
	}
}

// TestLVSExampleBothFormats: the documented LVS example loads to the same
// model from lvs.cf and lvs.hcl.
func TestLVSExampleBothFormats(t *testing.T) {
	a, err := Load(filepath.Join(fixtures, "lvs.cf"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(filepath.Join(fixtures, "lvs.hcl"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, a, b)
}

func TestHCLErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, legacy string
	}{
		{"syntax", "watch \"g\" {\n", "cf error: Unclosed configuration block, line 1"},
		{"unknown attribute", "frobnicate = 1\n", "cf error: Unsupported argument, line 1"},
		{"unknown block", "\nservice \"s\" {}\n", "cf error: Unsupported block type, line 2"},
		{"shared validation", "hostgroup \"g\" { hosts = [\"h\"] }\nwatch \"g\" {\n  service \"s\" {\n    interval = \"60\"\n  }\n}\n",
			"cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 4"},
		{"alert line position", "watch \"g\" {\n  service \"s\" {\n    period \"\" {\n      alert = [\n        \"a.alert\",\n        \"exit = 1 b.alert\",\n      ]\n    }\n  }\n}\n",
			"cf error: invalid exit code range in alert line 'exit = 1 b.alert', line 6"},
		{"bad period label", "watch \"g\" {\n  service \"s\" {\n    period \"a b\" { when = \"wd {Mon}\" }\n  }\n}\n",
			"cf error: invalid period label 'a b', line 3"},
		{"bad env name", "watch \"g\" {\n  service \"s\" {\n    env = { lower = \"x\" }\n  }\n}\n",
			"cf error: invalid environment variable in env, line 3"},
		{"variables not allowed", "maxprocs = var.x\n", "cf error: Variables not allowed, line 1"},
		{"duplicate service", "watch \"g\" {\n  service \"s\" {}\n  service \"s\" {}\n}\n",
			"cf error: service s already defined for watch group g, line 3"},
		{"bad hostgroup name", "hostgroup \"a b\" { hosts = [] }\n", "cf error: invalid hostgroup name 'a b', line 1"},
		{"list for a string", "basedir = [\"a\"]\n", "cf error: attribute basedir must be a string, line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHCL("x.hcl", []byte(tc.src))
			e, ok := err.(*Error)
			if !ok || e.Legacy() != tc.legacy {
				t.Errorf("ParseHCL = %v\nwant legacy %q", err, tc.legacy)
			}
		})
	}
}

func TestHCLValues(t *testing.T) {
	src := `
dtlogging = true
maxprocs  = 5
mondir    = ["/a", "b/"]
clientallow = "127.0.0.1 10.0.0.1"
dep_behavior = "m"

hostgroup "g" { hosts = ["h1", "h2"] }

watch "g" {
  service "s" {
    interval          = "1.5m"
    allow_empty_group = false
    env = { B = "2", A = "1" }
    period "night" {
      when       = "hr {10pm-6am}"
      alertafter = 3
      alert      = ["mail.alert \"a b\" c"]
      no_comp_alerts = true
    }
  }
}
`
	c, err := ParseHCL("x.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Globals
	if !g.DtLogging || g.MaxProcs != 5 || !reflect.DeepEqual(g.MonDir, []string{"/a", "b"}) || len(g.ClientAllow) != 2 {
		t.Errorf("globals = %+v", g)
	}
	s := c.Watch("g").Service("s")
	if s.Interval.Seconds() != 90 || s.AllowEmptyGroup || s.DepBehavior != config.DepMonitor ||
		!reflect.DeepEqual(s.Env, []config.EnvVar{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}}) {
		t.Errorf("service = %+v", s)
	}
	p := s.Periods[0]
	if p.Key != "night" || p.Label != "night" || p.Spec.String() != "hr {10pm-6am}" || p.AlertAfterCount != 3 ||
		!p.NoCompAlerts || !reflect.DeepEqual(p.Alerts[0].Args, []string{"a b", "c"}) || p.Alerts[0].Pos.Line != 18 {
		t.Errorf("period = %+v", p)
	}
}

func TestLoadPicksHCLByExtension(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.hcl")
	if err := os.WriteFile(p, []byte("maxprocs = 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, LoadOptions{})
	if err != nil || c.Globals.MaxProcs != 9 {
		t.Errorf("Load = %v, %v", c, err)
	}
}
