/*
 * pam_accesscontrol.so: a small C shim that runs pam-accesscontrol-helper
 * (Go) for each PAM call and serves its requests over a socketpair.
 *
 * A Go runtime must not live inside sshd: sshd forks after pam_start and a
 * Go c-shared module then hangs in the child. So this module links only
 * libpam, starts no threads, installs no signal handlers, never writes to
 * stdout or stderr, and fails closed: a missing helper, a crash, a timeout
 * or a malformed message gives PAM_SYSTEM_ERR, never PAM_SUCCESS. It
 * changes nothing of the host's process: a host that ignores SIGCHLD or
 * reaps every child itself still gets the helper's result.
 */
#define _GNU_SOURCE /* struct ucred */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <security/pam_ext.h>

#ifndef PAMAC_SOCKET
#define PAMAC_SOCKET "/run/pam-accesscontrol/helper.sock"
#endif
#ifndef PAMAC_HELPER
#define PAMAC_HELPER "/usr/libexec/pam-accesscontrol/pam-accesscontrol-helper"
#endif
#define DEFAULT_TIMEOUT 120 /* seconds: a person typing a password, an ASK popup */
#define MAX_TIMEOUT 3600
#define HELPER_FD 3

enum { FN_AUTH = 1, FN_SETCRED, FN_ACCT, FN_OPEN, FN_CLOSE, FN_CHAUTHTOK, FN_END };
static const char *const fn_names[] = { "", "auth", "setcred", "account", "open_session",
					 "close_session", "chauthtok", "end" };

struct options {
	const char *helper;
	const char *socket; /* NULL: run the helper every time */
	int timeout;
	int debug;
};

/* The module options the shim and the helper know (moduleArgs in
 * pammod/helper/args.go: the two must agree). The first argument that is
 * none of these starts a pam_python script, which is a path or a name
 * ending in .py or .star, and everything after it is the script's argv;
 * any other argument is an unknown option, which denies. The shim reads
 * only helper=, socket=, timeout= and debug; the helper reads them all. */
static int is_option(const char *arg)
{
	static const char *const keys[] = { "conf=", "helper=", "socket=", "timeout=", "rundir=", "logdir=",
					    "spooldir=", "interpreter=", "tokenline=", "tokens=" };
	if (strcmp(arg, "debug") == 0 || strcmp(arg, "recursion") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strncmp(arg, keys[i], strlen(keys[i])) == 0)
			return 1;
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_script(const char *arg)
{
	return strchr(arg, '/') != NULL || has_suffix(arg, ".py") || has_suffix(arg, ".star");
}

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	o->helper = PAMAC_HELPER;
	o->socket = PAMAC_SOCKET;
	o->timeout = DEFAULT_TIMEOUT;
	o->debug = 0;
	for (int i = 0; i < argc; i++) {
		if (!is_option(argv[i])) {
			if (is_script(argv[i]))
				break; /* the script and its argv */
			pam_syslog(pamh, LOG_ERR,
				   "unknown option %s (not a module option, nor a script: a path or a name ending in .py or .star); denying",
				   argv[i]);
			return -1;
		}
		if (strncmp(argv[i], "helper=", 7) == 0) {
			o->helper = argv[i] + 7;
		} else if (strncmp(argv[i], "socket=", 7) == 0) {
			o->socket = strcmp(argv[i] + 7, "none") == 0 ? NULL : argv[i] + 7;
		} else if (strncmp(argv[i], "timeout=", 8) == 0) {
			char *end;
			errno = 0;
			long t = strtol(argv[i] + 8, &end, 10);
			if (errno != 0 || *end != '\0' || t < 1 || t > MAX_TIMEOUT) {
				pam_syslog(pamh, LOG_ERR, "bad option %s: want 1..%d seconds; denying", argv[i], MAX_TIMEOUT);
				return -1;
			}
			o->timeout = (int)t;
		} else if (strcmp(argv[i], "debug") == 0) {
			o->debug = 1;
		}
	}
	if (o->helper[0] != '/') {
		pam_syslog(pamh, LOG_ERR, "helper=%s is not an absolute path; denying", o->helper);
		return -1;
	}
	return 0;
}

