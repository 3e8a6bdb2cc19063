/* Reference: the plain mmap/munmap TLB-shootdown test: T threads of one
 * process map a shared file, touch every page, unmap, R rounds each. Prints
 * the seconds all threads took. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int fd;
static long rounds, pages = 16, page;

static void *worker(void *unused)
{
    (void)unused;
    for (long r = 0; r < rounds; r++) {
        char *map = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        for (long p = 0; p < pages; p++)
            map[p * page] = (char)r;
        munmap(map, pages * page);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 64;
    rounds = argc > 2 ? atol(argv[2]) : 200;
    page = sysconf(_SC_PAGESIZE);
    char path[] = "/tmp/tlb-reference-XXXXXX";
    fd = mkstemp(path);
    unlink(path);
    if (ftruncate(fd, pages * page) != 0)
        return 1;
    pthread_t ids[threads];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < threads; i++)
        pthread_create(&ids[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%.4f\n", (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
    return 0;
}
