/*
 * validate_http01.c - the validator threads and the http-01 check (RFC
 * 8555 §8.3): GET http://{identifier}:{httpPort}/.well-known/
 * acme-challenge/{token} with libcurl, redirects followed (at most 10,
 * HTTP and HTTPS only), the body read up to ACME_HTTP01_MAX_BODY bytes
 * and compared, trailing whitespace ignored, with the key authorization.
 * The threads take jobs from one bounded queue; a request thread only
 * queues, so no event loop waits for a remote server.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acme_int.h"

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct jobq {
		struct acme_job	*job;
		struct jobq	*next;
	}		*head, *tail;
	size_t		 queued;
	bool		 running;
	bool		 curl;		/* curl_global_init done */
	pthread_t	*threads;
	unsigned	 nthreads;
};

static struct pool pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/*
 * Each validator thread keeps one curl easy handle: creating one per
 * validation also created its multi handle and wake-up socketpair.  What
 * curl_easy_reset keeps across validations is neutralised: connections
 * are never reused (FORBID_REUSE, FRESH_CONNECT), resolved names are not
 * cached (DNS_CACHE_TIMEOUT 0), and the CURLOPT_RESOLVE entry of the
 * previous validation, which the DNS cache keeps for good, is removed by
 * the next one ("-host:port").
 */
static _Thread_local CURL *thread_curl;	/* owned by the thread */
static _Thread_local char *thread_resolved; /* owned: "host:port" */

void
acme_job_free(struct acme_job *j)
{
	if (j == NULL)
		return;
	free(j->chall_id);
	free(j->ident);
	free(j->token);
	free(j->key_auth);
	free(j->connect_ip);
	free(j);
}

struct body {
	char		 buf[ACME_HTTP01_MAX_BODY + 1];
	size_t		 len;
	bool		 over;
};

static size_t
body_write(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (len > ACME_HTTP01_MAX_BODY - b->len) {
		b->over = true;
		return 0;	/* aborts the transfer */
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	return len;
}

enum dv_rc
acme_http01_validate(const struct acme_job *j, json_t **err)
{
	struct curl_slist *res = NULL;
	struct body *b = xcalloc(1, sizeof(*b));
	bool v6 = strchr(j->ident, ':') != NULL;
	char *url = NULL, *r = NULL;
	CURL *h = NULL;
	CURLcode cc;
	long status = 0;
	enum dv_rc rc = DV_ERR_UNAUTHORIZED;

	*err = NULL;
	url = xasprintf("http://%s%s%s:%d/.well-known/acme-challenge/%s",
	    v6 ? "[" : "", j->ident, v6 ? "]" : "", j->port, j->token);
	if (thread_curl == NULL && (thread_curl = curl_easy_init()) == NULL) {
		*err = acme_problem_json(ACME_ERR_SERVER_INTERNAL,
		    "validator unavailable");
		goto out;
	}
	h = thread_curl;
	curl_easy_reset(h);
	if (thread_resolved != NULL) {
		r = xasprintf("-%s", thread_resolved);
		res = curl_slist_append(res, r);
		free(r);
		r = NULL;
		free(thread_resolved);
		thread_resolved = NULL;
	}
	if (j->connect_ip != NULL) {
		r = xasprintf("%s:%d:%s", j->ident, j->port, j->connect_ip);
		res = curl_slist_append(res, r);
		thread_resolved = xasprintf("%s:%d", j->ident, j->port);
	}
	if (res != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, res);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)ACME_HTTP01_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* §8.3: the server does not check the certificate of a redirect */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "devid-acme-validator");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	cc = curl_easy_perform(h);
	if (b->over) {
		*err = acme_problem_json(ACME_ERR_INCORRECT_RESPONSE,
		    "the http-01 response is too large");
		goto out;
	}
	if (cc != CURLE_OK) {
		log_msg(LOG_INFO, "acme.http01", "{s:s,s:s,s:s}", "challenge",
		    j->chall_id, "url", url, "error", curl_easy_strerror(cc));
		*err = acme_problem_json(ACME_ERR_CONNECTION, "could not "
		    "fetch the http-01 resource");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		log_msg(LOG_INFO, "acme.http01", "{s:s,s:s,s:i}", "challenge",
		    j->chall_id, "url", url, "status", (int)status);
		*err = acme_problem_json(ACME_ERR_UNAUTHORIZED, "the http-01 "
		    "resource did not answer 200");
		goto out;
	}
	/* §8.3: trailing whitespace is ignored */
	while (b->len > 0 && (b->buf[b->len - 1] == ' ' ||
	    b->buf[b->len - 1] == '\t' || b->buf[b->len - 1] == '\r' ||
	    b->buf[b->len - 1] == '\n'))
		b->len--;
	if (b->len != strlen(j->key_auth) || memcmp(b->buf, j->key_auth,
	    b->len) != 0) {
		log_msg(LOG_INFO, "acme.http01", "{s:s,s:s,s:s}", "challenge",
		    j->chall_id, "url", url, "detail",
		    "key authorization differs");
		*err = acme_problem_json(ACME_ERR_INCORRECT_RESPONSE, "the "
		    "http-01 response is not the key authorization");
		goto out;
	}
	rc = DV_OK;
