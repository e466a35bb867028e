/* pv-memtest MIB [FILE]: writes MIB MiB to FILE (a tmpfs file, default
 * /tmp/pv-memtest) in 1 MiB chunks from a deterministic generator (xorshift64*
 * seeded by the chunk number), keeping each chunk's checksum; then reads the
 * file back and compares every chunk with the generator again, byte for byte,
 * and with the checksum taken when it was written. Exit 0 only with no
 * mismatch. The data never depend on the run: a chunk that comes back
 * different was corrupted between the write and the read (e.g. by paging). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kChunk = 1 << 20, kWords = kChunk / 8 };

static void generate(uint64_t *buf, uint64_t chunk)
{
    uint64_t x = 0x5056ull << 48 ^ (chunk + 1) * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < kWords; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        buf[i] = x * 0x2545f4914f6cdd1dull;
    }
}

static uint64_t checksum(const uint64_t *buf)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < kWords; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
    return h;
}

static int full_io(int fd, void *buf, int write_it)
{
    size_t done = 0;
    while (done < kChunk) {
        ssize_t n = write_it ? write(fd, (char *)buf + done, kChunk - done)
                             : read(fd, (char *)buf + done, kChunk - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? strtol(argv[1], NULL, 0) : 64;
    const char *path = argc > 2 ? argv[2] : "/tmp/pv-memtest";
    if (mib < 1 || mib > 1 << 20) {
        printf("PV-LINUX: memory error bad size %ld\n", mib);
        return 1;
    }
    uint64_t *gen = malloc(kChunk), *got = malloc(kChunk), *sums = calloc((size_t)mib, 8);
    if (!gen || !got || !sums) { printf("PV-LINUX: memory error out of memory\n"); return 1; }

    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) { printf("PV-LINUX: memory error open %s: %s\n", path, strerror(errno)); return 1; }
    uint64_t all = 0;
    for (long c = 0; c < mib; c++) {
        generate(gen, (uint64_t)c);
        sums[c] = checksum(gen);
        all ^= sums[c];
        if (full_io(fd, gen, 1) != 0) {
            printf("PV-LINUX: memory error write chunk %ld: %s\n", c, strerror(errno));
            return 1;
        }
    }
    printf("PV-LINUX: memory written mib=%ld checksum=%016llx\n", mib, (unsigned long long)all);
    fflush(stdout);

    long bad_chunks = 0, bad_sums = 0;
    unsigned long long bad_bytes = 0;
    if (lseek(fd, 0, SEEK_SET) != 0) { printf("PV-LINUX: memory error lseek\n"); return 1; }
    for (long c = 0; c < mib; c++) {
        if (full_io(fd, got, 0) != 0) {
            printf("PV-LINUX: memory error read chunk %ld: %s\n", c, strerror(errno));
            return 1;
        }
        generate(gen, (uint64_t)c);
        if (checksum(got) != sums[c]) bad_sums++;
        if (memcmp(gen, got, kChunk) != 0) {
            const unsigned char *a = (const void *)gen, *b = (const void *)got;
            unsigned long long n = 0;
            for (long i = 0; i < kChunk; i++) n += a[i] != b[i];
            if (bad_chunks < 8)
                printf("PV-LINUX: memory chunk %ld differs in %llu bytes\n", c, n);
            bad_chunks++;
            bad_bytes += n;
        }
    }
    close(fd);
    printf("PV-LINUX: memory verified mib=%ld mismatches=%ld bad_bytes=%llu bad_checksums=%ld\n",
           mib, bad_chunks, bad_bytes, bad_sums);
    return bad_chunks == 0 && bad_sums == 0 ? 0 : 2;
}
