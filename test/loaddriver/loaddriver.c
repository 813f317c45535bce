/*
 * loaddriver: many PAM transactions at once through one service of a
 * private PAM directory (pam_start_confdir), as a busy sshd has them: each
 * thread is one login after another, all threads at the same time.
 *
 *   loaddriver CONFDIR SERVICE THREADS ROUNDS USER=CODE [USER=CODE ...]
 *
 * Thread i logs in as the (i mod n)-th USER, ROUNDS times: pam_start,
 * PAM_RHOST 192.0.2.10, pam_authenticate, pam_end. A round whose
 * pam_authenticate returns anything but that user's CODE is wrong; one that
 * returns PAM_SUCCESS is in. The
 * threads start together (a barrier). Prints
 *   calls N wrong W in I
 *   p50_us A p99_us B max_us C
 * and, for the first wrong round of each user, "wrong USER got G".
 * Exit status 0 when it ran (wrong rounds included); alarm() bounds it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

struct login {
	const char *user;
	int want;
	int reported; /* under report_mu */
};

static const char *confdir, *service;
static int rounds, nlogins;
static struct login *logins;
static long *latency_us; /* threads * rounds */
static int wrong, in;
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;

static int quiet(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)msg;
	(void)data;
	*resp = calloc((size_t)n, sizeof(struct pam_response));
	return *resp == NULL ? PAM_BUF_ERR : PAM_SUCCESS;
}

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void *run(void *arg)
{
	long i = (long)arg;
	struct login *l = &logins[i % nlogins];
	const struct pam_conv conv = { quiet, NULL };
	pthread_barrier_wait(&start);
	for (int r = 0; r < rounds; r++) {
		long t0 = now_us();
		pam_handle_t *h = NULL;
		int rc = pam_start_confdir(service, l->user, &conv, confdir, &h);
		if (rc == PAM_SUCCESS) {
			pam_set_item(h, PAM_RHOST, "192.0.2.10");
			rc = pam_authenticate(h, 0);
			pam_end(h, rc);
		} else {
			rc = -1;
		}
		latency_us[i * rounds + r] = now_us() - t0;
		pthread_mutex_lock(&report_mu);
		if (rc == PAM_SUCCESS)
			in++;
		pthread_mutex_unlock(&report_mu);
		if (rc != l->want) {
			pthread_mutex_lock(&report_mu);
			wrong++;
			if (!l->reported) {
				l->reported = 1;
				printf("wrong %s got %d\n", l->user, rc);
			}
			pthread_mutex_unlock(&report_mu);
		}
	}
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: loaddriver CONFDIR SERVICE THREADS ROUNDS USER=CODE...\n");
		return 2;
	}
	alarm(600);
	/* a descriptor per login at once, as a busy server raises its limit */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	confdir = argv[1];
	service = argv[2];
	int threads = atoi(argv[3]);
	rounds = atoi(argv[4]);
	nlogins = argc - 5;
	if (threads < 1 || rounds < 1) {
		fprintf(stderr, "THREADS and ROUNDS must be positive\n");
		return 2;
	}
	logins = calloc((size_t)nlogins, sizeof(*logins));
	latency_us = calloc((size_t)threads * (size_t)rounds, sizeof(long));
	pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
	if (logins == NULL || latency_us == NULL || tids == NULL) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	for (int i = 0; i < nlogins; i++) {
		char *eq = strchr(argv[5 + i], '=');
		if (eq == NULL) {
			fprintf(stderr, "want USER=CODE, not %s\n", argv[5 + i]);
			return 2;
		}
		*eq = '\0';
		logins[i].user = argv[5 + i];
		logins[i].want = atoi(eq + 1);
	}
	if (pthread_barrier_init(&start, NULL, (unsigned)threads) != 0) {
		fprintf(stderr, "pthread_barrier_init failed\n");
		return 2;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (long i = 0; i < threads; i++) {
		if (pthread_create(&tids[i], &attr, run, (void *)i) != 0) {
			fprintf(stderr, "pthread_create %ld failed\n", i);
			return 2;
		}
	}
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);

	long n = (long)threads * rounds;
	qsort(latency_us, (size_t)n, sizeof(long), cmp_long);
	printf("calls %ld wrong %d in %d\n", n, wrong, in);
	printf("p50_us %ld p99_us %ld max_us %ld\n", latency_us[n / 2], latency_us[(n * 99) / 100], latency_us[n - 1]);
	free(tids);
	free(latency_us);
	free(logins);
	return 0;
}
