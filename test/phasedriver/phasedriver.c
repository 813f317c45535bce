/*
 * phasedriver: one phase of a PAM transaction through a service of a
 * private PAM directory (pam_start_confdir), for stacks rehearsed by
 * installer/pamd.
 *
 *   phasedriver CONFDIR SERVICE USER auth|account|session
 *   phasedriver CONFDIR SERVICE USER held RHOST
 *
 * Prints "PHASE CODE" and exits 0 when the phase returned; prompts are
 * answered with nothing. alarm() bounds the run.
 *
 * held is a login that stays: account and open_session from RHOST, "held
 * CODE", then, once standard input ends, close_session and "closed CODE".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_appl.h>

static int quiet(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)msg;
	(void)data;
	*resp = calloc((size_t)n, sizeof(struct pam_response));
	return *resp == NULL ? PAM_BUF_ERR : PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: phasedriver CONFDIR SERVICE USER auth|account|session|held [RHOST]\n");
		return 2;
	}
	alarm(60);
	struct pam_conv conv = { quiet, NULL };
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &h);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %d\n", rc);
		return 2;
	}
	const char *phase = argv[4];
	if (strcmp(phase, "auth") == 0) {
		rc = pam_authenticate(h, 0);
	} else if (strcmp(phase, "account") == 0) {
		rc = pam_acct_mgmt(h, 0);
	} else if (strcmp(phase, "held") == 0 && argc == 6) {
		alarm(0);
		pam_set_item(h, PAM_RHOST, argv[5]);
		rc = pam_acct_mgmt(h, 0);
		if (rc == PAM_SUCCESS)
			rc = pam_open_session(h, 0);
		printf("held %d\n", rc);
		fflush(stdout);
		if (rc == PAM_SUCCESS) {
			while (getchar() != EOF)
				;
			rc = pam_close_session(h, 0);
			printf("closed %d\n", rc);
		}
	} else if (strcmp(phase, "session") == 0) {
		rc = pam_open_session(h, 0);
		if (rc == PAM_SUCCESS)
			rc = pam_close_session(h, 0);
	} else {
		fprintf(stderr, "unknown phase %s\n", phase);
		pam_end(h, PAM_SUCCESS);
		return 2;
	}
	printf("%s %d\n", phase, rc);
	pam_end(h, rc);
	return 0;
}