/* The helper runs as root with the login's secrets within reach: it must be
 * a regular file that only root (or the calling user, for tests run by
 * that user) can change. */
static int helper_trusted(pam_handle_t *pamh, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		pam_syslog(pamh, LOG_ERR, "helper %s: %m; denying", path);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pam_syslog(pamh, LOG_ERR, "helper %s is not a root-owned file writable only by its owner; denying", path);
		return 0;
	}
	return 1;
}

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/* Exit statuses of the child before its exec, each with its log line. */
#define EXIT_NO_FDS 126
#define EXIT_NO_IDS 125
#define EXIT_NO_LIMITS 124

/* Lift a limit to want: the soft and hard limits where the host may raise
 * the hard one (root with CAP_SYS_RESOURCE), otherwise the soft one as far
 * as the hard one goes. -1 when that is below need. */
static int lift_limit(int resource, rlim_t want, rlim_t need)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= want) /* RLIM_INFINITY is the largest value */
		return 0;
	if (rl.rlim_max < want) {
		struct rlimit up = { want, want };
		if (setrlimit(resource, &up) == 0)
			return 0;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (rl.rlim_cur < need)
		return -1;
	return setrlimit(resource, &rl);
}

/* The helper is root's process, whatever the host's: su and sudo run the
 * module with the invoking user's real uid (euid 0) and the user's limits.
 * A user may signal a process whose real or saved uid is theirs, and a
 * file size or descriptor limit of theirs (ulimit -f 0, ulimit -n 8)
 * would fail the helper's audit, log and outbox writes, which never deny,
 * after it let the login in. So the real, effective and saved uid and gid
 * become 0, the file size limit goes and at least 1024 descriptors are
 * open to it, or the helper does not run (a host without CAP_SYS_RESOURCE,
 * a container, cannot lift a hard limit the user lowered). CPU time,
 * address space and data are raised as far as the host may: running out
 * of them kills the helper, which fails closed. No core file (the helper
 * holds a login's secrets) and a fixed umask. Supplementary groups stay:
 * they give root nothing, and some user namespaces refuse setgroups.
 * A host that is not root (a test run by a user, a screen locker) can only
 * run a helper of its own user, who can do all this to it anyway: its ids
 * stay, its limits go as far as the hard ones, and nothing is required.
 * In the child, between fork and exec: 0, or the exit status to fail with. */
