/*
 * libnss_casefold.so.2: a test NSS module that finds users whatever the
 * case of the name asked for, as SSSD's AD provider and winbind do
 * (case_sensitive = false): getpwnam("ALICE") returns the entry whose
 * pw_name is "alice". Its users are the passwd-format lines of
 * /etc/casefold-passwd (a test's private /etc). A user named "nss-broken",
 * in any case, is NSS failing (UNAVAIL, EIO), as when the directory
 * cannot be reached.
 *
 * Used by test/nsscase_test.go with "passwd: files casefold" in a
 * private /etc/nsswitch.conf.
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#define TABLE "/etc/casefold-passwd"

/* find runs through the table into the caller's buffer until match
 * accepts an entry. */
static enum nss_status find(int (*match)(const struct passwd *, const void *), const void *key,
                            struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	FILE *f = fopen(TABLE, "re");
	if (f == NULL) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	struct passwd *res = NULL;
	enum nss_status st = NSS_STATUS_NOTFOUND;
	*errnop = ENOENT;
	for (;;) {
		int rc = fgetpwent_r(f, pw, buf, buflen, &res);
		if (rc == ERANGE) {
			*errnop = ERANGE;
			st = NSS_STATUS_TRYAGAIN;
			break;
		}
		if (rc != 0 || res == NULL)
			break;
		if (match(pw, key)) {
			st = NSS_STATUS_SUCCESS;
			*errnop = 0;
			break;
		}
	}
	fclose(f);
	return st;
}

static int by_name(const struct passwd *pw, const void *key)
{
	return strcasecmp(pw->pw_name, (const char *)key) == 0;
}

static int by_uid(const struct passwd *pw, const void *key)
{
	return pw->pw_uid == *(const uid_t *)key;
}

enum nss_status _nss_casefold_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	if (strcasecmp(name, "nss-broken") == 0) {
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
	return find(by_name, name, pw, buf, buflen, errnop);
}

enum nss_status _nss_casefold_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	return find(by_uid, &uid, pw, buf, buflen, errnop);
}
