/*
 * The helper's requests, answered with libpam on the caller's handle.
 * Each handler checks the request's shape and the item or key it names
 * before touching the handle.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <security/pam_ext.h>


static int want(const struct msg *m, const char *kinds, const char **why)
{
	size_t n = strlen(kinds);
	if (m->nfields != n) {
		*why = "request with the wrong number of fields";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char k = m->f[i].kind;
		/* 'o' in kinds: a string or null */
		if (kinds[i] == 'o' ? (k != 's' && k != 'n') : k != kinds[i]) {
			*why = "request field of the wrong kind";
			return -1;
		}
	}
	return 0;
}

/* String items the helper may read and write. PAM_CONV and PAM_FAIL_DELAY
 * stay out of reach; PAM_XAUTHDATA has requests of its own. */
static int string_item(int item)
{
	switch (item) {
	case PAM_SERVICE: case PAM_USER: case PAM_TTY: case PAM_RHOST:
	case PAM_AUTHTOK: case PAM_OLDAUTHTOK: case PAM_RUSER:
	case PAM_USER_PROMPT: case PAM_XDISPLAY: case PAM_AUTHTOK_TYPE:
		return 1;
	}
	return 0;
}

static void reply_code(struct wbuf *r, int code)
{
	wb_init(r, MSG_REPLY);
	wb_int(r, code);
}

static int get_item(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "i", why) < 0)
		return -1;
	if (!string_item(m->f[0].i)) {
		reply_code(r, PAM_BAD_ITEM);
		return 0;
	}
	const void *v = NULL;
	int rc = pam_get_item(pamh, m->f[0].i, &v);
	reply_code(r, rc);
	if (rc == PAM_SUCCESS)
		wb_str(r, v);
	return 0;
}

static int set_item(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "io", why) < 0)
		return -1;
	if (!string_item(m->f[0].i) || m->f[0].i == PAM_SERVICE) {
		reply_code(r, PAM_BAD_ITEM);
		return 0;
	}
	reply_code(r, pam_set_item(pamh, m->f[0].i, m->f[1].s)); /* libpam copies */
	return 0;
}

static int get_user(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "o", why) < 0)
		return -1;
	const char *user = NULL;
	int rc = pam_get_user(pamh, &user, m->f[0].s);
	reply_code(r, rc);
	if (rc == PAM_SUCCESS)
		wb_str(r, user);
	return 0;
}

static int converse(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (m->nfields < 1 || m->f[0].kind != 'i') {
		*why = "conversation without a count";
		return -1;
	}
	int n = m->f[0].i;
	if (n < 1 || n > PAM_MAX_NUM_MSG || m->nfields != 1 + 2 * (unsigned)n) {
		*why = "conversation with a bad count";
		return -1;
	}
	struct pam_message msgs[PAM_MAX_NUM_MSG];
	const struct pam_message *msgp[PAM_MAX_NUM_MSG];
	for (int i = 0; i < n; i++) {
		const struct field *style = &m->f[1 + 2 * i], *text = &m->f[2 + 2 * i];
		/* PAM_MAX_MSG_SIZE is advisory: pam_python passes longer
		 * messages on, and applications cope; the frame bounds them */
		if (style->kind != 'i' || text->kind != 's' || style->i < PAM_PROMPT_ECHO_OFF ||
		    style->i > PAM_TEXT_INFO) {
			*why = "conversation message of the wrong shape";
			return -1;
		}
		msgs[i].msg_style = style->i;
		msgs[i].msg = text->s;
		msgp[i] = &msgs[i];
	}

	const struct pam_conv *conv = NULL;
	int rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (rc == PAM_SUCCESS && (conv == NULL || conv->conv == NULL))
		rc = PAM_CONV_ERR;
	struct pam_response *resp = NULL;
	if (rc == PAM_SUCCESS)
		rc = conv->conv(n, msgp, &resp, conv->appdata_ptr);
	if (rc == PAM_SUCCESS && resp == NULL)
		rc = PAM_CONV_ERR;
	reply_code(r, rc);
	if (rc == PAM_SUCCESS)
		for (int i = 0; i < n; i++) {
			wb_str(r, resp[i].resp);
			wb_int(r, resp[i].resp_retcode); /* pam_python passes it on */
		}
	if (resp != NULL) {
		/* responses may be passwords: wipe them before freeing */
		for (int i = 0; i < n; i++) {
			if (resp[i].resp != NULL) {
				explicit_bzero(resp[i].resp, strlen(resp[i].resp));
				free(resp[i].resp);
			}
		}
		free(resp);
	}
	return 0;
}