static int become_root_helper(void)
{
	int root = geteuid() == 0;
	if (root) {
		uid_t ru, eu, su;
		gid_t rg, eg, sg;
		if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
			return EXIT_NO_IDS;
		/* the gid first: with the uid 0 gone, no more setresgid */
		if ((rg != 0 || eg != 0 || sg != 0) && setresgid(0, 0, 0) != 0)
			return EXIT_NO_IDS;
		if ((ru != 0 || su != 0) && setresuid(0, 0, 0) != 0)
			return EXIT_NO_IDS;
	}
	if (lift_limit(RLIMIT_FSIZE, RLIM_INFINITY, root ? RLIM_INFINITY : 0) != 0 ||
	    lift_limit(RLIMIT_NOFILE, 65536, root ? 1024 : 0) != 0 ||
	    lift_limit(RLIMIT_CPU, RLIM_INFINITY, 0) != 0 || lift_limit(RLIMIT_AS, RLIM_INFINITY, 0) != 0 ||
	    lift_limit(RLIMIT_DATA, RLIM_INFINITY, 0) != 0)
		return EXIT_NO_LIMITS;
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return EXIT_NO_LIMITS;
	umask(022);
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_helper(int sock, const char *helper)
{
	if (sock == HELPER_FD) {
		if (fcntl(sock, F_SETFD, 0) < 0)
			_exit(EXIT_NO_FDS);
	} else if (dup2(sock, HELPER_FD) < 0) {
		_exit(EXIT_NO_FDS);
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(EXIT_NO_FDS);
	/* no descriptor of the host (its sockets, its log) reaches the helper */
#ifdef SYS_close_range
	if (syscall(SYS_close_range, HELPER_FD + 1, ~0U, 0) != 0)
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = HELPER_FD + 1; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close((int)fd);
	}
	int failed = become_root_helper();
	if (failed != 0)
		_exit(failed);
	/* the host's ignored signals and blocked mask would survive exec */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char *const argv[] = { (char *)helper, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	execve(helper, argv, envp);
	_exit(127);
}

/* Send the call: the function, flags, identity of this login, the module
 * arguments and the items a decision needs. */
static int send_call(pam_handle_t *pamh, int sock, int fn, int flags, int argc, const char **argv,
		     const struct deadline *dl, const char **why)
{
	char handle[32];
	snprintf(handle, sizeof(handle), "%p", (void *)pamh);
	struct wbuf b;
	wb_init(&b, MSG_CALL);
	wb_int(&b, PAMAC_PROTOCOL_VERSION);
	wb_int(&b, fn);
	wb_int(&b, flags);
	wb_int(&b, (int32_t)getpid());
	wb_int(&b, (int32_t)getppid());
	wb_str(&b, handle);
	wb_int(&b, argc);
	for (int i = 0; i < argc; i++)
		wb_str(&b, argv[i]);
	wb_str(&b, item(pamh, PAM_USER));
	wb_str(&b, item(pamh, PAM_SERVICE));
	wb_str(&b, item(pamh, PAM_RHOST));
	wb_str(&b, item(pamh, PAM_RUSER));
	wb_str(&b, item(pamh, PAM_TTY));
	wb_str(&b, login_id(pamh));
	wb_int(&b, authwatch_outcome(pamh));
	int r = wire_send(sock, &b, dl, why);
	wb_free(&b);
	return r;
}

/* A daemon that did not serve the call: it speaks another protocol version
 * (MSG_VERSION), or, older than that message, closed the connection before
 * its first message. The module then runs its own helper. */
#define DAEMON_DECLINED (-2)

/* Serve requests until the result. Returns the helper's PAM code, -1 with
 * *why set, or DAEMON_DECLINED when the first thing the other side does is
 * to decline the call. */
static int serve(pam_handle_t *pamh, int sock, const struct deadline *dl, const char **why,
		 const struct end_args *end)
{
	for (int first = 1;; first = 0) {
		struct msg m;
		int r = wire_recv(sock, &m, dl, why);
		if (r == WIRE_CLOSED && first)
			return DAEMON_DECLINED;
		if (r < 0)
			return -1;
		if (m.type == MSG_VERSION && first) {
			msg_free(&m);
			*why = "it speaks another protocol version";
			return DAEMON_DECLINED;
		}
		if (m.type == MSG_RESULT) {
			/* the code, then the login id to keep, or null */
			int ok = m.nfields == 2 && m.f[0].kind == 'i' && m.f[0].i >= 0 && m.f[0].i < _PAM_RETURN_VALUES &&
				 (m.f[1].kind == 's' || m.f[1].kind == 'n');
			int code = ok ? m.f[0].i : -1;
			/* not kept, a later phase decides anew: never a way in */
			if (ok && m.f[1].kind == 's' && keep_login_id(pamh, m.f[1].s) != PAM_SUCCESS)
				pam_syslog(pamh, LOG_WARNING, "keeping the login id on the handle failed; a later phase decides again");
			msg_free(&m);
			if (!ok) {
				*why = "result out of range";
				return -1;
			}
			return code;
		}
		struct wbuf reply;
		memset(&reply, 0, sizeof(reply));
		r = serve_request(pamh, &m, &reply, why, end);
		msg_free(&m);
		if (r == 0)
			r = wire_send(sock, &reply, dl, why);
		wb_free(&reply);
		if (r < 0)
			return -1;
	}
}

/* After the result the helper only exits, which closes its end of the
 * socket: wait for that end-of-file rather than poll waitpid. 1 when it
 * came, 0 when not by the deadline. */
static int wait_eof(int sock, const struct deadline *dl)
{
	char buf[256];
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return 0;
		int ms = deadline_left_ms(dl);
		if (ms == 0)
			return 0;
		if (n > 0)
			continue; /* nothing is due after the result: dropped */
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			return 0;
	}
}

/* reap's answer when the child is gone without a status for us: the host
 * ignores SIGCHLD (the kernel reaped it) or its SIGCHLD handler reaped it
 * with waitpid(-1) (xrdp; sshd in authd's issue). */
#define REAPED_BY_HOST (-2)

/* Reap exactly our child, killing it at the deadline. Returns its wait
 * status, REAPED_BY_HOST, or -1. */
static int reap(pid_t pid, const struct deadline *dl)
{
	int status;
	long nap = 20 * 1000; /* ns, doubled up to 2 ms */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno == ECHILD)
			return REAPED_BY_HOST; /* never kill a pid that may be reused */
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0 && deadline_left_ms(dl) == 0)
			break;
		if (r == 0) {
			struct timespec ts = { 0, nap };
			nanosleep(&ts, NULL);
			nap = nap < 2000000 ? nap * 2 : 2000000;
		}
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return -1; /* killed: never a result */
}

