/*
 * hvtune bench: the three measurements behind Hyper-V enlightenments, run
 * inside a Linux machine or guest. Compiled on demand by hvtune (see
 * build.py) and printed as one JSON object on standard output.
 *
 *   clock    TSC ticks per clock_gettime(CLOCK_REALTIME) call
 *   cpuid    TSC ticks per cpuid(0x1), a full VM exit and entry under KVM
 *   tlb      T threads of one process map a shared file, touch every page
 *            and unmap it, round after round: every munmap needs a TLB
 *            shootdown on the CPUs that run the other threads
 *
 * Timing: the start is lfence; rdtsc; lfence and the end rdtscp; lfence, so
 * no work leaks across either stamp. CPUs without RDTSCP (QEMU's qemu64
 * model among them) end with lfence; rdtsc; lfence instead. The timing thread is pinned to the CPU
 * it starts on. Each measurement runs once to warm up, then `repeat` times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static volatile uint32_t sink;
static int have_rdtscp;

static inline void cpuid(uint32_t leaf, uint32_t regs[4])
{
    __asm__ __volatile__("cpuid"
                         : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
                         : "a"(leaf), "c"(0));
}

static int cpu_has_rdtscp(void)
{
    uint32_t regs[4];
    cpuid(0x80000000, regs);
    if (regs[0] < 0x80000001)
        return 0;
    cpuid(0x80000001, regs);
    return (regs[3] >> 27) & 1;
}

static inline uint64_t stamp_start(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

static inline uint64_t stamp_end(void)
{
    if (!have_rdtscp)
        return stamp_start();
    unsigned int aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}

static double clock_ticks(long calls)
{
    struct timespec ts;
    uint64_t start = stamp_start();
    for (long i = 0; i < calls; i++)
        clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t end = stamp_end();
    sink ^= (uint32_t)ts.tv_nsec;
    return (double)(end - start) / (double)calls;
}

static double cpuid_ticks(long calls)
{
    uint32_t regs[4];
    uint64_t start = stamp_start();
    for (long i = 0; i < calls; i++) {
        cpuid(1, regs);
        sink ^= regs[0];
    }
    uint64_t end = stamp_end();
    return (double)(end - start) / (double)calls;
}

struct tlb_job {
    int fd;
    long rounds;
    size_t length;
    long page;
    int failed;
};

static void *tlb_worker(void *opaque)
{
    struct tlb_job *job = opaque;
    for (long round = 0; round < job->rounds; round++) {
        char *map = mmap(NULL, job->length, PROT_READ | PROT_WRITE, MAP_SHARED, job->fd, 0);
        if (map == MAP_FAILED) {
            job->failed = errno;
            return NULL;
        }
        for (size_t offset = 0; offset < job->length; offset += (size_t)job->page)
            map[offset] = (char)round;
        munmap(map, job->length);
    }
    return NULL;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run of the TLB test: seconds from starting the threads to the last
 * one finishing (as the plain published test times it), or -errno. */