static int get_env(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "s", why) < 0)
		return -1;
	reply_code(r, PAM_SUCCESS);
	wb_str(r, pam_getenv(pamh, m->f[0].s));
	return 0;
}

static int put_env(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "s", why) < 0)
		return -1;
	reply_code(r, pam_putenv(pamh, m->f[0].s));
	return 0;
}

static int env_list(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "", why) < 0)
		return -1;
	char **env = pam_getenvlist(pamh);
	if (env == NULL) {
		reply_code(r, PAM_BUF_ERR);
		return 0;
	}
	int n = 0;
	while (env[n] != NULL)
		n++;
	reply_code(r, PAM_SUCCESS);
	wb_int(r, n);
	for (int i = 0; i < n; i++) {
		wb_str(r, env[i]);
		free(env[i]);
	}
	free(env);
	return 0;
}

static int fail_delay(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "i", why) < 0)
		return -1;
	if (m->f[0].i < 0) {
		reply_code(r, PAM_BAD_ITEM);
		return 0;
	}
	reply_code(r, pam_fail_delay(pamh, (unsigned int)m->f[0].i));
	return 0;
}

/* hex_str returns the n bytes at p as lower-case hex in a new string (a
 * PAM_XAUTHDATA field may hold any byte, NUL included), or NULL. */
static char *hex_str(const char *p, int n)
{
	static const char digits[] = "0123456789abcdef";
	if (n < 0)
		n = 0;
	char *h = malloc(2 * (size_t)n + 1);
	if (h == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		h[2 * i] = digits[(unsigned char)p[i] >> 4];
		h[2 * i + 1] = digits[(unsigned char)p[i] & 15];
	}
	h[2 * n] = '\0';
	return h;
}

/* PAM_XAUTHDATA (a display manager's X cookie) as two hex strings, name and
 * data; two nulls when the application set none. */
static int get_xauth(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "", why) < 0)
		return -1;
	const struct pam_xauth_data *x = NULL;
	int rc = pam_get_item(pamh, PAM_XAUTHDATA, (const void **)&x);
	if (rc != PAM_SUCCESS) {
		reply_code(r, rc);
		return 0;
	}
	if (x == NULL || x->name == NULL) {
		reply_code(r, PAM_SUCCESS);
		wb_str(r, NULL);
		wb_str(r, NULL);
		return 0;
	}
	/* the frame bounds what can be sent; a cookie is a few dozen bytes */
	if (x->namelen < 0 || x->datalen < 0 || x->namelen > PAMAC_MAX_FRAME / 8 ||
	    x->datalen > PAMAC_MAX_FRAME / 8 || (x->datalen > 0 && x->data == NULL)) {
		reply_code(r, PAM_BAD_ITEM);
		return 0;
	}
	char *name = hex_str(x->name, x->namelen), *data = hex_str(x->data, x->datalen);
	if (name == NULL || data == NULL) {
		reply_code(r, PAM_BUF_ERR);
	} else {
		reply_code(r, PAM_SUCCESS);
		wb_str(r, name);
		wb_str(r, data);
	}
	free(name);
	if (data != NULL) {
		explicit_bzero(data, strlen(data)); /* the cookie is a secret */
		free(data);
	}
	return 0;
}

/* Set PAM_XAUTHDATA from two strings; libpam copies them. */
static int set_xauth(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "ss", why) < 0)
		return -1;
	struct pam_xauth_data x = {
		.namelen = (int)strlen(m->f[0].s), .name = (char *)m->f[0].s,
		.datalen = (int)strlen(m->f[1].s), .data = (char *)m->f[1].s,
	};
	reply_code(r, pam_set_item(pamh, PAM_XAUTHDATA, &x));
	return 0;
}

static void free_data(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	free(data);
}