/* Connect to the helper daemon, which spares a process start per call.
 * Returns the socket, or -1 when there is no daemon to use: then the
 * helper is run. The daemon must be root's (or, for tests, ours). */
static int connect_daemon(pam_handle_t *pamh, const struct options *o)
{
	struct sockaddr_un sa;
	if (o->socket == NULL || strlen(o->socket) >= sizeof(sa.sun_path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, o->socket);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no daemon on %s (%m): running the helper", o->socket);
		close(fd);
		return -1;
	}
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		pam_syslog(pamh, LOG_ERR, "%s is served by uid %d, not root: ignoring it", o->socket, (int)cred.uid);
		close(fd);
		return -1;
	}
	return fd;
}

static int run_daemon_call(pam_handle_t *pamh, int sock, const struct options *o, int fn, int flags,
			   int argc, const char **argv, const struct end_args *end)
{
	struct deadline dl;
	deadline_init(&dl, o->timeout);
	const char *why = NULL;
	int code = send_call(pamh, sock, fn, flags, argc, argv, &dl, &why);
	if (code == WIRE_CLOSED)
		code = DAEMON_DECLINED; /* gone before it had the whole call: nothing was done */
	else if (code == 0)
		code = serve(pamh, sock, &dl, &why, end);
	close(sock);
	if (code == DAEMON_DECLINED) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "%s: the daemon on %s did not serve the call (another version?): running the helper",
				   fn_names[fn], o->socket);
		return DAEMON_DECLINED;
	}
	if (code < 0) {
		pam_syslog(pamh, LOG_ERR, "%s: %s (daemon %s); denying", fn_names[fn], why, o->socket);
		return PAM_SYSTEM_ERR;
	}
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "%s: daemon answered %d (%s)", fn_names[fn], code, pam_strerror(pamh, code));
	return code;
}

static int run_helper(pam_handle_t *pamh, int fn, int flags, int argc, const char **argv,
		      const struct end_args *end);

/* run_end is the cleanup of PAMAC_END_KEY: pam_end runs the script's
 * pam_sm_end. Ended in a forked child (PAM_DATA_SILENT), it does not: the
 * parent will. */
static void run_end(pam_handle_t *pamh, void *data, int error_status)
{
	struct end_args *e = data;
	if (!(error_status & (PAM_DATA_REPLACE | PAM_DATA_SILENT)))
		run_helper(pamh, FN_END, error_status, e->argc, (const char **)e->argv, e);
	free(e->state);
	free(e);
}

/* remember_end keeps the first script line's arguments for pam_end. */
static void remember_end(pam_handle_t *pamh, int argc, const char **argv)
{
	const void *existing = NULL;
	if (pam_get_data(pamh, PAMAC_END_KEY, &existing) == PAM_SUCCESS && existing != NULL)
		return;
	size_t size = sizeof(struct end_args) + (size_t)argc * sizeof(char *);
	for (int i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	struct end_args *e = malloc(size);
	if (e == NULL)
		return;
	e->state = NULL;
	e->argc = argc;
	char *p = (char *)&e->argv[argc];
	for (int i = 0; i < argc; i++) {
		e->argv[i] = p;
		strcpy(p, argv[i]);
		p += strlen(argv[i]) + 1;
	}
	if (pam_set_data(pamh, PAMAC_END_KEY, e, run_end) != PAM_SUCCESS)
		free(e);
}

/* A script on the module line, or an unknown option that parse_options
 * refuses. */
static int has_script(int argc, const char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!is_option(argv[i]))
			return 1;
	return 0;
}

