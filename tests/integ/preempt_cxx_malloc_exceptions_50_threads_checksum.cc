/* Hazard: preemption must never switch away inside code that holds a lock
 * no green thread can wait for greenly: malloc's arena lock, the C++
 * unwinder's and the loader's (an exception's unwind runs under
 * dl_iterate_phdr or _dl_find_object), stdio's. 50 threads loop over
 * malloc/free of odd sizes, throw and catch exceptions through a few
 * frames and mix the results into a checksum, while a preemption lands
 * every slice: no deadlock, no corruption, the same checksums as
 * natively. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"

enum { THREADS = 50, ROUNDS = 4000 };

static uint64_t sums[THREADS];

__attribute__((noinline)) static uint64_t deep(int n, uint64_t x)
{
	if (n == 0) {
		if (x % 3 == 0)
			throw std::runtime_error(std::to_string(x));
		return x;
	}
	std::string guard(24 + n, 'g'); /* a destructor on the way out */
	return deep(n - 1, x * 6364136223846793005ull + 1442695040888963407ull) + guard.size();
}

static void *work(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t sum = (uint64_t)id, x = (uint64_t)id * 2654435761u + 1;
	std::vector<char *> held;

	for (int r = 0; r < ROUNDS; r++) {
		size_t size = 1 + (x % 5000);
		char *p = (char *)malloc(size);
		memset(p, (int)(x & 0xff), size);
		held.push_back(p);
		if (held.size() > 16) {
			char *q = held[x % held.size()];
			sum += (unsigned char)q[0];
			free(q);
			held.erase(held.begin() + (long)(x % held.size()));
		}
		try {
			sum += deep(3 + (int)(x % 4), x);
		} catch (const std::runtime_error &e) {
			sum += strlen(e.what());
		}
		/* Some computing without calls between the library calls. */
		for (int k = 0; k < 2000; k++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		sum ^= x >> 17;
	}
	for (char *p : held)
		free(p);
	sums[id] = sum;
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	uint64_t total = 0;

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++)
		total = total * 31 + sums[i];
	printf("checksum %016llx\n", (unsigned long long)total);
	CHECK(total != 0, "50 threads of malloc/free and exceptions finished");
	return check_done();
}
