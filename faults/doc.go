// Package faults is gomon's standing fault suite (issue 15, item 8). It
// builds the mon binary, starts it as a separate daemon on loopback in
// private directories, hurts it in every way the issue lists, and prints
// one table: each check, its figure, its goal and whether it was met.
// Each goal is also an assertion, so a missed one fails the test.
//
// The short form runs with every `go test ./...` (about a minute on two
// cores); the long form when asked:
//
//	go test ./faults -run TestFaults -v                         # short form
//	make faults                                                 # long form
//	GOMON_FAULTS=1 go test -count=1 -timeout 60m -v ./faults    # the same
//
// The checks, as subtests of TestFaults (-run 'TestFaults/checks/serial/auth'
// runs one; TestFaults/checks/hugeline runs beside the serial ones, the
// soak alone, as it measures cadence):
//
//	soak        healthy services beside hung (with and without a timeout,
//	            one ignoring SIGTERM, one that closes its output first),
//	            noisy, one-huge-line, crashing, unexecutable and
//	            process-leaking monitors; the daemon sampled every second:
//	            healthy p99 start lateness ≤ 20 ms (from the monitors' own
//	            time stamps, against their fixed-rate grid), no run missed,
//	            RSS growth ≤ 20 MiB, fds, threads and goroutines flat (the
//	            goroutines from the Go runtime's scheduler trace,
//	            GODEBUG=schedtrace, as the daemon has no such metric), no
//	            zombie, no monitor child alive 6 s after its run or after
//	            the daemon, the never-ending run reported overdue
//	hugeline    a monitor printing one 10 MB line every second: log growth
//	            ≤ 64 KiB a run, RSS growth ≤ 20 MiB, its list opstatus
//	            record and state bounded
//	auth        every protocol command as anonymous, as a user auth.cf
//	            allows, one it denies, and after a wrong password; the
//	            login throttle; term
//	protocol    random and mangled lines, lines over 64 KiB, pipelined
//	            junk, several clients, torn connections: each line gets a
//	            5xx or a valid reply, connections stay usable
//	traps       random, mangled and oversized datagrams while a client
//	            keeps asking: the daemon answers, and a real trap after
//	            them gets through
//	idleflood   1,000 idle or slow connections (default maxclients, and
//	            room for all): a new client is served within 100 ms
//	savestate   kill -9 aimed at the middle of savestate: the state file
//	            is the old or the new one, whole, and -l opstatus loads it
//	alertretry  a service with 1 MiB of output failing five times a
//	            second while its alert fails too: what waits for a retry
//	            must not grow the daemon by more than 20 MiB in 10 s
//	configs     the suite's own configurations (testdata/rig.cf, rig.m4)
//	            and Debian's examples (testdata/debian), as they are and
//	            mutated (lines deleted, duplicated, swapped; bits flipped;
//	            control bytes and 1 MiB lines inserted; cut short): through
//	            --check-config (exit 0 or 1), a start when it passed, and a
//	            reset or SIGHUP into a running daemon, which must keep the
//	            old services when it refuses and agree with the check; the
//	            suite's own seeds must also survive running a few seconds.
//	            Mutants on which m4 runs away are set aside (the daemon
//	            gives m4 a minute); instead a reset to such a file must not
//	            hold up other clients, and (long form) --check-config must
//	            refuse it within 75 s
//
// Across all of them: no panic in any daemon's or check's output, no
// daemon exiting unasked or lingering after SIGTERM, no zombie, and no
// process left whose argv carries the run's tag (the monitors' sleepers
// are `sleep 3001.TAG` …).
//
// Environment knobs (short form / long form):
//
//	GOMON_FAULTS=1    the long form
//	FAULTS_SOAK       soak duration                  (20s / 10m)
//	FAULTS_HUGELINE   huge-line duration             (20s / 2m)
//	FAULTS_CONFIGS    mutated configurations         (60 / 600)
//	FAULTS_KILLS      kills during savestate         (8 / 40)
//	FAULTS_JUNK       protocol junk lines            (10000 / 200000)
//	FAULTS_TRAPS      junk trap datagrams            (20000 / 500000)
//	FAULTS_FLOOD      idle and slow connections      (1000)
//	FAULTS_SEED       the random seed of mutations and junk (printed in
//	                  the table's title; set it to replay a run)
//
// Debian's examples are copied into testdata/debian, so the suite reads
// nothing outside the repository; it runs system programs only (go, sh,
// bash, sleep, seq, cat, m4) and talks to loopback only. A Debian
// configuration is never run with its scheduler going (-S, reset
// stopped): its monitors would reach for hosts off this machine.
package faults
