dnl m4 pre-processing: macros, dnl comments and include
define(`SVC', `    service $1
        interval 1h
        description $2
        monitor seq.monitor $1')dnl
serverbind = 127.0.0.1
trapbind = 127.0.0.1

hostgroup web w1 w2

watch web
SVC(http, front end)
SVC(https, secure front end)
include(`extra.m4')dnl