const char *login_id(pam_handle_t *pamh)
{
	const void *v = NULL;
	if (pam_get_data(pamh, PAMAC_LOGIN_KEY, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

int keep_login_id(pam_handle_t *pamh, const char *id)
{
	char *value = strdup(id);
	if (value == NULL)
		return PAM_BUF_ERR;
	/* libpam frees value with free_data when the key is set again or
	 * the handle ends */
	int rc = pam_set_data(pamh, PAMAC_LOGIN_KEY, value, free_data);
	if (rc != PAM_SUCCESS)
		free(value);
	return rc;
}

/* data_key returns PAMAC_DATA_PREFIX + key in a new string, or NULL. */
static char *data_key(const char *key)
{
	size_t n = strlen(PAMAC_DATA_PREFIX) + strlen(key) + 1;
	char *k = malloc(n);
	if (k != NULL) {
		strcpy(k, PAMAC_DATA_PREFIX);
		strcat(k, key);
	}
	return k;
}

/* keep_state_for_end copies a script's module state where its pam_sm_end
 * will find it. */
static void keep_state_for_end(pam_handle_t *pamh, const char *state)
{
	const void *p = NULL;
	if (pam_get_data(pamh, PAMAC_END_KEY, &p) != PAM_SUCCESS || p == NULL)
		return;
	struct end_args *e = (struct end_args *)p;
	free(e->state);
	e->state = state ? strdup(state) : NULL;
}

static int get_data(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why,
		    const struct end_args *end)
{
	if (want(m, "s", why) < 0)
		return -1;
	if (end != NULL && strncmp(m->f[0].s, PAMAC_STATE_PREFIX, strlen(PAMAC_STATE_PREFIX)) == 0) {
		reply_code(r, PAM_SUCCESS);
		wb_str(r, end->state);
		return 0;
	}
	char *key = data_key(m->f[0].s);
	if (key == NULL) {
		reply_code(r, PAM_BUF_ERR);
		return 0;
	}
	const void *v = NULL;
	int rc = pam_get_data(pamh, key, &v);
	free(key);
	if (rc == PAM_NO_MODULE_DATA) {
		rc = PAM_SUCCESS;
		v = NULL;
	}
	reply_code(r, rc);
	if (rc == PAM_SUCCESS)
		wb_str(r, v);
	return 0;
}

static int set_data(pam_handle_t *pamh, const struct msg *m, struct wbuf *r, const char **why)
{
	if (want(m, "so", why) < 0)
		return -1;
	char *key = data_key(m->f[0].s);
	char *value = m->f[1].s ? strdup(m->f[1].s) : NULL;
	if (key == NULL || (m->f[1].s && value == NULL)) {
		free(key);
		free(value);
		reply_code(r, PAM_BUF_ERR);
		return 0;
	}
	/* libpam copies the name and frees value with free_data, also when
	 * the key is set again or the handle ends. */
	int rc = pam_set_data(pamh, key, value, free_data);
	free(key);
	if (rc != PAM_SUCCESS)
		free(value);
	if (rc == PAM_SUCCESS && strncmp(m->f[0].s, PAMAC_STATE_PREFIX, strlen(PAMAC_STATE_PREFIX)) == 0)
		keep_state_for_end(pamh, m->f[1].s);
	reply_code(r, rc);
	return 0;
}

int serve_request(pam_handle_t *pamh, const struct msg *req, struct wbuf *reply, const char **why,
		  const struct end_args *end)
{
	switch (req->type) {
	case MSG_GET_ITEM: return get_item(pamh, req, reply, why);
	case MSG_SET_ITEM: return set_item(pamh, req, reply, why);
	case MSG_GET_USER: return get_user(pamh, req, reply, why);
	case MSG_CONV: return converse(pamh, req, reply, why);
	case MSG_GET_ENV: return get_env(pamh, req, reply, why);
	case MSG_PUT_ENV: return put_env(pamh, req, reply, why);
	case MSG_ENV_LIST: return env_list(pamh, req, reply, why);
	case MSG_FAIL_DELAY: return fail_delay(pamh, req, reply, why);
	case MSG_GET_DATA: return get_data(pamh, req, reply, why, end);
	case MSG_SET_DATA: return set_data(pamh, req, reply, why);
	case MSG_GET_XAUTH: return get_xauth(pamh, req, reply, why);
	case MSG_SET_XAUTH: return set_xauth(pamh, req, reply, why);
	}
	*why = "unknown request";
	return -1;
}
