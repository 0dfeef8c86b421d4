package testnet

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// etcdBin is where Debian's etcd-server package installs etcd.
const etcdBin = "/usr/bin/etcd"

// Etcd is a real etcd cluster on loopback, started by a test.
type Etcd struct {
	t       testing.TB
	dir     string
	Members []*EtcdMember
}

// EtcdMember is one etcd process.
type EtcdMember struct {
	Name      string
	ClientURL string
	peerURL   string
	args      []string
	mu        sync.Mutex
	cmd       *exec.Cmd
	log       *bytes.Buffer
}

// StartEtcd starts an etcd cluster of n members on loopback (ports
// from FreePort) and waits until it answers. It skips the test when
// etcd is not installed (scripts/install-test-deps.sh installs it).
func StartEtcd(t testing.TB, n int) *Etcd {
	t.Helper()
	if _, err := os.Stat(etcdBin); err != nil {
		t.Skip("etcd not installed (Debian package etcd-server)")
	}
	e := &Etcd{t: t, dir: t.TempDir()}
	var initial []string
	for i := range n {
		m := &EtcdMember{Name: fmt.Sprintf("e%d", i)}
		m.ClientURL = fmt.Sprintf("http://127.0.0.1:%d", Port(t))
		m.peerURL = fmt.Sprintf("http://127.0.0.1:%d", Port(t))
		initial = append(initial, m.Name+"="+m.peerURL)
		e.Members = append(e.Members, m)
	}
	for _, m := range e.Members {
		m.args = []string{
			"--name", m.Name, "--data-dir", filepath.Join(e.dir, m.Name),
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", filepath.Base(e.dir),
			// Fast elections: a test kills members on purpose.
			"--heartbeat-interval", "50", "--election-timeout", "500",
		}
		e.Start(m)
	}
	t.Cleanup(func() {
		for _, m := range e.Members {
			m.kill()
		}
	})
	for _, m := range e.Members {
		e.waitUp(m)
	}
	return e
}

// Endpoints are the members' client URLs, comma-separated as
// cluster_etcd takes them.
func (e *Etcd) Endpoints() string {
	var urls []string
	for _, m := range e.Members {
		urls = append(urls, m.ClientURL)
	}
	return strings.Join(urls, ",")
}

// Start (re)starts a member with its data directory.
func (e *Etcd) Start(m *EtcdMember) {
	e.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = &bytes.Buffer{}
	m.cmd = exec.Command(etcdBin, m.args...)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		e.t.Fatalf("etcd %s: %v", m.Name, err)
	}
}

// Kill stops a member at once (SIGKILL), as a crash would.
func (e *Etcd) Kill(m *EtcdMember) { m.kill() }

func (m *EtcdMember) kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Signal(syscall.SIGKILL)
		m.cmd.Wait()
		m.cmd = nil
	}
}

// waitUp waits until a member accepts connections and reports healthy.
func (e *Etcd) waitUp(m *EtcdMember) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	addr := strings.TrimPrefix(m.ClientURL, "http://")
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			if resp, err := http.Get(m.ClientURL + "/health"); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), `"true"`) {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process we do not control
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.t.Fatalf("etcd %s did not come up:\n%s", m.Name, m.log.String())
}
