# Two web servers, 192.168.0.1 and 192.168.0.2, behind the LVS virtual
# service 10.0.0.3:80 (direct routing). Every 10 seconds http.monitor
# checks both. A failing real server is taken out of the virtual service
# (lvs.alert without -R acts on the failing hosts of the summary) and root
# gets mail; when it answers again it is put back and root gets mail.
# The same configuration in mon.cf syntax is lvs.cf.

mondir     = ["/usr/lib/mon/mon.d"]
alertdir   = ["/usr/lib/mon/alert.d"]
serverbind = "127.0.0.1"
trapbind   = "127.0.0.1"

hostgroup "web" {
  hosts = ["192.168.0.1", "192.168.0.2"]
}

watch "web" {
  service "http" {
    description = "real servers of 10.0.0.3:80"
    interval    = "10s"
    monitor     = "http.monitor -p 80"

    period "wd {Sun-Sat}" {
      alert = [
        "mail.alert root@localhost",
        "lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr",
      ]
      upalert = [
        "mail.alert root@localhost",
        "lvs.alert -P tcp -V 10.0.0.3:80 -W 1 -F dr",
      ]
    }
  }
}
