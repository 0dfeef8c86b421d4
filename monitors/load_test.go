package monitors

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestLoadavg(t *testing.T) {
	if r := checkLocal(t, "loadavg.monitor", "1000", "1000", "1000", "100"); r.Exit != 0 || len(r.Output) != 0 {
		t.Errorf("generous limits: exit %d output %q", r.Exit, r.Output)
	}
	// Some RAM is always in use.
	r := checkLocal(t, "loadavg.monitor", "1000", "1000", "1000", "0")
	if r.Exit != 1 || !regexp.MustCompile(`^Swap\+RAM Use: \d+% > 0%\n`).Match(r.Output) {
		t.Errorf("swap limit 0: exit %d output %q", r.Exit, r.Output)
	}
	if !strings.Contains(string(r.Output), "\nSwap Used: ") {
		t.Errorf("detail lacks swap use:\n%s", r.Output)
	}
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	if l1, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64); l1 > 0.5 {
		r := checkLocal(t, "loadavg.monitor", "0", "1000", "1000")
		if r.Exit != 1 || !regexp.MustCompile(`^\d+\.\d\d \d+\.\d\d \d+\.\d\d >= 0 1000 1000\n`).Match(r.Output) {
			t.Errorf("load limit 0: exit %d output %q", r.Exit, r.Output)
		}
	}
	for _, args := range [][]string{{"1", "2"}, {"1", "2", "3", "4", "5"}, {"1", "x", "3"}} {
		if _, err := builtins.Lookup("loadavg").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func TestLoadDetail(t *testing.T) {
	mem, err := readMeminfo()
	if err != nil {
		t.Fatal(err)
	}
	// A process table must include this test.
	found := false
	for _, p := range readProcTable() {
		found = found || p.pid == os.Getpid()
	}
	if !found {
		t.Error("own process not in the process table")
	}
	if d := loadDetail(mem, 0); !strings.Contains(d, "Swap Used: 0B / ") {
		t.Errorf("detail:\n%s", d)
	}
}

func TestFmt2(t *testing.T) {
	for in, want := range map[float64]string{0: "0B", 999: "999B", 1000: "0.977KB", 1536 * 1024: "1.5MB", 3 << 30: "3GB"} {
		if got := fmt2(in); got != want {
			t.Errorf("fmt2(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestVmstat(t *testing.T) {
	ok := []string{"-sample", "100ms", "-mem-available", "0", "-swap-used", "100", "-iowait", "100", "-steal", "100"}
	r := checkLocal(t, "vmstat", ok...)
	if r.Exit != 0 || len(r.Output) != 0 {
		t.Errorf("generous limits: exit %d output %q", r.Exit, r.Output)
	}
	for _, k := range []string{"mem_available_pct", "swap_used_pct", "iowait_pct", "steal_pct"} {
		if _, ok := r.Value("", k); !ok {
			t.Errorf("value %s missing: %v", k, r.Values)
		}
	}
	r = checkLocal(t, "vmstat", "-sample", "100ms", "-mem-available", "100")
	if r.Exit != 1 || !regexp.MustCompile(`^memory available \d+\.\d% < 100%\nmemory available .* over 100ms\n$`).Match(r.Output) {
		t.Errorf("mem limit 100: exit %d output %q", r.Exit, r.Output)
	}
	for _, args := range [][]string{{"-bogus"}, {"extra"}, {"-sample", "0s"}} {
		if _, err := builtins.Lookup("vmstat").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}
