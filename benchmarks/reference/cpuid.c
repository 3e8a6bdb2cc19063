/* Reference: the plain cpuid loop of kvm-unit-tests' x86/vmexit.c (push rbx;
 * cpuid; pop rbx), timed with bare rdtsc. Prints TSC ticks per cpuid. */
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    unsigned long long start = __rdtsc();
    for (long i = 0; i < n; i++)
        __asm__ __volatile__("push %%rbx; cpuid; pop %%rbx" : : "a"(1), "c"(0) : "rdx", "memory");
    unsigned long long end = __rdtsc();
    printf("%.4f\n", (double)(end - start) / (double)n);
    return 0;
}
