package monitors

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func checkLocal(t *testing.T, name string, args ...string) Result {
	t.Helper()
	return mustNew(t, name, args...).Check(context.Background(), Request{})
}

func TestFreespace(t *testing.T) {
	st, err := statFS("/")
	if err != nil {
		t.Fatal(err)
	}
	halfM := st.avail / 2 / (1 << 20)
	if r := checkLocal(t, "freespace.monitor", "/:1", fmt.Sprintf("/:%dM", halfM), "/:1%:1"); r.Exit != 0 {
		t.Errorf("enough space: exit %d output %q", r.Exit, r.Output)
	}
	r := checkLocal(t, "freespace.monitor", "/:100%", "/nonmount:1", "/proc:1", fmt.Sprintf("/:%dG:100%%", st.avail/(1<<29)))
	want := regexp.MustCompile(`^(\d+\.\dGB) free on /, /nonmount is not a mount point, statfs error for /proc: .+, (\d+\.\dGB) free on /, \d+ inodes free on /\n$`)
	if r.Exit != 1 || !want.Match(r.Output) {
		t.Errorf("failures: exit %d output %q", r.Exit, r.Output)
	}
	if r := checkLocal(t, "freespace.monitor"); r.Exit != 0 || len(r.Output) != 0 {
		t.Errorf("no arguments: exit %d output %q", r.Exit, r.Output)
	}
	if _, err := builtins.Lookup("freespace").New([]string{"/:lots"}); err == nil {
		t.Error("/:lots: want an error")
	}
}

func TestDf(t *testing.T) {
	if r := checkLocal(t, "df", "/:1K:1"); r.Exit != 0 || !positive(r, "/:free_bytes") {
		t.Errorf("enough space: exit %d output %q values %v", r.Exit, r.Output, r.Values)
	}
	r := checkLocal(t, "df", "-ifree", "100%", "/:100%", "/proc", "/nonmount")
	lines := strings.Split(strings.TrimSpace(string(r.Output)), "\n")
	if r.Exit != 1 || lines[0] != "/ /nonmount /proc" || len(lines) != 4 {
		t.Fatalf("failures: exit %d output\n%s", r.Exit, r.Output)
	}
	if !regexp.MustCompile(`^/: \S+ free of \S+ \(\d+\.\d%\), below 100%; \d+ inodes free \(\d+\.\d%\), below 100%$`).MatchString(lines[1]) {
		t.Errorf("detail %q", lines[1])
	}
	if lines[2] != "/proc: reports no block counts" || lines[3] != "/nonmount: not a mount point" {
		t.Errorf("detail %q", lines[2:])
	}
	// Every mounted filesystem, with thresholds nothing can miss.
	if r := checkLocal(t, "df", "-free", "0%", "-ifree", "0"); r.Exit != 0 {
		t.Errorf("all mounts: exit %d output %q", r.Exit, r.Output)
	}
	if r := checkLocal(t, "df", "-free", "1P"); r.Exit != 1 || !strings.Contains(string(r.Output), "/: ") {
		t.Errorf("all mounts, 1P: exit %d output %q", r.Exit, r.Output)
	}
	for _, args := range [][]string{{"-free", "lots"}, {"-ifree", "5G"}, {"-y"}, {"/:101%"}} {
		if _, err := builtins.Lookup("df").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/mnt/a\040b\134`); got != `/mnt/a b\` {
		t.Errorf("got %q", got)
	}
}
