/*
 * refsched - the benchmark's reference scheduler: the least work any
 * scheduler of external monitors must do per run on this machine.
 *
 * usage: refsched N SCRIPT
 *
 * Runs SCRIPT with one argument, h00001 … hN (the benchmark's host
 * names), each every second, with the phases spaced as gomon spaces
 * them (1 ms apart, or evenly when N runs do not fit in 1 s at 1 ms).
 * Each run gets stdin /dev/null, stdout and stderr on one pipe that is
 * read to EOF and discarded, its own process group, and is reaped
 * through a pidfd.  A service still running when due skips that slot.
 * One thread, one epoll loop, posix_spawn (vfork + exec): no config, no
 * decisions, no state, no logs, no client protocol.  It runs until
 * SIGTERM.
 *
 * Its CPU time per run is a floor for the daemons' own, and its gaps
 * show how accurately the machine lets any scheduler start runs in the
 * same minute.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SEC 1000000000LL

struct svc {
	long long due;	/* CLOCK_MONOTONIC ns */
	pid_t pid;	/* 0: not running */
	int out, pidfd;
	char host[24];
};

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static long long now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * SEC + t.tv_nsec;
}

/* Event data: service index << 1 | 1 for its pidfd, | 0 for its pipe. */
static void start(int ep, struct svc *s, long idx, const char *script, int null)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, null, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	char *argv[] = {(char *)script, s->host, NULL};
	int rc = posix_spawn(&s->pid, script, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		s->pid = 0;
		return;
	}
	s->out = p[0];
	s->pidfd = syscall(SYS_pidfd_open, s->pid, 0);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)idx << 1};
	epoll_ctl(ep, EPOLL_CTL_ADD, s->out, &e);
	e.data.u64 |= 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->pidfd, &e);
}

int main(int argc, char **argv)
{
	if (argc != 3 || atol(argv[1]) < 1) {
		fputs("usage: refsched N SCRIPT\n", stderr);
		return 2;
	}
	long n = atol(argv[1]);
	const char *script = argv[2];
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct svc *svc = calloc(n, sizeof *svc);
	long long step = SEC / n < SEC / 1000 ? SEC / n : SEC / 1000;
	long long t0 = now();
	for (long i = 0; i < n; i++) {
		svc[i].due = t0 + SEC + step * i; /* first run one interval after start, as mon */
		snprintf(svc[i].host, sizeof svc[i].host, "h%05ld", i + 1);
	}
	long next = 0; /* services come due in index order, round robin */
	char buf[4096];
	while (!stop) {
		long long wait = svc[next].due - now();
		int ms = wait > 0 ? (int)((wait + 999999) / 1000000) : 0;
		struct epoll_event ev[64];
		int k = epoll_wait(ep, ev, 64, ms);
		for (int j = 0; j < k; j++) {
			struct svc *s = &svc[ev[j].data.u64 >> 1];
			if (!(ev[j].data.u64 & 1)) {
				if (read(s->out, buf, sizeof buf) > 0)
					continue;
				close(s->out); /* also leaves the epoll set */
				s->out = -1;
				if (s->pidfd < 0) /* no pidfds: reap now */
					waitpid(s->pid, NULL, 0);
			} else {
				siginfo_t si;
				waitid(P_PID, s->pid, &si, WEXITED);
				close(s->pidfd);
				s->pidfd = -1;
			}
			if (s->out < 0 && s->pidfd < 0)
				s->pid = 0;
		}
		for (long long t = now(); svc[next].due <= t; next = (next + 1) % n) {
			if (svc[next].pid == 0)
				start(ep, &svc[next], next, script, null);
			svc[next].due += SEC;
		}
	}
	return 0;
}
