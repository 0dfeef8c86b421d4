package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/testnet"
)

// TestDropInMonitorsUnderPerlMon runs gomon's built-ins as drop-in
// scripts (links to the mon binary named tcp.monitor, http.monitor,
// fping.monitor) under the original Perl mon, and checks the statuses and
// alerts mon derives from their output and exit codes.
func TestDropInMonitorsUnderPerlMon(t *testing.T) {
	const perlMon = "/usr/sbin/mon"
	if _, err := os.Stat(perlMon); err != nil {
		t.Skip("the original mon is not installed (apt-get install mon)")
	}
	bin := monBinary(t)
	dir := t.TempDir()
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	for _, name := range []string{"tcp.monitor", "http.monitor", "fping.monitor"} {
		if err := os.Symlink(bin, filepath.Join(dir, "mon.d", name)); err != nil {
			t.Fatal(err)
		}
	}
	// The alert records the service and its stdin, one file per service.
	alert := "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -s ] && svc=$2; shift; done\ncat > \"" + dir + "/alert.$svc.tmp\"\nmv \"" + dir + "/alert.$svc.tmp\" \"" + dir + "/alert.$svc\"\n"
	if err := os.WriteFile(filepath.Join(dir, "alert.d", "rec.alert"), []byte(alert), 0o755); err != nil {
		t.Fatal(err)
	}

	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	go func() {
		for {
			c, err := open.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed := testnet.Port(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(hl)
	defer srv.Close()

	cfg := fmt.Sprintf(`hostgroup local 127.0.0.1

watch local
    service tcp-ok
        interval 1s
        monitor tcp.monitor -p %d -t 5
        period
            alert rec.alert
    service tcp-bad
        interval 1s
        monitor tcp.monitor -p %d -t 5
        period
            alert rec.alert
    service http-bad
        interval 1s
        monitor http.monitor -p %d -t 5
        period
            alert rec.alert
    service ping
        interval 1s
        monitor fping.monitor -r 1 -t 500
        period
            alert rec.alert
`, open.Addr().(*net.TCPAddr).Port, closed, hl.Addr().(*net.TCPAddr).Port)
	os.WriteFile(filepath.Join(dir, "mon.cf"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "auth.cf"), []byte("command section\nlist: all\n\ntrap section\n"), 0o644)

	port := testnet.Port(t)
	cmd := exec.Command(perlMon, "-c", filepath.Join(dir, "mon.cf"), "-p", fmt.Sprint(port), "-t", fmt.Sprint(port),
		"-b", dir, "-B", dir, "-D", filepath.Join(dir, "state"), "-L", filepath.Join(dir, "log"),
		"-P", filepath.Join(dir, "mon.pid"), "-a", filepath.Join(dir, "alert.d"), "-s", filepath.Join(dir, "mon.d"),
		"-A", filepath.Join(dir, "auth.cf"))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr await.Output // mon writes while the test may read
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})

	// Failing services: mon ran the alert with the drop-in's output.
	waitAlert := func(name string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b, err := await.File(ctx, filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatalf("%v; mon said:\n%s", err, stderr.String())
		}
		return string(b)
	}
	tcpBad := waitAlert("alert.tcp-bad")
	if !strings.HasPrefix(tcpBad, "127.0.0.1\n") || !strings.Contains(tcpBad, "127.0.0.1") {
		t.Errorf("tcp-bad alert input %q: summary should be the failing host", tcpBad)
	}
	httpBad := waitAlert("alert.http-bad")
	if !strings.HasPrefix(httpBad, "127.0.0.1\n") || !strings.Contains(httpBad, "500") {
		t.Errorf("http-bad alert input %q", httpBad)
	}

	// Passing services: mon saw exit 0.
	var ok map[string]string
	poll(30*time.Second, func() bool {
		ok = opstatusByService(t, port)
		return ok["tcp-ok"] == "1" && ok["ping"] == "1"
	})
	if ok["tcp-ok"] != "1" || ok["ping"] != "1" || ok["tcp-bad"] != "0" || ok["http-bad"] != "0" {
		t.Errorf("opstatus by service %v; mon said:\n%s", ok, stderr.String())
	}
	for _, svc := range []string{"tcp-ok", "ping"} {
		if _, err := os.Stat(filepath.Join(dir, "alert."+svc)); err == nil {
			t.Errorf("%s alerted although it passes", svc)
		}
	}
}

// opstatusByService asks a mon server for `list opstatus` and returns
// each service's opstatus field.
func opstatusByService(t *testing.T, port int) map[string]string {
	t.Helper()
	c, err := protocol.Dial(fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	data, _, err := c.Command("list opstatus")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range data {
		var svc, st string
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "service":
				svc = v
			case "opstatus":
				st = v
			}
		}
		out[svc] = st
	}
	return out
}
