dnl The fault suite's m4 seed: the same kind of services as rig.cf, made
dnl by macros.
define(`HOSTS', `127.0.0.1 localhost')dnl
define(`SERVICE', `    service $1
        interval $2
        monitor $3
        period wd {Sun-Sat}
            alert sink.alert $1
            upalert sink.alert $1')dnl
maxprocs = 20
randstart = 0s

hostgroup servers HOSTS

hostgroup more HOSTS 127.0.0.2

watch servers
SERVICE(ping, 1s, ok.monitor)
SERVICE(web, 2s, fail.monitor)

watch more
SERVICE(ping, 1.5s, ok.monitor -t 1)
