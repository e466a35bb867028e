/* pv-pagemap-touch [PAGES]: a buffer of PAGES pages (default 16), filled with
 * a pattern that names each word's page and offset and locked in memory. It
 * prints each page's PFN from /proc/self/pagemap (guest real address =
 * PFN * pagesize, the partition's logical address), e.g.
 *   PV-LINUX: pages pid=91 pfns=0x1f3a,0x1f3b pagesize=65536 count=2
 * then creates /tmp/pv-pages.ready and waits until /tmp/go exists, SIGUSR1
 * arrives or a line is read on stdin. Then it reads every page back. A page
 * that raises SIGBUS (the kernel's answer to a machine check on that page) is
 * reported with si_code and si_addr and skipped:
 *   PV-LINUX: pages sigbus page=3 addr=0x... code=4 (BUS_MCEERR_AR)
 *   PV-LINUX: pages touched pid=91 intact=15/16 corrupt=0 sigbus=1
 * Exit 0: every page intact; 3: some pages raised SIGBUS, the others intact;
 * 2: some page came back with wrong data; 1: set-up error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf touch_env;
static volatile sig_atomic_t go_signal;
static volatile int bus_code;
static void *volatile bus_addr;

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
    (void)sig, (void)ctx;
    bus_code = info->si_code;
    bus_addr = info->si_addr;
    siglongjmp(touch_env, 1);
}

static void on_usr1(int sig) { (void)sig; go_signal = 1; }

static uint64_t pattern(long page, long word) { return 0x5056000000000000ull ^ (uint64_t)page << 24 ^ (uint64_t)word; }

static const char *bus_code_name(int code)
{
    switch (code) {
    case BUS_ADRALN: return "BUS_ADRALN";
    case BUS_ADRERR: return "BUS_ADRERR";
    case BUS_OBJERR: return "BUS_OBJERR";
    case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
    case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
    default: return "other";
    }
}

static void wait_for_go(void)
{
    int stdin_open = 1;
    while (!go_signal && access("/tmp/go", F_OK) != 0) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (!stdin_open || poll(&p, 1, 100) <= 0) {
            if (!stdin_open) usleep(100000);
            continue;
        }
        char c;
        ssize_t n = read(0, &c, 1);
        if (n <= 0) stdin_open = 0;      /* end of file (/dev/null): stop listening */
        else if (c == '\n' || c == '\r') return;
    }
}

/* Reads every page back; returns the number intact. */
static long touch_all(const uint64_t *buf, long pages, long words, long *corrupt_out, long *sigbus_out)
{
    volatile long intact = 0, corrupt = 0, sigbus = 0;
    for (volatile long p = 0; p < pages; p++) {
        if (sigsetjmp(touch_env, 1)) {
            printf("PV-LINUX: pages sigbus page=%ld addr=%p code=%d (%s)\n", (long)p, bus_addr, bus_code,
                   bus_code_name(bus_code));
            sigbus++;
            continue;
        }
        long bad = 0;
        for (long w = 0; w < words; w++) bad += ((const volatile uint64_t *)buf)[p * words + w] != pattern(p, w);
        if (bad) {
            printf("PV-LINUX: pages page=%ld has %ld wrong words\n", (long)p, bad);
            corrupt++;
        } else {
            intact++;
        }
    }
    *corrupt_out = corrupt;
    *sigbus_out = sigbus;
    return intact;
}

int main(int argc, char **argv)
{
    long pages = argc > 1 ? strtol(argv[1], NULL, 0) : 16;
    long pagesize = sysconf(_SC_PAGESIZE);
    long words = pagesize / 8;
    if (pages < 1 || pages > 4096) {
        printf("PV-LINUX: pages error bad count %ld\n", pages);
        return 1;
    }
    uint64_t *buf = mmap(NULL, (size_t)(pages * pagesize), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED) { printf("PV-LINUX: pages error mmap: %s\n", strerror(errno)); return 1; }
    /* Locked: the kernel keeps these PFNs for the buffer (no reclaim). */
    if (mlock(buf, (size_t)(pages * pagesize)) != 0)
        printf("PV-LINUX: pages warning mlock: %s\n", strerror(errno));
    for (long p = 0; p < pages; p++)
        for (long w = 0; w < words; w++) buf[p * words + w] = pattern(p, w);

    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm < 0) { printf("PV-LINUX: pages error pagemap: %s\n", strerror(errno)); return 1; }
    size_t len = (size_t)pages * 20 + 1;
    char *list = malloc(len);
    if (!list) return 1;
    list[0] = '\0';
    for (long p = 0; p < pages; p++) {
        uint64_t entry = 0;
        off_t at = (off_t)(((uintptr_t)buf / (uintptr_t)pagesize + (uintptr_t)p) * 8);
        if (pread(pm, &entry, 8, at) != 8) { printf("PV-LINUX: pages error pagemap read\n"); return 1; }
        if (!(entry >> 63 & 1)) { printf("PV-LINUX: pages error page %ld not present\n", p); return 1; }
        uint64_t pfn = entry & ((1ull << 55) - 1);
        if (pfn == 0) { printf("PV-LINUX: pages error PFN hidden (not root?)\n"); return 1; }
        snprintf(list + strlen(list), len - strlen(list), "%s0x%llx", p ? "," : "", (unsigned long long)pfn);
    }
    close(pm);
    printf("PV-LINUX: pages pid=%d pfns=%s pagesize=%ld count=%ld\n", (int)getpid(), list, pagesize, pages);
    fflush(stdout);

    signal(SIGUSR1, on_usr1);
    close(open("/tmp/pv-pages.ready", O_CREAT | O_WRONLY, 0644));
    wait_for_go();

    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    long corrupt = 0, sigbus = 0;
    long intact = touch_all(buf, pages, words, &corrupt, &sigbus);
    printf("PV-LINUX: pages touched pid=%d intact=%ld/%ld corrupt=%ld sigbus=%ld\n", (int)getpid(), intact, pages,
           corrupt, sigbus);
    return corrupt ? 2 : sigbus ? 3 : 0;
}
