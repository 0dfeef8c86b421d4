/*
 * stamp - the benchmark's trivial monitor and alert body.
 *
 * usage: stamp [-f FLAGFILE] [-i] LOG LABEL
 *
 * Appends "LABEL SECONDS.NANOSECONDS STATUS" (CLOCK_REALTIME, taken first
 * thing) to LOG with one O_APPEND write, so concurrent runs never mix
 * lines.  STATUS is "fail" and the exit status 1 while FLAGFILE exists,
 * else "ok" and 0.  -i reads stdin to EOF first (alerts get the monitor
 * output on stdin).  It prints one line, like a monitor's summary.
 *
 * It is C and static so that recording the time costs one exec and no
 * runtime start-up: the benchmark measures the daemons, not the monitor.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	const char *flag = NULL;
	int drain = 0, i = 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			flag = argv[++i];
		else if (strcmp(argv[i], "-i") == 0)
			drain = 1;
		else
			break;
	}
	if (argc - i != 2) {
		fputs("usage: stamp [-f FLAGFILE] [-i] LOG LABEL\n", stderr);
		return 2;
	}
	if (drain) {
		char buf[4096];
		while (read(0, buf, sizeof buf) > 0)
			;
	}
	int failing = flag != NULL && access(flag, F_OK) == 0;
	char line[512];
	int n = snprintf(line, sizeof line, "%s %lld.%09ld %s\n", argv[i + 1],
			 (long long)ts.tv_sec, ts.tv_nsec, failing ? "fail" : "ok");
	if (n < 0 || n >= (int)sizeof line) {
		fputs("stamp: label too long\n", stderr);
		return 2;
	}
	int fd = open(argv[i], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write(fd, line, n) != n) {
		perror(argv[i]);
		return 2;
	}
	close(fd);
	puts(failing ? "flag present" : "ok");
	return failing;
}
