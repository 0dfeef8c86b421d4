// Package bench holds gomon's scheduler performance benchmark. It starts
// the real mon 1.3.6 and gomon as separate daemons on the same generated
// configurations, measures both in one run together with the machine's
// own spawn ceiling, and prints one table (docs/performance.md keeps the
// latest one).
//
// It also holds the cluster scale benchmark (TestClusterBench, issue 11
// item 7): three gomon processes on one etcd, 30,000 built-in tcp
// services at interval 10s against loopback listeners; it reports each
// node's share, etcd's writes in steady state (from etcd's /metrics),
// the takeover time after a kill -9, and how long any service was
// unowned or owned twice, checked against etcd throughout. Its short
// form, TestClusterSmoke (300 services, correctness only), runs with
// every `go test ./...` when etcd is installed.
//
// And it holds the scale benchmark (TestScaleBench, issue 17): 100,000
// built-in tcp and then http services at interval 10s, each watch on its
// own 127.0.0.0/8 address so that the listeners tell the services apart;
// start-up to listening and to READY=1 (sd_notify), a SIGHUP reload with
// one changed service (RELOADING=1 → READY=1) and the other services'
// gaps around it; one fping service over 50,000 addresses; and the RSS
// per idle service against the empty daemon. Its short form,
// TestScaleSmoke (200 services, correctness only), runs with go test.
//
// The measurements take several minutes, so they only run when asked:
//
//	make bench
//	GOMON_BENCH=1 go test ./bench -run TestSchedulerBench -timeout 30m -v
//
// Environment knobs (defaults are what `make bench` measures):
//
//	BENCH_N             service counts, comma separated   (10,1000,3000)
//	BENCH_WARMUP        time before each window             (10s)
//	BENCH_WINDOW        throughput measurement window       (30s)
//	BENCH_CEILING       time per spawn-ceiling measurement  (5s)
//	BENCH_DETECT_REPS   detection-latency repetitions       (15)
//	BENCH_SYSTEMS       daemons to measure                  (mon,gomon)
//	BENCH_DAEMON_ARGS   extra options for both daemons, e.g. "-r 1s"
//	BENCH_GOMON         a prebuilt gomon binary to measure instead of this tree's
//	BENCH_CLUSTER_N      cluster benchmark's services        (30000)
//	BENCH_CLUSTER_WARMUP from every service's first run to its window (20s)
//	BENCH_CLUSTER_WINDOW its steady-state window              (30s)
//	BENCH_SCALE_N        scale benchmark's services           (100000)
//	BENCH_SCALE_ICMP     addresses of its ICMP service         (50000)
//	BENCH_SCALE_WINDOW   its steady-state window               (30s)
//	BENCH_SCALE_INTERVAL its services' interval                (10s)
//	BENCH_SCALE_PARTS    which parts run                       (tcp,http,icmp,idle)
//	GOMON_DEBUG_PPROF    passed to the daemons: serve /debug/pprof/ there
//
// The monitor and the alerts are /bin/sh scripts that exec a tiny static
// C program (testdata/stamp.c) which records CLOCK_REALTIME: dash has no
// clock builtin and `date` would add a process per run. Both daemons,
// the ceiling loop and the reference scheduler spawn exactly the same
// script.
//
// The reference scheduler (testdata/refsched.c) is the least any
// scheduler must do per run here: one C epoll loop that starts the same
// services with posix_spawn, captures and reaps them, and nothing else.
// Its CPU per run is the machine's floor for a daemon's, and its gaps,
// measured between the two daemons, show how exactly this host lets any
// program start runs at that moment.
package bench
