/*
 * pam_accesscontrol.so: the C side of the shim-helper protocol.
 * The format is documented in protocol/frame.go and protocol/messages.go.
 */
#ifndef PAMAC_SHIM_H
#define PAMAC_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <security/pam_modules.h>

/* Built with -fvisibility=hidden: only the six entry points are exported. */
#define PAMAC_EXPORT __attribute__((visibility("default")))

#define PAMAC_PROTOCOL_VERSION 3
#define PAMAC_MAX_FRAME (64 * 1024)
#define PAMAC_MAX_FIELDS 80 /* a conversation of PAM_MAX_NUM_MSG messages is 65 */

/* Message types (protocol/messages.go). */
enum {
	MSG_CALL = 'C', MSG_REPLY = 'R', MSG_GET_ITEM = 'G', MSG_SET_ITEM = 'S',
	MSG_GET_USER = 'U', MSG_CONV = 'V', MSG_GET_ENV = 'E', MSG_PUT_ENV = 'P',
	MSG_ENV_LIST = 'L', MSG_FAIL_DELAY = 'F', MSG_GET_DATA = 'D',
	MSG_SET_DATA = 'T', MSG_GET_XAUTH = 'A', MSG_SET_XAUTH = 'B', MSG_RESULT = 'X',
	MSG_VERSION = 'W',
};

/* A point in time after which the helper has run too long. */
struct deadline {
	struct timespec end; /* CLOCK_MONOTONIC */
};

void deadline_init(struct deadline *dl, int seconds);
/* Milliseconds left, 0 when passed. */
int deadline_left_ms(const struct deadline *dl);

/* An outgoing frame under construction. Any failure sets err, and the
 * frame is then not sent. */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int err;
};

void wb_init(struct wbuf *b, char type);
void wb_int(struct wbuf *b, int32_t v);
void wb_str(struct wbuf *b, const char *s); /* NULL is a null field */
void wb_free(struct wbuf *b);

/* One received field. Strings are NUL-terminated copies and never contain
 * a NUL byte themselves. */
struct field {
	char kind; /* 'i', 's' or 'n' */
	int32_t i;
	const char *s;
};

struct msg {
	char type;
	unsigned nfields;
	struct field f[PAMAC_MAX_FIELDS];
	char *arena; /* holds the strings */
};

/* Send a frame. 0 on success, -1 with *why set, or WIRE_CLOSED (also with
 * *why) when the other side has closed the connection. */
int wire_send(int fd, struct wbuf *b, const struct deadline *dl, const char **why);
/* Receive and check a frame completely. 0 on success, -1 with *why set,
 * or WIRE_CLOSED (also with *why) when the other side closed the
 * connection between frames. On success msg_free must be called. */
#define WIRE_CLOSED (-2)
int wire_recv(int fd, struct msg *m, const struct deadline *dl, const char **why);
void msg_free(struct msg *m);

/* Per-handle data lives under this prefix, apart from other modules'. */
#define PAMAC_DATA_PREFIX "pam_accesscontrol:"
/* The login's correlation id (protocol/messages.go's LoginDataKey): sent
 * with each call, kept from the result, so that a later phase of the login
 * on this handle is known for it, and a new handle at a reused address is
 * not. */
#define PAMAC_LOGIN_KEY PAMAC_DATA_PREFIX "login"

/* login_id is the id the handle holds, or NULL. */
const char *login_id(pam_handle_t *pamh);
/* keep_login_id keeps a copy of id on the handle; a PAM code. */
int keep_login_id(pam_handle_t *pamh, const char *id);

/* How the application's last pam_authenticate on the handle ended, as
 * authwatch.c sees it (protocol/messages.go's AuthOutcome: the two must
 * agree). */
enum { AUTH_NOT_SEEN = 0, AUTH_SUCCEEDED = 1, AUTH_FAILED = 2, AUTH_UNKNOWN = 3 };
#define PAMAC_AUTHWATCH_KEY PAMAC_DATA_PREFIX "authwatch"

/* authwatch_arm starts watching the outcome of the handle's
 * pam_authenticate calls: called from our auth line. */
void authwatch_arm(pam_handle_t *pamh);
/* authwatch_outcome is how the last one ended: AUTH_*. */
int authwatch_outcome(pam_handle_t *pamh);

/* A pam_python script's pam_sm_end runs at pam_end, from the cleanup of
 * this PAM data: the module line's arguments, and the script's module state
 * as last saved, since libpam refuses pam_get_data inside pam_end. */
#define PAMAC_END_KEY "pam_accesscontrol:end"
#define PAMAC_STATE_PREFIX "globals:"

struct end_args {
	char *state; /* the script's saved module state, or NULL */
	int argc;
	char *argv[]; /* argc strings in one allocation after the pointers */
};

/* Answer one request of the helper into reply. 0 on success, -1 with *why
 * set when the request is malformed (the call then fails closed). During
 * pam_end, end is the script's end_args; NULL otherwise. */
int serve_request(pam_handle_t *pamh, const struct msg *req, struct wbuf *reply, const char **why,
		  const struct end_args *end);

#endif
