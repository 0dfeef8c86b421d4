package monitors

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startCopies runs n copies of sleep under the given file name and stops
// them when the test ends.
func startCopies(t *testing.T, name string, n int) []*exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range n {
		cmd := exec.Command(bin, "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cmds = append(cmds, cmd)
	}
	return cmds
}

func checkPs(t *testing.T, args ...string) Result {
	t.Helper()
	return mustNew(t, "ps.monitor", args...).Check(context.Background(), Request{})
}

func TestPsCounts(t *testing.T) {
	name := fmt.Sprintf("gomonps%d", os.Getpid()%100000)
	startCopies(t, name, 3)

	if r := checkPs(t, name+":3-3", name+":1-", name+":-5"); r.Exit != 0 || len(r.Output) != 0 {
		t.Errorf("in range: exit %d output %q", r.Exit, r.Output)
	}
	r := checkPs(t, name+":4-", "gomon-absent:1-1", name+":-2")
	// A later argument for the same name replaces the earlier one but
	// keeps its place.
	want := fmt.Sprintf("%[1]s:3 gomon-absent:0 \n%[1]s:3 > 2 (3-2)\ngomon-absent:0 < 1 (1-1)\n", name)
	if r.Exit != 1 || string(r.Output) != want {
		t.Errorf("out of range: exit %d output\n%q\nwant\n%q", r.Exit, r.Output, want)
	}
	if !hasValue(r, "", name, 3) {
		t.Errorf("values %v", r.Values)
	}
	// Script quirk kept: 0 means "no bound", so :0-0 never fails.
	if r := checkPs(t, name+":0-0"); r.Exit != 0 {
		t.Errorf(":0-0: exit %d output %q", r.Exit, r.Output)
	}
}

func TestPsLongName(t *testing.T) {
	name := fmt.Sprintf("gomon-long-process-name-%d", os.Getpid())
	startCopies(t, name, 2)
	if r := checkPs(t, name+":2-2", name[:15]+":2-2"); r.Exit != 0 {
		t.Errorf("exit %d output %q", r.Exit, r.Output)
	}
}

func TestPsInterpreter(t *testing.T) {
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("no perl")
	}
	script := filepath.Join(t.TempDir(), fmt.Sprintf("gomon%d.pl", os.Getpid()))
	if err := os.WriteFile(script, []byte("sleep 300;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(perl, script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	r := mustNew(t, "ps.monitor", "-x", fmt.Sprint(cmd.Process.Pid)).Check(context.Background(), Request{})
	if want := fmt.Sprintf("PID:%d has name %q\n", cmd.Process.Pid, filepath.Base(script)); string(r.Output) != want {
		t.Errorf("-x: %q, want %q", r.Output, want)
	}
	if r := checkPs(t, filepath.Base(script)+":1-1"); r.Exit != 0 {
		t.Errorf("exit %d output %q", r.Exit, r.Output)
	}
}

func TestPsBadArgs(t *testing.T) {
	if _, err := builtins.Lookup("ps").New(nil); err == nil {
		t.Error("no arguments: want an error")
	}
	for _, args := range [][]string{{"sshd"}, {"-x"}, {"-x", "abc"}} {
		_, err := builtins.Lookup("ps").New(args)
		if err == nil {
			t.Errorf("%q: want an error", args)
		} else if args[0] == "sshd" && !strings.Contains(err.Error(), `Can't parse "sshd"`) {
			t.Errorf("%q: error %v", args, err)
		}
	}
}
