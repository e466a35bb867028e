/* pv-cpus: one child per online CPU, each pinned to its CPU with
 * sched_setaffinity, runs a fixed integer loop and checks that it ran there
 * (sched_getcpu). Prints "PV-LINUX: cpus online=N ran=LIST sum=HEX"; exit 0
 * only if every CPU ran its child and every child got the same sum. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMaxCpus = 64, kRounds = 20000000 };

static uint64_t work(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < kRounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

int main(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1 || online > kMaxCpus) {
        printf("PV-LINUX: cpus error online=%ld\n", online);
        return 1;
    }
    int fds[kMaxCpus][2];
    pid_t pids[kMaxCpus];
    for (int cpu = 0; cpu < online; cpu++) {
        if (pipe(fds[cpu]) != 0) { perror("pipe"); return 1; }
        pids[cpu] = fork();
        if (pids[cpu] < 0) { perror("fork"); return 1; }
        if (pids[cpu] == 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(2);
            uint64_t sum = work();
            int where = sched_getcpu();
            dprintf(fds[cpu][1], "%d %llx", where, (unsigned long long)sum);
            _exit(where == cpu ? 0 : 3);
        }
        close(fds[cpu][1]);
    }
    char ran[kMaxCpus * 4] = "";
    unsigned long long first = 0;
    int ok = 1;
    for (int cpu = 0; cpu < online; cpu++) {
        char buf[64] = "";
        ssize_t n = read(fds[cpu][0], buf, sizeof buf - 1);
        int status = 0;
        waitpid(pids[cpu], &status, 0);
        int where = -1;
        unsigned long long sum = 0;
        if (n <= 0 || sscanf(buf, "%d %llx", &where, &sum) != 2) where = -1;
        if (cpu == 0) first = sum;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || where != cpu || sum != first) ok = 0;
        snprintf(ran + strlen(ran), sizeof ran - strlen(ran), "%s%d", cpu ? "," : "", where);
    }
    printf("PV-LINUX: cpus online=%ld ran=%s sum=%llx %s\n", online, ran, first, ok ? "ok" : "bad");
    return ok ? 0 : 1;
}
