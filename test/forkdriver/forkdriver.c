/*
 * forkdriver: PAM calls in the process patterns of real hosts, to prove
 * the module never hangs or misbehaves when a host forks between calls.
 *
 *   forkdriver CONFDIR SERVICE USER PATTERN
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

static int end_silent(pam_handle_t *h, int flags)
{
	(void)flags;
	return pam_end(h, PAM_DATA_SILENT);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: forkdriver CONFDIR SERVICE USER PATTERN\n");
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
