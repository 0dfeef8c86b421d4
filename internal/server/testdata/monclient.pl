#!/usr/bin/perl
# Drives a mon server with the real Mon::Client and prints what it sees,
# one fact per line (hashes sorted).
#
#   monclient.pl client PORT
#   monclient.pl trap TRAPPORT USER PASS GROUP SERVICE RETVAL SUMMARY
use strict;
use warnings;
use Mon::Client;

my $mode = shift @ARGV;
if ($mode eq "trap") {
    my ($port, $user, $pass, $group, $service, $retval, $summary) = @ARGV;
    my $t = Mon::Client->new(host => "127.0.0.1", port => $port,
                             username => $user, password => $pass);
    $t->send_trap(group => $group, service => $service, retval => $retval,
                  opstatus => ($retval ? "fail" : "ok"), summary => $summary,
                  detail => "line1\nline2\n") or die "send_trap: " . $t->error . "\n";
    print "sent\n";
    exit 0;
}

my ($port) = @ARGV;
my $c = Mon::Client->new(host => "127.0.0.1", port => $port,
                         username => "alice", password => "s3cret");
sub check { my ($what, $ok) = @_; print "$what: ", ($ok ? "ok" : "error " . $c->error), "\n"; }

check("connect", $c->connect);    # sends protid 9745
check("login", $c->login);
print "version: ", $c->version, "\n";
my %op = $c->list_opstatus;
for my $g (sort keys %op) {
    for my $s (sort keys %{$op{$g}}) {
        my $o = $op{$g}{$s};
        print "opstatus $g $s opstatus=$o->{opstatus} exitval=$o->{exitval} summary=$o->{last_summary}\n";
    }
}
%op = $c->list_opstatus(["g1", "s2"]);
print "opstatus g1,s2: ", join(" ", map { my $g = $_; map { "$g/$_" } sort keys %{$op{$g}} } sort keys %op), "\n";
check("disable_host h1", $c->disable_host("h1"));
check("disable_service g1 s1", $c->disable_service("g1", "s1"));
check("disable_watch g2", $c->disable_watch("g2"));
check("disable_watch nosuch", $c->disable_watch("nosuch"));
my %d = $c->list_disabled;
for my $g (sort keys %{$d{hosts}}) { print "disabled host $g ", join(",", sort keys %{$d{hosts}{$g}}), "\n"; }
for my $w (sort keys %{$d{watches}}) { print "disabled watch $w\n"; }
for my $g (sort keys %{$d{services}}) { print "disabled service $g ", join(",", sort keys %{$d{services}{$g}}), "\n"; }
check("enable_host h1", $c->enable_host("h1"));
check("enable_service g1 s1", $c->enable_service("g1", "s1"));
check("enable_watch g2", $c->enable_watch("g2"));
%d = $c->list_disabled;
print "disabled after enable: ", scalar(keys %d), "\n";
check("ack g1 s2", $c->ack("g1", "s2", "looking at it, \"quoted\""));
print "ack comment: ", $c->get("g1", "s2", "_ack_comment"), "\n";
check("ack g1 s1", $c->ack("g1", "s1", "x"));
check("set g2 s3 opstatus fail", $c->set("g2", "s3", "opstatus", "fail"));
%op = $c->list_failures;
print "failures: ", join(" ", map { my $g = $_; map { "$g/$_" } sort keys %{$op{$g}} } sort keys %op), "\n";
my @st = $c->list_state;
print "state: $st[0]\n";
print "views: ", join(",", $c->list_views), "\n";
check("stop", $c->stop);
@st = $c->list_state;
print "state: $st[0]\n";
check("start", $c->start);
check("quit", $c->quit);