static double tlb_seconds(int threads, long rounds, long pages, const char *folder)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hvtune-bench-XXXXXX", folder);
    int fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    unlink(path);
    long page = sysconf(_SC_PAGESIZE);
    size_t length = (size_t)pages * (size_t)page;
    if (ftruncate(fd, (off_t)length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    struct tlb_job *jobs = calloc((size_t)threads, sizeof *jobs);
    if (!ids || !jobs) {
        free(ids);
        free(jobs);
        close(fd);
        return -ENOMEM;
    }
    double start = seconds_now();
    int started = 0, failed = 0;
    while (started < threads && !failed) { /* a thread that cannot start fails the run */
        jobs[started] = (struct tlb_job){fd, rounds, length, page, 0};
        failed = pthread_create(&ids[started], NULL, tlb_worker, &jobs[started]);
        started += !failed;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(ids[i], NULL);
        failed = failed ? failed : jobs[i].failed;
    }
    double elapsed = seconds_now() - start;
    free(ids);
    free(jobs);
    close(fd);
    return failed ? -failed : elapsed;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_runs(const char *name, const double *runs, int repeat)
{
    double sorted[repeat];
    memcpy(sorted, runs, sizeof sorted);
    qsort(sorted, (size_t)repeat, sizeof *sorted, by_value);
    double median = repeat % 2 ? sorted[repeat / 2] : (sorted[repeat / 2 - 1] + sorted[repeat / 2]) / 2;
    printf("\"%s\": {\"runs\": [", name);
    for (int i = 0; i < repeat; i++)
        printf("%s%.4f", i ? ", " : "", runs[i]);
    printf("], \"min\": %.4f, \"median\": %.4f, \"max\": %.4f", sorted[0], median, sorted[repeat - 1]);
}

/* With --progress 1: "NAME RUN OF" on standard error before each run (RUN 0:
 * the warm-up), for a terminal to show. */
static int progress;

static void step(const char *name, int run, int of)
{
    if (progress)
        fprintf(stderr, "%s %d %d\n", name, run, of);
}

/* One per-call measurement: a warm-up of `warmup` calls, then `repeat` runs
 * of `count` calls, printed as ", name: {runs..., calls}". */
static void measure_calls(const char *name, double (*ticks)(long), long warmup, long count, double *runs,
                          int repeat)
{
    step(name, 0, repeat);
    ticks(warmup);
    for (int r = 0; r < repeat; r++) {
        step(name, r + 1, repeat);
        runs[r] = ticks(count);
    }
    printf(", ");
    print_runs(name, runs, repeat);
    printf(", \"calls\": %ld}", count);
}

static void print_signature(uint32_t leaf)
{
    uint32_t regs[4];
    cpuid(leaf, regs);
    char text[13];
    memcpy(text, &regs[1], 4);
    memcpy(text + 4, &regs[2], 4);
    memcpy(text + 8, &regs[3], 4);
    text[12] = 0;
    printf("\"0x%08x\": {\"max_leaf\": \"0x%08x\", \"signature\": \"", leaf, regs[0]);
    for (int i = 0; i < 12 && text[i]; i++)
        printf(text[i] >= 32 && text[i] < 127 && text[i] != '"' && text[i] != '\\' ? "%c" : "?", text[i]);
    printf("\"}");
}

static void print_context(void)
{
    uint32_t regs[4];
    cpuid(1, regs);
    int hypervisor = (regs[2] >> 31) & 1;
    char brand[49] = {0};
    cpuid(0x80000000, regs);
    if (regs[0] >= 0x80000004)
        for (uint32_t leaf = 0; leaf < 3; leaf++)
            cpuid(0x80000002 + leaf, (uint32_t *)(brand + 16 * leaf));
    printf("\"context\": {\"cpu_model\": \"");
    for (const char *c = brand; *c; c++)
        if (*c != '"' && *c != '\\')
            putchar(*c);
    printf("\", \"vcpus\": %ld, \"hypervisor_bit\": %s, \"cpuid\": {", sysconf(_SC_NPROCESSORS_ONLN),
           hypervisor ? "true" : "false");
    if (hypervisor) {
        print_signature(0x40000000);
        printf(", ");
        print_signature(0x40000100);
    }
    printf("}}");
}

static void pin_here(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(sched_getcpu(), &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void usage(void)
{
    fprintf(stderr, "usage: hvtune-bench [--which clock,cpuid,tlb] [--count N] [--repeat R] "
                    "[--threads T] [--rounds M] [--pages P] [--folder DIR] [--progress 1]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *which = "clock,cpuid,tlb", *folder = "/tmp";
    long count = 1000000, rounds = 200, pages = 16;
    int repeat = 5, threads = 64;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *option = argv[i], *value = argv[++i];
        if (!strcmp(option, "--which"))
            which = value;
        else if (!strcmp(option, "--count"))
            count = atol(value);
        else if (!strcmp(option, "--repeat"))
            repeat = atoi(value);
        else if (!strcmp(option, "--threads"))
            threads = atoi(value);
        else if (!strcmp(option, "--rounds"))
            rounds = atol(value);
        else if (!strcmp(option, "--pages"))
            pages = atol(value);
        else if (!strcmp(option, "--folder"))
            folder = value;
        else if (!strcmp(option, "--progress"))
            progress = atoi(value);
        else
            usage();
    }
    if (count < 1 || repeat < 1 || threads < 1 || rounds < 1 || pages < 1)
        usage();
    double runs[repeat];
    have_rdtscp = cpu_has_rdtscp();
    printf("{\"tsc_ordering\": \"lfence;rdtsc;lfence ... %s\", ", have_rdtscp ? "rdtscp;lfence" : "lfence;rdtsc;lfence");
    print_context();
    pin_here();
    if (strstr(which, "clock"))
        measure_calls("clock_gettime", clock_ticks, count, count, runs, repeat);
    if (strstr(which, "cpuid"))
        measure_calls("cpuid", cpuid_ticks, count / 10 + 1, count, runs, repeat);
    if (strstr(which, "tlb")) {
        cpu_set_t all;
        CPU_ZERO(&all);
        for (int c = 0; c < CPU_SETSIZE; c++)
            CPU_SET(c, &all);
        sched_setaffinity(0, sizeof all, &all); /* the threads spread over every CPU */
        for (int r = 0; r <= repeat; r++) { /* run 0 warms up */
            step("tlb_shootdown", r, repeat);
            double seconds = tlb_seconds(threads, rounds, pages, folder);
            if (seconds < 0) { /* any run can fail: threads or memory run out */
                printf(", \"tlb_shootdown\": {\"error\": \"%s\"}}\n", strerror((int)-seconds));
                return 1;
            }
            if (r > 0)
                runs[r - 1] = seconds;
        }
        printf(", ");
        print_runs("tlb_shootdown", runs, repeat);
        printf(", \"threads\": %d, \"rounds\": %ld, \"pages\": %ld}", threads, rounds, pages);
    }
    printf("}\n");
    return 0;
}
