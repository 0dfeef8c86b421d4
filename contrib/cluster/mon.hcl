# contrib/cluster/mon.hcl - the two-director LVS cluster of mon.cf, in
# gomon's HCL format (docs/config-hcl.md). It loads to exactly the same
# configuration; the comments in mon.cf explain each part.
#
# Directors d1 (10.0.0.11) and d2 (10.0.0.12) carry the virtual service
# 10.0.0.3:80; etcd runs on both and on w1 (10.0.0.13). The owner of the
# http service checks the real servers and mails once; the lvs lines are
# local, so both directors keep their IPVS tables right.
#
# Both directors use this file as it is, except for cluster.node (d1 or
# d2). The addresses are examples.

mondir        = ["/usr/local/lib/gomon/mon.d"]
alertdir      = ["/usr/local/lib/gomon/alert.d"]
statedir      = "/var/lib/mon"
logdir        = "/var/log/mon"
serverbind    = "127.0.0.1"
trapbind      = "127.0.0.1"
status_listen = "127.0.0.1:2584"

cluster {
  etcd   = ["https://10.0.0.11:2379", "https://10.0.0.12:2379", "https://10.0.0.13:2379"]
  node   = "d1" # the one line that differs between the directors
  lease  = "5s"
  prefix = "/gomon/lvs-a/"

  etcd_cacert = "/etc/mon/etcd-ca.pem"
  etcd_cert   = "/etc/mon/etcd-client.pem"
  etcd_key    = "/etc/mon/etcd-client.key"
}

# The real servers of 10.0.0.3:80.
hostgroup "web" {
  hosts = ["192.168.0.1", "192.168.0.2"]
}

watch "web" {
  service "http" {
    description = "real servers of 10.0.0.3:80"
    interval    = "10s"
    # Shard scope (the default): the owner alone checks and decides.
    monitor = "http.monitor -p 80 -t 5"

    # Sent by the owner only: one mail per outage for the pair.
    period "mail" {
      when       = "wd {Sun-Sat}"
      alertevery = "1h"
      alert      = ["mail.alert root@localhost"]
      upalert    = ["mail.alert root@localhost"]
    }

    # local: each director updates its own IPVS table.
    period "lvs" {
      when    = "wd {Sun-Sat}"
      alert   = ["local lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr"]
      upalert = ["local lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr"]
    }
  }
}
