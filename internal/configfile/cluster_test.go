package configfile

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
)

const clusterCF = `cluster_etcd = http://10.0.0.1:2379, https://10.0.0.2:2379
cluster_node = d1
cluster_lease = 3s
cluster_prefix = /site-a
cluster_advertise = 10.0.0.21
cluster_etcd_cacert = /etc/mon/ca.pem
cluster_etcd_cert = /etc/mon/d1.pem
cluster_etcd_key = /etc/mon/d1.key
cluster_etcd_user = gomon
cluster_etcd_password_file = /etc/mon/etcd.pw

hostgroup g h1

watch g
    service links
        interval 10s
        monitor true.monitor
        cluster_scope all
        period wd {Sun-Sat}
            alert local lvs.alert -P tcp -V 10.0.0.9:80
            alert exit=1 local mail.alert root
            alert local
            upalert script:local x
`

// The cluster globals, cluster_scope and the local marker read the same
// from mon.cf and from the HCL that `mon convert` writes of it.
func TestClusterKeywords(t *testing.T) {
	c := parseOK(t, clusterCF)
	want := config.Cluster{
		Etcd: []string{"http://10.0.0.1:2379", "https://10.0.0.2:2379"}, Node: "d1", Lease: 3 * time.Second,
		Prefix: "/site-a/", Advertise: "10.0.0.21", CACert: "/etc/mon/ca.pem", Cert: "/etc/mon/d1.pem", Key: "/etc/mon/d1.key",
		User: "gomon", PasswordFile: "/etc/mon/etcd.pw",
	}
	if !reflect.DeepEqual(c.Globals.Cluster, want) {
		t.Errorf("cluster = %+v\nwant %+v", c.Globals.Cluster, want)
	}
	s := c.Watches[0].Services[0]
	if s.ClusterScope != config.ScopeAll {
		t.Errorf("cluster_scope = %q", s.ClusterScope)
	}
	var got []string
	for _, a := range s.Periods[0].Alerts {
		got = append(got, a.String()+"|"+a.Name+"|"+strings.Repeat("L", b2i(a.Local)))
	}
	wantLines := []string{
		"local lvs.alert -P tcp -V 10.0.0.9:80|lvs.alert|L",
		"exit=1 local mail.alert root|mail.alert|L",
		"local|local|", // a program called local
	}
	if !reflect.DeepEqual(got, wantLines) {
		t.Errorf("alert lines = %q\nwant %q", got, wantLines)
	}

	var hcl bytes.Buffer
	if err := WriteHCL(&hcl, c); err != nil {
		t.Fatal(err)
	}
	h, err := ParseHCL("x.hcl", hcl.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, hcl.String())
	}
	if !reflect.DeepEqual(h.Globals.Cluster, want) || h.Watches[0].Services[0].ClusterScope != config.ScopeAll ||
		!h.Watches[0].Services[0].Periods[0].Alerts[0].Local {
		t.Errorf("HCL lost cluster settings: %+v\n%s", h.Globals.Cluster, hcl.String())
	}
	if !strings.Contains(hcl.String(), "cluster {\n") {
		t.Errorf("no cluster block:\n%s", hcl.String())
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Without cluster_etcd nothing changes; defaults are 5 s and /gomon/.
func TestClusterDefaults(t *testing.T) {
	c := parseOK(t, svcHeader+"        interval 1m\n")
	if c.Globals.Cluster.Enabled() || c.Globals.Cluster.Lease != 5*time.Second || c.Globals.Cluster.Prefix != "/gomon/" {
		t.Errorf("defaults = %+v", c.Globals.Cluster)
	}
	c = parseOK(t, "cluster_node = d1\n"+svcHeader+"        interval 1m\n")
	if !hasWarning(c, "cluster settings without cluster_etcd are ignored") {
		t.Errorf("no warning for cluster settings without cluster_etcd: %q", warnings(c))
	}
}

func TestClusterErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"cluster_etcd = 10.0.0.1:2379\n", "bad etcd endpoint '10.0.0.1:2379' in cluster_etcd"},
		{"cluster_etcd = ,\n", "cluster_etcd names no endpoint"},
		{"cluster_node = a b\n", "invalid cluster_node 'a b'"},
		{"cluster_lease = 1s\n", "bad value '1s' for cluster_lease"},
		{"cluster_prefix = gomon\n", "bad value 'gomon' for cluster_prefix"},
		{"cluster_etcd = http://h:1\ncluster_etcd_cert = c.pem\n", "cluster_etcd_cert and cluster_etcd_key go together"},
		{"cluster_etcd = http://h:1\ncluster_etcd_user = u\n", "cluster_etcd_user and cluster_etcd_password_file go together"},
		{svcHeader + "        cluster_scope everywhere\n", "invalid cluster_scope 'everywhere'"},
	} {
		e := parseErr(t, tc.src)
		if !strings.Contains(e.Error(), tc.want) {
			t.Errorf("%q: %v\nwant %q", tc.src, e, tc.want)
		}
	}
}
