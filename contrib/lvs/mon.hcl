# contrib/lvs/mon.hcl - the LVS director example of mon.cf, in gomon's HCL
# format (docs/config-hcl.md). It loads to exactly the same configuration;
# the comments in mon.cf explain each part.
#
# Two web servers, 192.168.0.1 and 192.168.0.2, serve the virtual service
# 10.0.0.3:80 with direct routing. http.monitor checks both every 10
# seconds; a failing one is taken out of the virtual service and root gets
# mail; when it recovers it is put back and root gets mail again.
# The addresses are examples: replace them with your own.

mondir     = ["/usr/lib/mon/mon.d", "/usr/lib/mon/mon-local.d"]
alertdir   = ["/usr/lib/mon/alert.d"]
statedir   = "/var/lib/mon"
logdir     = "/var/log/mon"
serverbind = "127.0.0.1"
trapbind   = "127.0.0.1"
dtlogging  = true
dtlogfile  = "/var/log/mon/downtime.log"

# The real servers of 10.0.0.3:80.
hostgroup "web" {
  hosts = ["192.168.0.1", "192.168.0.2"]
}

watch "web" {
  service "http" {
    description = "real servers of 10.0.0.3:80"
    interval    = "10s"
    # Prints the failing hosts on its first line; the lvs alert acts on
    # exactly those. -t bounds each check to 5 seconds.
    monitor = "http.monitor -p 80 -t 5"

    # Mail at most hourly for the same outage, and once when it is over.
    period "mail" {
      when       = "wd {Sun-Sat}"
      alertevery = "1h"
      alert      = ["mail.alert root@localhost"]
      upalert    = ["mail.alert root@localhost"]
    }

    # Every failure and recovery reaches the IPVS table; repeats are
    # harmless. Add -Q to quiesce (weight 0) instead of deleting.
    period "lvs" {
      when    = "wd {Sun-Sat}"
      alert   = ["lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr"]
      upalert = ["lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr"]
    }
  }
}
