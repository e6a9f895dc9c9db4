/* Hazard: name lookups run inside glibc, where no hook sees them wait. 200
 * threads look up "localhost" with getaddrinfo at once (from /etc/hosts:
 * no network), check the answer is a loopback address, and free it; also
 * gethostbyname_r("localhost"), getnameinfo of 127.0.0.1:80 numerically,
 * and getaddrinfo's error for a bad numeric host (EAI_NONAME). The lookups
 * run on a thread pool under the preload: the answers must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define N 200

static atomic_int good;

static int loopback(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) == INADDR_LOOPBACK;
	if (ai->ai_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	return 0;
}

static void *look(void *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int ok;

	(void)arg;
	if (getaddrinfo("localhost", "80", &hints, &res) != 0 || !res)
		return NULL;
	ok = 1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		ok &= loopback(ai) && ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port) == 80;
	freeaddrinfo(res);
	if (ok)
		atomic_fetch_add(&good, 1);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	struct hostent he, *result = NULL;
	char buf[2048], host[64], serv[16];
	int herr = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *res = NULL;

	alarm(30);
	for (int i = 0; i < N; i++)
		MUST(pthread_create(&t[i], NULL, look, NULL));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(atomic_load(&good) == N, "all %d threads got localhost:80 as loopback", N);

	CHECK(gethostbyname_r("localhost", &he, buf, sizeof(buf), &result, &herr) == 0 && result &&
		      result->h_addrtype == AF_INET,
	      "gethostbyname_r(localhost) answers an IPv4 address");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host), serv,
			  sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0 &&
		      !strcmp(host, "127.0.0.1") && !strcmp(serv, "80"),
	      "getnameinfo numeric: 127.0.0.1 80");
	CHECK(getaddrinfo("256.1.1.1", NULL, &hints, &res) == EAI_NONAME,
	      "a bad numeric host: EAI_NONAME");
	return check_done();
}
