// Package cluster_test checks the two-director cluster example in this
// directory: both config files load to the same configuration through
// the checks `mon --check-config` runs, the lvs lines are node-local and
// the mail is not, the directors' one-line difference keeps their
// digests equal, and the units and etcd's configuration agree with the
// config and with `make install`.
package cluster_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/cluster"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/shellwords"
	"github.com/gomon/gomon/scheduler"
)

// etcdTLS are the files of mon.cf's etcd TLS settings, all under this
// directory (a test writes its own).
const etcdTLS = "/etc/mon/etcd-"

// load reads name with its etcd TLS files moved into dir (written by
// writeCerts), through the checks of `mon --check-config`: the loader,
// the monitor and alert lines, and the cluster settings.
func load(t *testing.T, name, dir string, edit func(string) string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), etcdTLS, filepath.Join(dir, "etcd-"))
	if edit != nil {
		text = edit(text)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := configfile.Load(path, configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := scheduler.CheckPrograms(c); len(errs) > 0 {
		t.Fatalf("%s: %v", name, errs)
	}
	if err := cluster.Check(c.Globals.Cluster); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestContribClusterConfigs(t *testing.T) {
	dir := t.TempDir()
	writeCerts(t, dir)
	var printed []string
	var digests []string
	for _, name := range []string{"mon.cf", "mon.hcl"} {
		c := load(t, name, dir, nil)
		cl := c.Globals.Cluster
		if len(cl.Etcd) != 3 || cl.Node != "d1" || cl.Lease != 5*time.Second || cl.Prefix != "/gomon/lvs-a/" {
			t.Errorf("%s: cluster %+v", name, cl)
		}
		s := c.Watches[0].Services[0]
		if s.ClusterScope != config.ScopeShard {
			t.Errorf("%s: cluster_scope %q, want shard: the mail goes out once", name, s.ClusterScope)
		}
		lvs, mail := 0, 0
		for _, p := range s.Periods {
			for _, a := range slices.Concat(p.Alerts, p.UpAlerts) {
				switch a.Name {
				case "lvs.alert":
					lvs++
					if !a.Local {
						t.Errorf("%s: %s is not local: the standby's IPVS table would go stale", name, a)
					}
				case "mail.alert":
					mail++
					if a.Local {
						t.Errorf("%s: %s is local: each director would mail", name, a)
					}
				}
			}
		}
		if lvs != 2 || mail != 2 {
			t.Errorf("%s: %d lvs and %d mail lines, want 2 and 2", name, lvs, mail)
		}
		var b strings.Builder
		if err := configfile.WriteHCL(&b, c); err != nil {
			t.Fatal(err)
		}
		printed = append(printed, strings.ReplaceAll(b.String(), dir, ""))
		digests = append(digests, cluster.Digest(c))
	}
	if printed[0] != printed[1] {
		t.Errorf("mon.cf loads as\n%s\nmon.hcl as\n%s", printed[0], printed[1])
	}
	// d2's file: the documented one-line difference.
	d2 := load(t, "mon.cf", dir, func(s string) string {
		return regexp.MustCompile(`(?m)^cluster_node(\s*)= d1$`).ReplaceAllString(s, "cluster_node$1= d2")
	})
	if d2.Globals.Cluster.Node != "d2" {
		t.Fatalf("cluster_node line not found: node %q", d2.Globals.Cluster.Node)
	}
	digests = append(digests, cluster.Digest(d2))
	if digests[0] != digests[1] || digests[0] != digests[2] {
		t.Errorf("digests %v differ: the directors would not share their services", digests)
	}
}

// etcd.conf.yml's three members are the endpoints mon.cf lists.
func TestContribClusterEtcd(t *testing.T) {
	c, err := configfile.Load("mon.hcl", configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile("etcd.conf.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^initial-cluster: (.*)$`).FindSubmatch(yml)
	if m == nil {
		t.Fatal("etcd.conf.yml: no initial-cluster")
	}
	var clients []string
	for member := range strings.SplitSeq(string(m[1]), ",") {
		_, peer, _ := strings.Cut(member, "=")
		clients = append(clients, strings.Replace(peer, ":2380", ":2379", 1))
	}
	if !slices.Equal(clients, c.Globals.Cluster.Etcd) {
		t.Errorf("etcd members %v, cluster_etcd %v", clients, c.Globals.Cluster.Etcd)
	}
}

// gomon.service runs the binary `make install` installs, on paths the
// config uses, with options the real binary accepts; mon.cf's script
// directories are `make install`'s.
func TestContribClusterUnit(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+)\s*\?=\s*(\S+)$`).FindAllStringSubmatch(string(mk), -1) {
		vars[m[1]] = m[2]
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "$(PREFIX)", vars["PREFIX"]) }
	unit, err := os.ReadFile("gomon.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for line := range strings.Lines(string(unit)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	argv, err := shellwords.Split(keys["ExecStart"])
	if err != nil || len(argv) < 2 {
		t.Fatalf("ExecStart=%s: %v", keys["ExecStart"], err)
	}
	if want := expand(vars["BINDIR"]) + "/mon"; argv[0] != want {
		t.Errorf("ExecStart runs %s, make install puts it at %s", argv[0], want)
	}
	if stop, _ := shellwords.Split(strings.TrimPrefix(keys["ExecStop"], "-")); len(stop) == 0 || stop[0] != expand(vars["BINDIR"])+"/moncmd" {
		t.Errorf("ExecStop=%s: moncmd is at %s", keys["ExecStop"], expand(vars["BINDIR"]))
	}
	c, err := configfile.Load("mon.cf", configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Globals.MonDir, []string{expand(vars["MONDIR"])}) || !slices.Equal(c.Globals.AlertDir, []string{expand(vars["ALERTDIR"])}) {
		t.Errorf("mondir %v alertdir %v, make install uses %s and %s", c.Globals.MonDir, c.Globals.AlertDir, expand(vars["MONDIR"]), expand(vars["ALERTDIR"]))
	}

	if testing.Short() {
		t.Skip("builds gomon")
	}
	dir := t.TempDir()
	writeCerts(t, dir)
	load(t, "mon.cf", dir, nil) // writes dir/mon.cf with the test's TLS files
	// The installed paths become this directory's files; auth.cf is
	// contrib/lvs's (README.md).
	auth, err := filepath.Abs("../lvs/auth.cf")
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]string{"/etc/mon/mon.cf": filepath.Join(dir, "mon.cf"), "/etc/mon/auth.cf": auth}
	args := []string{"-C"}
	for _, a := range argv[1:] {
		if l, ok := local[a]; ok {
			a = l
		}
		args = append(args, a)
	}
	bin := filepath.Join(dir, "mon")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mon").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK") {
		t.Errorf("mon %q: %v\n%s", args, err, out)
	}
}

// writeCerts writes a self-signed certificate and its key as the etcd
// CA, client certificate and key of mon.cf, into dir.
func writeCerts(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gomon"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	files := map[string][]byte{
		"etcd-ca.pem": cert, "etcd-client.pem": cert,
		"etcd-client.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
