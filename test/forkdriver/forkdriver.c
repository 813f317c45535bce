/*
 * forkdriver: PAM calls in the process patterns of real hosts, to prove
 * the module never hangs or misbehaves when a host forks between calls.
 *
 *   forkdriver CONFDIR SERVICE USER PATTERN
 *   forkdriver CONFDIR SERVICE USER siblings ANSWER1 [ANSWER2 ...]
 *
 * PATTERN:
 *   sshd-kbdint  pam_start; fork; the child authenticates and runs account
 *                (sshd's keyboard-interactive "[pam]" child); the parent
 *                opens the session, runs setcred in a forked child (sshd's
 *                session child) and closes the session.
 *   xrdp         authenticate in the parent, then fork and open the session
 *                in the child.
 *   end-in-child pam_start; fork; the child ends the handle with
 *                PAM_DATA_SILENT (openssh-portable PR #520).
 *   siblings     a fork server without re-exec (vsftpd, xrdp-sesman,
 *                inetd-style daemons, sshd -r): pam_start once in the
 *                parent, then one forked child per ANSWER, one after the
 *                other, each authenticating and (if that succeeded) running
 *                account on the inherited handle: siblings with the same
 *                parent pid and the same handle address. Child N answers
 *                every prompt with ANSWERN ("-": one line read from stdin
 *                per prompt) and prints "siblingN-start pid=P ppid=Q
 *                handle=H", then "siblingN-authenticate CODE NAME" and
 *                "siblingN-account CODE NAME".
 *
 * Every other pattern answers every prompt with "secret".
 *
 * Prints one line per step, "STEP CODE NAME", and exits 0 when every step
 * returned; the test reads the codes. alarm() bounds the whole run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_appl.h>

/* What the user types at every prompt; "-" reads a line from stdin. */
static const char *answer = "secret";

/* One line from stdin without its newline, read a byte at a time so that
 * nothing past it is buffered (forked siblings share the descriptor). */
static char *read_line(void)
{
	char buf[512];
	size_t n = 0;
	char c;
	while (n < sizeof(buf) - 1 && read(0, &c, 1) == 1 && c != '\n')
		buf[n++] = c;
	buf[n] = '\0';
	return strdup(buf);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		printf("conv %d %s\n", msg[i]->msg_style, msg[i]->msg);
		fflush(stdout);
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strcmp(answer, "-") == 0 ? read_line() : strdup(answer);
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

static struct pam_conv conversation = { conv, NULL };

static int step(pam_handle_t *h, const char *name, int rc)
{
	printf("%s %d %s\n", name, rc, pam_strerror(h, rc));
	fflush(stdout);
	return rc;
}

/* Run fn in a forked child and return its result through the exit status. */
static int in_child(pam_handle_t *h, const char *name, int (*fn)(pam_handle_t *, int), int flags)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0)
		_exit(step(h, name, fn(h, flags)));
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		printf("%s child died\n", name);
		exit(3);
	}
	return WEXITSTATUS(status);
}

static int authenticate_and_account(pam_handle_t *h, int flags)
{
	int rc = step(h, "child-authenticate", pam_authenticate(h, flags));
	if (rc != PAM_SUCCESS)
		return rc;
	return pam_acct_mgmt(h, flags);
}

/* One sibling of a fork server: authenticate, then account, on the handle
 * its parent started; the exit status is the last result. */
static void sibling(pam_handle_t *h, int n)
{
	char name[64];
	printf("sibling%d-start pid=%d ppid=%d handle=%p\n", n, (int)getpid(), (int)getppid(), (void *)h);
	fflush(stdout);
	snprintf(name, sizeof(name), "sibling%d-authenticate", n);
	int rc = step(h, name, pam_authenticate(h, 0));
	if (rc == PAM_SUCCESS) {
		snprintf(name, sizeof(name), "sibling%d-account", n);
		rc = step(h, name, pam_acct_mgmt(h, 0));
	}
	_exit(rc);
}

static void siblings(pam_handle_t *h, int n, char **answers)
{
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(2);
		}
		if (pid == 0) {
			answer = answers[i];
			sibling(h, i + 1);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			printf("sibling%d child died\n", i + 1);
			exit(3);
		}
	}
}

static int end_silent(pam_handle_t *h, int flags)
{
	(void)flags;
	return pam_end(h, PAM_DATA_SILENT);
}

int main(int argc, char **argv)
{
	if (argc < 5 || (argc != 5) != (strcmp(argv[4], "siblings") == 0)) {
		fprintf(stderr, "usage: forkdriver CONFDIR SERVICE USER PATTERN\n"
			"       forkdriver CONFDIR SERVICE USER siblings ANSWER1 [ANSWER2 ...]\n");
		return 2;
	}
	alarm(60);
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(argv[2], argv[3], &conversation, argv[1], &h);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %d\n", rc);
		return 2;
	}
	pam_set_item(h, PAM_RHOST, "192.0.2.10");
	const char *pattern = argv[4];
	if (strcmp(pattern, "sshd-kbdint") == 0) {
		rc = in_child(h, "child-account", authenticate_and_account, 0);
		if (rc == PAM_SUCCESS) {
			step(h, "open_session", pam_open_session(h, 0));
			in_child(h, "child-setcred", pam_setcred, PAM_ESTABLISH_CRED);
			step(h, "close_session", pam_close_session(h, 0));
		}
	} else if (strcmp(pattern, "xrdp") == 0) {
		if (step(h, "authenticate", pam_authenticate(h, 0)) == PAM_SUCCESS)
			in_child(h, "child-open_session", pam_open_session, 0);
	} else if (strcmp(pattern, "siblings") == 0) {
		siblings(h, argc - 5, argv + 5);
	} else if (strcmp(pattern, "end-in-child") == 0) {
		in_child(h, "child-end", end_silent, 0);
	} else {
		fprintf(stderr, "unknown pattern %s\n", pattern);
		return 2;
	}
	pam_end(h, PAM_SUCCESS);
	printf("done\n");
	return 0;
}
