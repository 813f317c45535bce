/*
 * hostdriver: PAM transactions in a host process set up as real hosts set
 * theirs up, to prove the module decides the same in each.
 *
 *   hostdriver CONFDIR SERVICE USER MODE ROUNDS
 *
 * MODE:
 *   plain           a host that sets nothing up.
 *   sigchld-ignore  signal(SIGCHLD, SIG_IGN) first: the kernel reaps every
 *                   child, and waitpid answers ECHILD.
 *   sigchld-reap    a SIGCHLD handler that reaps every child with
 *                   waitpid(-1, ..., WNOHANG) (xrdp; sshd in ubuntu/authd's
 *                   report), installed without SA_RESTART.
 *   user-ruid=UID   as su and sudo run, by the user UID: (run as root)
 *                   the real uid and gid become UID, the effective and
 *                   saved ones stay 0, the umask 0, and the user's soft
 *                   limits are set as `ulimit -S -f 0 -n 32` and
 *                   `ulimit -S -c $(ulimit -H -c)` would.
 *   user-ruid-hard=UID  the same with the hard limits lowered too, as
 *                   `ulimit -f 0 -n 32` does.
 *
 * Each of ROUNDS rounds is pam_start_confdir (PAM_RHOST 192.0.2.10),
 * pam_authenticate, pam_acct_mgmt whatever authenticate returned, and
 * pam_end, printing "authenticate CODE" and "account CODE". Then
 * "reaped N" (sigchld-reap: the children the handler reaped), the host's
 * state after the calls, which the module must not have changed,
 * "host ruid=R euid=E fsize=F sigchld=ignore|handler|default umask=U",
 * and "done".
 * Exit status 0 when every step returned; alarm() bounds the whole run.
 */
#define _GNU_SOURCE /* setresuid */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_appl.h>

static volatile sig_atomic_t reaped;

static void reap_all(int sig)
{
	(void)sig;
	int saved = errno;
	int status;
	while (waitpid(-1, &status, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

/* Every message is shown; there is nothing to answer in rule mode. */
static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		printf("conv %d %s\n", msg[i]->msg_style, msg[i]->msg);
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup("secret");
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

static struct pam_conv conversation = { conv, NULL };

/* Set the soft limit to value (AS_HARD: the hard limit), and the hard
 * one too if hard. */
#define AS_HARD ((rlim_t)-2)

static void limit(int resource, rlim_t value, int hard, const char *name)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) != 0) {
		fprintf(stderr, "getrlimit %s: %s\n", name, strerror(errno));
		exit(2);
	}
	rl.rlim_cur = value == AS_HARD ? rl.rlim_max : value;
	if (hard)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(resource, &rl) != 0) {
		fprintf(stderr, "setrlimit %s: %s\n", name, strerror(errno));
		exit(2);
	}
}

static void setup(const char *mode)
{
	if (strcmp(mode, "plain") == 0) {
		/* nothing */
	} else if (strcmp(mode, "sigchld-ignore") == 0) {
		if (signal(SIGCHLD, SIG_IGN) == SIG_ERR) {
			perror("signal");
			exit(2);
		}
	} else if (strcmp(mode, "sigchld-reap") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = reap_all;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGCHLD, &sa, NULL) != 0) {
			perror("sigaction");
			exit(2);
		}
	} else if (strncmp(mode, "user-ruid=", 10) == 0 || strncmp(mode, "user-ruid-hard=", 15) == 0) {
		int hard = strncmp(mode, "user-ruid-hard=", 15) == 0;
		char *end;
		long uid = strtol(strchr(mode, '=') + 1, &end, 10);
		if (*end != '\0' || uid <= 0) {
			fprintf(stderr, "bad uid in %s\n", mode);
			exit(2);
		}
		if (geteuid() != 0) {
			fprintf(stderr, "user-ruid needs root\n");
			exit(2);
		}
		limit(RLIMIT_FSIZE, 0, hard, "RLIMIT_FSIZE");
		limit(RLIMIT_NOFILE, 32, hard, "RLIMIT_NOFILE");
		limit(RLIMIT_CORE, AS_HARD, hard, "RLIMIT_CORE");
		umask(0);
		if (setresgid((gid_t)uid, 0, 0) != 0 || setresuid((uid_t)uid, 0, 0) != 0) {
			perror("setresuid");
			exit(2);
		}
		uid_t r, e, s;
		if (getresuid(&r, &e, &s) != 0 || r != (uid_t)uid || e != 0 || s != 0) {
			fprintf(stderr, "ids not set\n");
			exit(2);
		}
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: hostdriver CONFDIR SERVICE USER MODE ROUNDS\n");
		return 2;
	}
	alarm(60);
	setup(argv[4]);
	int rounds = atoi(argv[5]);
	for (int i = 0; i < rounds; i++) {
		pam_handle_t *h = NULL;
		int rc = pam_start_confdir(argv[2], argv[3], &conversation, argv[1], &h);
		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "pam_start_confdir: %d\n", rc);
			return 2;
		}
		pam_set_item(h, PAM_RHOST, "192.0.2.10");
		printf("authenticate %d\n", pam_authenticate(h, 0));
		fflush(stdout);
		printf("account %d\n", pam_acct_mgmt(h, 0));
		fflush(stdout);
		pam_end(h, PAM_SUCCESS);
	}
	if (strcmp(argv[4], "sigchld-reap") == 0)
		printf("reaped %d\n", (int)reaped);
	struct sigaction sa;
	struct rlimit fsize;
	if (sigaction(SIGCHLD, NULL, &sa) != 0 || getrlimit(RLIMIT_FSIZE, &fsize) != 0) {
		perror("host state");
		return 2;
	}
	mode_t mask = umask(0);
	printf("host ruid=%d euid=%d fsize=%lld sigchld=%s umask=%03o\n", (int)getuid(), (int)geteuid(),
	       fsize.rlim_cur == RLIM_INFINITY ? -1LL : (long long)fsize.rlim_cur,
	       sa.sa_handler == SIG_IGN ? "ignore" : sa.sa_handler == reap_all ? "handler" : "default", (unsigned)mask);
	printf("done\n");
	return 0;
}