out:
	/* the handle stays the thread's; the list must outlive the
	 * transfer only */
	if (h != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
	curl_slist_free_all(res);
	free(r);
	free(url);
	free(b);
	return rc;
}

static void
run_job(struct acme_job *j)
{
	json_t *err = NULL;
	enum dv_rc rc;

	switch (j->type) {
	case ACME_CH_HTTP01:
		rc = acme_http01_validate(j, &err);
		break;
	case ACME_CH_DNS01:
		rc = acme_dns01_validate(j, &err);
		break;
	case ACME_CH_TLSALPN01:
		rc = acme_tlsalpn01_validate(j, &err);
		break;
	default:
		/* challenge.c queues only types with a validator */
		rc = DV_ERR_INTERNAL;
		err = acme_problem_json(ACME_ERR_SERVER_INTERNAL,
		    "no validator for this challenge type");
		break;
	}
	log_msg(LOG_INFO, "acme.validated", "{s:s,s:s,s:b}", "challenge",
	    j->chall_id, "type", acme_ch_names[j->type], "ok", rc == DV_OK);
	if (acme_chall_result(j->store, j->chall_id, rc == DV_OK, err) !=
	    DV_OK)
		log_msg(LOG_ERR, "acme.validated", "{s:s,s:s}", "challenge",
		    j->chall_id, "detail", "the result could not be stored");
	json_decref(err);
}

static void *
worker(void *arg)
{
	struct jobq *q;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.running && pool.head == NULL)
			pthread_cond_wait(&pool.cond, &pool.lock);
		if (pool.head == NULL)
			break;	/* stopping and nothing left */
		q = pool.head;
		pool.head = q->next;
		if (pool.head == NULL)
			pool.tail = NULL;
		pool.queued--;
		pthread_mutex_unlock(&pool.lock);
		run_job(q->job);
		acme_job_free(q->job);
		free(q);
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	if (thread_curl != NULL)
		curl_easy_cleanup(thread_curl);
	thread_curl = NULL;
	free(thread_resolved);
	thread_resolved = NULL;
	return NULL;
}

enum dv_rc
acme_job_submit(struct acme_job *j)
{
	struct jobq *q;

	pthread_mutex_lock(&pool.lock);
	if (!pool.running || pool.queued >= ACME_MAX_QUEUED) {
		pthread_mutex_unlock(&pool.lock);
		log_msg(LOG_WARN, "acme.validator", "{s:s,s:s}", "challenge",
		    j->chall_id, "detail", pool.running ? "queue full" :
		    "no validator running");
		acme_job_free(j);
		return DV_ERR_UNAVAILABLE;
	}
	q = xcalloc(1, sizeof(*q));
	q->job = j;
	if (pool.tail != NULL)
		pool.tail->next = q;
	else
		pool.head = q;
	pool.tail = q;
	pool.queued++;
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	return DV_OK;
}

enum dv_rc
acme_validators_start(struct ca *ca, unsigned n)
{
	struct acme_cfg cfg;
	struct prov *p;
	size_t a, k;
	unsigned i;

	/* a provisioner whose options are wrong stops the server here,
	 * not at its first request (logged by acme_cfg_load) */
	for (a = 0; a < ca->nauths; a++)
		for (k = 0; k < prov_set_count(ca->auths[a]->provs); k++) {
			p = prov_set_get(ca->auths[a]->provs, k);
			if (prov_get_type(p) == PROV_ACME &&
			    !acme_cfg_load(p, &cfg))
				return DV_ERR_MALFORMED;
		}
	pthread_mutex_lock(&pool.lock);
	if (pool.running) {
		pthread_mutex_unlock(&pool.lock);
		return DV_OK;
	}
	/* refcounted, thread-safe since curl 7.84 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pthread_mutex_unlock(&pool.lock);
		log_msg(LOG_ERR, "acme.validator", "{s:s}", "detail",
		    "curl_global_init failed");
		return DV_ERR_INTERNAL;
	}
	pool.curl = true;
	pool.threads = xcalloc(n, sizeof(*pool.threads));
	pool.running = true;
	for (i = 0; i < n; i++) {
		if (pthread_create(&pool.threads[i], NULL, worker, NULL) != 0)
			break;
	}
	pool.nthreads = i;
	pthread_mutex_unlock(&pool.lock);
	if (i == 0) {
		log_msg(LOG_ERR, "acme.validator", "{s:s}", "detail",
		    "no thread could be started");
		acme_validators_stop();
		return DV_ERR_INTERNAL;
	}
	return DV_OK;
}

void
acme_validators_stop(void)
{
	unsigned i, n;

	pthread_mutex_lock(&pool.lock);
	pool.running = false;
	pthread_cond_broadcast(&pool.cond);
	n = pool.nthreads;
	pthread_mutex_unlock(&pool.lock);
	/* the workers finish the queued jobs first: the store is open */
	for (i = 0; i < n; i++)
		pthread_join(pool.threads[i], NULL);
	pthread_mutex_lock(&pool.lock);
	free(pool.threads);
	pool.threads = NULL;
	pool.nthreads = 0;
	if (pool.curl)
		curl_global_cleanup();
	pool.curl = false;
	pthread_mutex_unlock(&pool.lock);
}
