; contrib/dns-rr/db.example.com - the zone; copy to /var/lib/bind/.
; named keeps it from here on (updates go to db.example.com.jnl): to edit
; it by hand, "rndc freeze example.com", edit, "rndc thaw example.com".
$TTL 60
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                1          ; serial (updates increment it)
                3600       ; refresh
                600        ; retry
                86400      ; expire
                60 )       ; negative answers cached for 60 s
@       IN NS   ns1.example.com.
ns1     IN A    192.0.2.53
; The round robin: one A record per web server, a short TTL.
www  60 IN A    192.0.2.11
www  60 IN A    192.0.2.12
