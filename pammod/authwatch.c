/*
 * How the application's last pam_authenticate on a handle ended.
 *
 * A module cannot see the other modules' results, and sshd calls
 * pam_acct_mgmt for a key login on the same handle where a password just
 * failed (our auth line still ran after a "required" pam_unix that said
 * no). The decision our auth line made then must not stand for that key
 * login. sshd's SSH_AUTH_INFO_0 does not help there: in the account phase
 * it lists only the methods that succeeded before the last one.
 *
 * libpam reports the end of every pam_authenticate, success or not, to the
 * handle's PAM_FAIL_DELAY callback ("always call the application's delay
 * function ... indicate status", pam_delay.c). So the first time our auth
 * line runs on a handle, we put our own callback there. It records the
 * status and passes on to the application's callback, or, when the
 * application had none, waits on a failure as libpam itself would have.
 *
 * The callback is given no handle, so there is one record per process: the
 * first handle that arms it owns it until its pam_end, and another handle
 * of the same process (a threaded server) is told AUTH_UNKNOWN. A forked
 * child inherits the record with the handle, as it inherits the handle.
 */
#include "shim.h"

#include <time.h>
#include <security/pam_appl.h>

typedef void (*delay_fn)(int status, unsigned int usec, void *appdata);

/* The process's one record: the handle it is for, the application's own
 * callback, and the outcome. Atomics: a threaded host may run another
 * handle's pam_authenticate at the same time. */
static pam_handle_t *watched;
static delay_fn chained;
static int outcome = AUTH_NOT_SEEN;

/* The marker on a handle: which of our records it has. */
static const char owner_mark, contended_mark;

static void on_auth_end(int status, unsigned int usec, void *appdata)
{
	__atomic_store_n(&outcome, status == PAM_SUCCESS ? AUTH_SUCCEEDED : AUTH_FAILED, __ATOMIC_SEQ_CST);
	delay_fn next = __atomic_load_n(&chained, __ATOMIC_SEQ_CST);
	if (next != NULL) {
		next(status, usec, appdata);
		return;
	}
	/* what libpam does without a callback: wait on a failure */
	if (status != PAM_SUCCESS && usec > 0) {
		struct timespec ts = { usec / 1000000, (long)(usec % 1000000) * 1000 };
		while (nanosleep(&ts, &ts) != 0)
			;
	}
}

/* pam_end (or a forked child's pam_end) frees the record for the next
 * handle, which may be allocated at the same address. */
static void release(pam_handle_t *pamh, void *data, int error_status)
{
	(void)data;
	if (error_status & PAM_DATA_REPLACE)
		return;
	pam_handle_t *expected = pamh;
	if (__atomic_compare_exchange_n(&watched, &expected, NULL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&chained, NULL, __ATOMIC_SEQ_CST);
		__atomic_store_n(&outcome, AUTH_NOT_SEEN, __ATOMIC_SEQ_CST);
	}
}

void authwatch_arm(pam_handle_t *pamh)
{
	const void *current = NULL;
	if (pam_get_item(pamh, PAM_FAIL_DELAY, &current) != PAM_SUCCESS)
		current = NULL;
	pam_handle_t *expected = NULL;
	if (!__atomic_compare_exchange_n(&watched, &expected, pamh, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    expected != pamh) {
		pam_set_data(pamh, PAMAC_AUTHWATCH_KEY, (void *)&contended_mark, NULL);
		return;
	}
	if (pam_set_data(pamh, PAMAC_AUTHWATCH_KEY, (void *)&owner_mark, release) != PAM_SUCCESS) {
		expected = pamh; /* unmarked, the handle says AUTH_NOT_SEEN: give the record back */
		__atomic_compare_exchange_n(&watched, &expected, NULL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return;
	}
	/* this pam_authenticate is under way: its end will say how it went */
	__atomic_store_n(&outcome, AUTH_UNKNOWN, __ATOMIC_SEQ_CST);
	if (current != (const void *)on_auth_end) {
		__atomic_store_n(&chained, (delay_fn)current, __ATOMIC_SEQ_CST);
		/* when this fails, authwatch_outcome finds another callback there
		 * and says AUTH_UNKNOWN */
		pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)on_auth_end);
	}
}

int authwatch_outcome(pam_handle_t *pamh)
{
	const void *mark = NULL;
	if (pam_get_data(pamh, PAMAC_AUTHWATCH_KEY, &mark) != PAM_SUCCESS || mark == NULL)
		return AUTH_NOT_SEEN;
	if (mark != &owner_mark || __atomic_load_n(&watched, __ATOMIC_SEQ_CST) != pamh)
		return AUTH_UNKNOWN;
	const void *current = NULL;
	if (pam_get_item(pamh, PAM_FAIL_DELAY, &current) != PAM_SUCCESS || current != (const void *)on_auth_end)
		return AUTH_UNKNOWN; /* the application put its own callback back: what came after is unseen */
	return __atomic_load_n(&outcome, __ATOMIC_SEQ_CST);
}
