/*
 * Frames over the socketpair, with a deadline on every wait. Every frame
 * from the helper is checked completely before any of it is used.
 */
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void deadline_init(struct deadline *dl, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, &dl->end);
	dl->end.tv_sec += seconds;
}

int deadline_left_ms(const struct deadline *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (long long)(dl->end.tv_sec - now.tv_sec) * 1000 +
		       (dl->end.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 1000000 ? 1000000 : (int)ms;
}

static void wb_grow(struct wbuf *b, size_t more)
{
	if (b->err)
		return;
	if (b->len + more > PAMAC_MAX_FRAME + 4) {
		b->err = 1;
		return;
	}
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->err = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void wb_init(struct wbuf *b, char type)
{
	memset(b, 0, sizeof(*b));
	wb_grow(b, 5);
	if (b->err)
		return;
	b->len = 5;
	b->p[4] = (unsigned char)type;
}

void wb_int(struct wbuf *b, int32_t v)
{
	wb_grow(b, 5);
	if (b->err)
		return;
	b->p[b->len] = 'i';
	put_u32(b->p + b->len + 1, (uint32_t)v);
	b->len += 5;
}

void wb_str(struct wbuf *b, const char *s)
{
	if (s == NULL) {
		wb_grow(b, 1);
		if (!b->err)
			b->p[b->len++] = 'n';
		return;
	}
	size_t n = strlen(s);
	if (n > PAMAC_MAX_FRAME) {
		b->err = 1;
		return;
	}
	wb_grow(b, 5 + n);
	if (b->err)
		return;
	b->p[b->len] = 's';
	put_u32(b->p + b->len + 1, (uint32_t)n);
	memcpy(b->p + b->len + 5, s, n);
	b->len += 5 + n;
}

void wb_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Wait until fd is ready for events, or fail at the deadline. */
static int wait_fd(int fd, short events, const struct deadline *dl, const char **why)
{
	for (;;) {
		int ms = deadline_left_ms(dl);
		if (ms == 0) {
			*why = "timed out";
			return -1;
		}
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = "poll failed";
			return -1;
		}
		if (r == 0)
			continue; /* the deadline check above ends the loop */
		if (pfd.revents & POLLNVAL) {
			*why = "socket closed";
			return -1;
		}
		/* POLLERR and POLLHUP: the next recv or send says what is left */
		return 0;
	}
}

int wire_send(int fd, struct wbuf *b, const struct deadline *dl, const char **why)
{
	if (b->err) {
		*why = "message too large or out of memory";
		return -1;
	}
	put_u32(b->p, (uint32_t)(b->len - 4));
	size_t off = 0;
	while (off < b->len) {
		if (wait_fd(fd, POLLOUT, dl, why) < 0)
			return -1;
		/* MSG_NOSIGNAL: a dead helper must not SIGPIPE the host */
		ssize_t n = send(fd, b->p + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			*why = "helper went away";
			return errno == EPIPE || errno == ECONNRESET ? WIRE_CLOSED : -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int read_full(int fd, unsigned char *p, size_t len, const struct deadline *dl, const char **why)
{
	size_t off = 0;
	while (off < len) {
		if (wait_fd(fd, POLLIN, dl, why) < 0)
			return -1;
		ssize_t n = recv(fd, p + off, len - off, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno == ECONNRESET && off == 0) {
			/* a daemon that stopped with our call still in its
			 * listen queue: closed between frames, as far as we
			 * are concerned */
			*why = "helper closed the connection";
			return WIRE_CLOSED;
		}
		if (n < 0) {
			*why = "read failed";
			return -1;
		}
		if (n == 0) {
			*why = "helper closed the connection";
			return off == 0 ? WIRE_CLOSED : -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* parse_body checks every field of a body before anything uses it. */
static int parse_body(const unsigned char *body, uint32_t len, struct msg *m, const char **why)
{
	char *out = m->arena;
	uint32_t pos = 1;
	m->type = (char)body[0];
	m->nfields = 0;
	while (pos < len) {
		if (m->nfields == PAMAC_MAX_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		struct field *f = &m->f[m->nfields++];
		f->kind = (char)body[pos++];
		f->i = 0;
		f->s = NULL;
		switch (f->kind) {
		case 'i':
			if (len - pos < 4) {
				*why = "int field cut short";
				return -1;
			}
			f->i = (int32_t)get_u32(body + pos);
			pos += 4;
			break;
		case 's': {
			if (len - pos < 4) {
				*why = "string length cut short";
				return -1;
			}
			uint32_t n = get_u32(body + pos);
			pos += 4;
			if (n > len - pos) {
				*why = "string longer than its frame";
				return -1;
			}
			if (memchr(body + pos, '\0', n) != NULL) {
				*why = "NUL byte inside a string";
				return -1;
			}
			memcpy(out, body + pos, n);
			out[n] = '\0';
			f->s = out;
			out += n + 1;
			pos += n;
			break;
		}
		case 'n':
			break;
		default:
			*why = "unknown field kind";
			return -1;
		}
	}
	return 0;
}

int wire_recv(int fd, struct msg *m, const struct deadline *dl, const char **why)
{
	unsigned char hdr[4];
	memset(m, 0, sizeof(*m));
	int r = read_full(fd, hdr, sizeof(hdr), dl, why);
	if (r < 0)
		return r; /* WIRE_CLOSED: between frames */
	uint32_t len = get_u32(hdr);
	if (len == 0 || len > PAMAC_MAX_FRAME) {
		*why = "frame length out of range";
		return -1;
	}
	unsigned char *body = malloc(len);
	/* the strings' copies plus a NUL each never exceed len + fields */
	m->arena = malloc(len + PAMAC_MAX_FIELDS);
	if (body == NULL || m->arena == NULL) {
		free(body);
		msg_free(m);
		*why = "out of memory";
		return -1;
	}
	r = read_full(fd, body, len, dl, why);
	if (r == WIRE_CLOSED)
		r = -1; /* inside a frame */
	if (r == 0)
		r = parse_body(body, len, m, why);
	free(body);
	if (r < 0)
		msg_free(m);
	return r;
}

void msg_free(struct msg *m)
{
	free(m->arena);
	m->arena = NULL;
	m->nfields = 0;
}
