# contrib/dns-rr/mon.hcl - the DNS round-robin example of mon.cf, in
# gomon's HCL format (docs/config-hcl.md). It loads to exactly the same
# configuration; the comments in mon.cf explain each part.
#
# www.example.com has an A record per web server, 192.0.2.11 and
# 192.0.2.12. http.monitor checks both every 10 seconds; a failing one's
# record is deleted and root gets mail; when it recovers the record is
# added back and root gets mail again.

mondir     = ["/usr/lib/mon/mon.d", "/usr/lib/mon/mon-local.d"]
alertdir   = ["/usr/lib/mon/alert.d"]
statedir   = "/var/lib/mon"
logdir     = "/var/log/mon"
serverbind = "127.0.0.1"
trapbind   = "127.0.0.1"

# The servers behind www.example.com.
hostgroup "web" {
  hosts = ["192.0.2.11", "192.0.2.12"]
}

watch "web" {
  service "http" {
    description = "web servers behind www.example.com"
    interval    = "10s"
    # Prints the failing hosts on its first line; the dnsupdate alert acts
    # on exactly those.
    monitor = "http.monitor -p 80 -t 5"

    period "mail" {
      when       = "wd {Sun-Sat}"
      alertevery = "1h"
      alert      = ["mail.alert root@localhost"]
      upalert    = ["mail.alert root@localhost"]
    }

    # Every failure and recovery reaches the zone; repeats are harmless.
    # The last address is never deleted (-L allows it).
    period "dns" {
      when    = "wd {Sun-Sat}"
      alert   = ["dnsupdate.alert -Z example.com -N www -T 60 -S 127.0.0.1 -K /etc/mon/gomon.key"]
      upalert = ["dnsupdate.alert -Z example.com -N www -T 60 -S 127.0.0.1 -K /etc/mon/gomon.key"]
    }
  }
}
