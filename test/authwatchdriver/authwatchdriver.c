/*
 * authwatchdriver: how the module's watch of pam_authenticate's outcome
 * (pammod/authwatch.c) behaves in a host.
 *
 *   authwatchdriver CONFDIR USER MODE
 *
 * MODE:
 *   plain       pam_start_confdir (service sshd), pam_authenticate,
 *               pam_acct_mgmt, pam_end.
 *   app-delay   the same, with the application's own PAM_FAIL_DELAY
 *               callback set before pam_authenticate: it prints
 *               "app-delay status=S usec=U" at each call and never sleeps.
 *   two-handles two handles in one process: the first authenticates, then
 *               the second does, then each runs pam_acct_mgmt.
 *
 * Prints "authenticate CODE ms=MS" (MS: how long pam_authenticate took,
 * the fail delay included), "account CODE" per handle, and "done".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_appl.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)msg;
	(void)data;
	*resp = calloc((size_t)n, sizeof(**resp));
	return *resp == NULL ? PAM_BUF_ERR : PAM_SUCCESS;
}

static void app_delay(int status, unsigned int usec, void *appdata)
{
	(void)appdata;
	printf("app-delay status=%d usec=%u\n", status, usec);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static pam_handle_t *start(const char *confdir, const char *user)
{
	static struct pam_conv c = { conv, NULL };
	pam_handle_t *h = NULL;
	if (pam_start_confdir("sshd", user, &c, confdir, &h) != PAM_SUCCESS) {
		printf("pam_start_confdir failed\n");
		exit(1);
	}
	pam_set_item(h, PAM_RHOST, "192.0.2.10");
	return h;
}

static void authenticate(pam_handle_t *h)
{
	long t0 = now_ms();
	int r = pam_authenticate(h, 0);
	printf("authenticate %d ms=%ld\n", r, now_ms() - t0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: authwatchdriver CONFDIR USER plain|app-delay|two-handles\n");
		return 2;
	}
	const char *confdir = argv[1], *user = argv[2], *mode = argv[3];
	setvbuf(stdout, NULL, _IONBF, 0);
	pam_handle_t *h = start(confdir, user);
	if (strcmp(mode, "app-delay") == 0)
		pam_set_item(h, PAM_FAIL_DELAY, (const void *)app_delay);
	authenticate(h);
	if (strcmp(mode, "two-handles") == 0) {
		pam_handle_t *second = start(confdir, user);
		authenticate(second);
		printf("account %d\n", pam_acct_mgmt(second, 0));
		pam_end(second, PAM_SUCCESS);
	}
	printf("account %d\n", pam_acct_mgmt(h, 0));
	pam_end(h, PAM_SUCCESS);
	printf("done\n");
	return 0;
}
