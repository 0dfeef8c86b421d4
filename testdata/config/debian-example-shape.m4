dnl
dnl Same shape as Debian's example.m4 (own text): m4 macros for
dnl directories, periods and recipients, then an ordinary mon.cf.
dnl
define(_BASE_,        `/srv/mon')dnl
define(_WEEKDAYS_,    `wd {Mon-Fri}')dnl
define(_WEEKEND_,     `wd {Sat-Sun}')dnl
define(_ALWAYS_,      `wd {Sun-Sat}')dnl
define(_DAYTIME_,     `wd {Mon-Fri} hr {8am-9pm}')dnl
define(_NIGHT_,       `wd {Mon-Fri} hr {9pm-8am}, wd {Sat Sun}')dnl
define(_OPS_MAIL_,    `alice bob')dnl
define(_OPS_PAGER_,   `carol')dnl       # pager rota
dnl
#
# globals
#
alertdir    = _BASE_/alert.d
mondir      = _BASE_/mon.d
maxprocs    = 20
histlength  = 100
randstart   = 60s

hostgroup servers s1 s2

hostgroup routers r1

watch servers
    service ping
	interval 5m
	monitor fping.monitor
	period _DAYTIME_
	    alert mail.alert _OPS_MAIL_
	    alertevery 1h
	period NIGHT: _NIGHT_
	    alert qpage.alert _OPS_PAGER_
    service ssh
	interval 10m
	monitor ssh.monitor
	depend servers:ping
	period _ALWAYS_
	    alertafter 2 30m
	    alert mail.alert _OPS_MAIL_

watch routers
    service ping
	interval 1m
	monitor fping.monitor
	period _WEEKDAYS_
	    alert qpage.alert _OPS_PAGER_
	period _WEEKEND_
	    alert mail.alert _OPS_MAIL_