static int run_helper(pam_handle_t *pamh, int fn, int flags, int argc, const char **argv,
		      const struct end_args *end)
{
	struct options o;
	if (parse_options(pamh, argc, argv, &o) < 0)
		return PAM_SYSTEM_ERR;
	if (fn != FN_END && has_script(argc, argv))
		remember_end(pamh, argc, argv);
	int daemon = connect_daemon(pamh, &o);
	if (daemon >= 0) {
		int code = run_daemon_call(pamh, daemon, &o, fn, flags, argc, argv, end);
		if (code != DAEMON_DECLINED)
			return code;
	}
	if (!helper_trusted(pamh, o.helper))
		return PAM_SYSTEM_ERR;

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		pam_syslog(pamh, LOG_ERR, "socketpair: %m; denying");
		return PAM_SYSTEM_ERR;
	}
	pid_t pid = fork();
	if (pid < 0) {
		pam_syslog(pamh, LOG_ERR, "fork: %m; denying");
		close(sv[0]);
		close(sv[1]);
		return PAM_SYSTEM_ERR;
	}
	if (pid == 0)
		exec_helper(sv[1], o.helper);
	close(sv[1]);

	struct deadline dl;
	deadline_init(&dl, o.timeout);
	const char *why = NULL;
	int code = send_call(pamh, sv[0], fn, flags, argc, argv, &dl, &why);
	if (code == 0)
		code = serve(pamh, sv[0], &dl, &why, end);

	/* after the result the helper only exits; give it a moment, not the
	 * whole deadline */
	struct deadline exit_dl = dl;
	int eof = 0;
	if (code >= 0) {
		deadline_init(&exit_dl, 5);
		eof = wait_eof(sv[0], &exit_dl);
	}
	close(sv[0]);
	int status = reap(pid, code >= 0 ? &exit_dl : &dl);
	if (status == REAPED_BY_HOST && code >= 0 && eof)
		status = 0; /* the result came and the helper ended: it stands */
	else if (status == REAPED_BY_HOST && why == NULL)
		why = "helper gone, its exit status taken by the host, before its end was seen";

	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (why == NULL)
			why = "helper did not exit cleanly";
		if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
			why = "helper could not be executed";
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NO_FDS)
			why = "helper's descriptors could not be set up";
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NO_IDS)
			why = "helper could not be given root's real, effective and saved ids";
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NO_LIMITS)
			why = "helper's file size or descriptor limit could not be lifted (a hard limit the user lowered, on a host without CAP_SYS_RESOURCE)";
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2)
			why = "helper crashed (Go panic)";
		else if (status >= 0 && WIFSIGNALED(status))
			why = "helper killed by a signal";
		pam_syslog(pamh, LOG_ERR, "%s: %s (helper %s, status %d); denying", fn_names[fn], why, o.helper, status);
		return PAM_SYSTEM_ERR;
	}
	if (code < 0) {
		pam_syslog(pamh, LOG_ERR, "%s: %s (helper %s); denying", fn_names[fn], why, o.helper);
		return PAM_SYSTEM_ERR;
	}
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "%s: helper answered %d (%s)", fn_names[fn], code, pam_strerror(pamh, code));
	return code;
}

PAMAC_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	authwatch_arm(pamh);
	return run_helper(pamh, FN_AUTH, flags, argc, argv, NULL);
}

/* Rules decide nothing at setcred, which sshd calls in a forked child:
 * answered here, without a helper. A pam_python script gets its own
 * pam_sm_setcred called. */
PAMAC_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	if (has_script(argc, argv))
		return run_helper(pamh, FN_SETCRED, flags, argc, argv, NULL);
	return PAM_SUCCESS;
}

PAMAC_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_helper(pamh, FN_ACCT, flags, argc, argv, NULL);
}

PAMAC_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_helper(pamh, FN_OPEN, flags, argc, argv, NULL);
}

PAMAC_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_helper(pamh, FN_CLOSE, flags, argc, argv, NULL);
}

PAMAC_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_helper(pamh, FN_CHAUTHTOK, flags, argc, argv, NULL);
}
