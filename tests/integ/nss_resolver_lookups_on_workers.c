/* Hazard: NSS lookups and the resolver's queries read files and sockets
 * through glibc's internal calls; when what answers is another thread of
 * the process (here, a DNS server thread on 127.0.0.1), a lookup that
 * blocks the OS thread never lets it answer (a hang).
 *   - res_query to a DNS server thread of this process, through the
 *     thread's _res set up with res_init and the server's address: the
 *     answer comes (127.0.0.42), so the query used the caller's state;
 *     res_nquery with a state of its own, and res_search, likewise;
 *   - h_errno for a name the server refuses (HOST_NOT_FOUND);
 *   - getpwnam, getpwuid, getgrnam, getgrgid and their _r forms,
 *     getgrouplist and a getpwent walk give what libc gives, errno too;
 *   - 20 threads looking users up at once all get their answer, while a
 *     ticker thread runs. */
/* ldlibs: -lresolv */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static int dns;
static struct sockaddr_in dns_addr;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* A DNS server for one name: greenify.test A 127.0.0.42; every other
 * name NXDOMAIN. Answers until it gets a query for "stop.test". */
static void *server(void *arg)
{
	unsigned char q[512], a[600];
	(void)arg;

	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(dns, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		size_t off = 12;
		char name[256] = "";
		while (off < (size_t)n && q[off]) {
			size_t l = q[off];
			strncat(name, (const char *)q + off + 1, l < sizeof(name) ? l : 0);
			strcat(name, ".");
			off += l + 1;
		}
		off += 5; /* the root label, qtype, qclass */
		if (off > (size_t)n)
			continue;
		memcpy(a, q, off);
		a[2] = 0x81; /* QR, RD */
		a[3] = 0x80; /* RA */
		a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = 0;
		size_t len = off;
		int stop_now = !strcmp(name, "stop.test.");
		if (!strcmp(name, "greenify.test.")) {
			static const unsigned char rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
							   127, 0, 0, 42};
			a[7] = 1;
			memcpy(a + off, rr, sizeof(rr));
			len += sizeof(rr);
		} else {
			a[3] |= 3; /* NXDOMAIN */
		}
		MUST(sendto(dns, a, len, 0, (struct sockaddr *)&from, flen) < 0 ? -1 : 0);
		if (stop_now)
			return NULL;
	}
}

static int answer_is_42(const unsigned char *ans, int len)
{
	return len >= 16 && ans[len - 4] == 127 && ans[len - 3] == 0 && ans[len - 2] == 0 &&
	       ans[len - 1] == 42;
}

static void point(res_state st)
{
	st->nscount = 1;
	st->nsaddr_list[0] = dns_addr;
	st->retry = 2;
	st->retrans = 2;
	st->options &= ~(unsigned long)RES_DEFNAMES;
	st->ndots = 1;
}

static void resolver(void)
{
	unsigned char ans[512];
	struct __res_state own;
	int n;

	MUST(res_init());
	point(&_res);
	n = res_query("greenify.test", C_IN, T_A, ans, sizeof(ans));
	CHECK(answer_is_42(ans, n), "res_query asks the server thread through this thread's _res");
	n = res_search("greenify.test", C_IN, T_A, ans, sizeof(ans));
	CHECK(answer_is_42(ans, n), "res_search likewise");
	h_errno = 0;
	n = res_query("nothing.test", C_IN, T_A, ans, sizeof(ans));
	CHECK(n == -1 && h_errno == HOST_NOT_FOUND, "a refused name: -1, h_errno HOST_NOT_FOUND");
	memset(&own, 0, sizeof(own));
	MUST(res_ninit(&own));
	point(&own);
	n = res_nquery(&own, "greenify.test", C_IN, T_A, ans, sizeof(ans));
	CHECK(answer_is_42(ans, n), "res_nquery with a state of its own");
	res_nquery(&own, "stop.test", C_IN, T_A, ans, sizeof(ans));
	res_nclose(&own);
}

static void users(void)
{
	struct passwd pw, *pp;
	struct group gr, *gp;
	char buf[4096];
	gid_t groups[64];
	int ng = 64, walked = 0, lines = 0;
	FILE *f;

	pp = getpwuid(0);
	CHECK(pp && !strcmp(pp->pw_name, "root"), "getpwuid(0) is root");
	pp = getpwnam("root");
	CHECK(pp && pp->pw_uid == 0, "getpwnam(root) is uid 0");
	CHECK(getpwnam_r("root", &pw, buf, sizeof(buf), &pp) == 0 && pp == &pw && pw.pw_uid == 0,
	      "getpwnam_r(root)");
	CHECK(getpwuid_r(0, &pw, buf, sizeof(buf), &pp) == 0 && pp == &pw, "getpwuid_r(0)");
	CHECK(getpwnam_r("root", &pw, buf, 4, &pp) == ERANGE && pp == NULL,
	      "getpwnam_r into 4 bytes: ERANGE");
	gp = getgrgid(0);
	CHECK(gp && !strcmp(gp->gr_name, "root"), "getgrgid(0) is root");
	gp = getgrnam("root");
	CHECK(gp && gp->gr_gid == 0, "getgrnam(root) is gid 0");
	CHECK(getgrnam_r("root", &gr, buf, sizeof(buf), &gp) == 0 && gp == &gr, "getgrnam_r(root)");
	CHECK(getgrgid_r(0, &gr, buf, sizeof(buf), &gp) == 0 && gp == &gr, "getgrgid_r(0)");
	CHECK(getgrouplist("root", 0, groups, &ng) >= 1 && ng >= 1 && groups[0] == 0,
	      "getgrouplist(root)");
	errno = 0;
	pp = getpwnam("no-such-user-greenify");
	printf("getpwnam of a missing user: %s, errno %s\n", pp ? "found" : "NULL", errname(errno));
	setpwent();
	while (getpwent())
		walked++;
	endpwent();
	f = fopen("/etc/passwd", "r");
	while (f && fgets(buf, sizeof(buf), f))
		lines += buf[0] != '#' && buf[0] != '\n';
	if (f)
		fclose(f);
	CHECK(walked >= lines && walked > 0, "getpwent walks every user of /etc/passwd");
}

static void *lookup_many(void *arg)
{
	struct passwd pw, *pp;
	char buf[1024];

	for (int i = 0; i < 20; i++)
		if (getpwuid_r(0, &pw, buf, sizeof(buf), &pp) != 0 || !pp || pw.pw_uid != 0)
			*(int *)arg = 0;
	return NULL;
}

static void concurrent(void)
{
	pthread_t t[20];
	int ok = 1;

	for (int i = 0; i < 20; i++)
		MUST(pthread_create(&t[i], NULL, lookup_many, &ok));
	for (int i = 0; i < 20; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(ok, "20 threads x 20 getpwuid_r: every answer right");
}

int main(void)
{
	pthread_t tick, srv;
	socklen_t len = sizeof(dns_addr);

	dns = socket(AF_INET, SOCK_DGRAM, 0);
	dns_addr = (struct sockaddr_in){.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	MUST(bind(dns, (struct sockaddr *)&dns_addr, sizeof(dns_addr)));
	MUST(getsockname(dns, (struct sockaddr *)&dns_addr, &len));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_create(&srv, NULL, server, NULL));
	resolver();
	MUST(pthread_join(srv, NULL));
	users();
	concurrent();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	close(dns);
	return check_done();
}
