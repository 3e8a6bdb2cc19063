/* Reference: the plain clock_gettime loop, timed with bare rdtsc, as the
 * published measurements write it. Prints TSC ticks per call. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    struct timespec ts;
    unsigned long long start = __rdtsc();
    for (long i = 0; i < n; i++)
        clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long end = __rdtsc();
    printf("%.4f\n", (double)(end - start) / (double)n);
    return 0;
}
