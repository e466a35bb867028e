// Links the migration core (vio/mig_auth, vio/mig_transport) freestanding for
// ppc64le against Debian's libbearssl.a with the hypervisor's flags: the
// proof that the library and our code build and link the way the mover
// partition will use them. Built by the image build, never run; the build
// checks that BearSSL's HMAC, SHA-256 and HKDF made it into the executable.
#include <new>

#include "vio/mig_transport.h"

namespace {

using namespace pv;
using namespace pv::mig;

struct Loop {
    u8 frame[kMaxFrameBytes];
    u32 len;
};
Loop loop;
void loop_send(void* ctx, const u8* f, u32 len) {
    auto* l = static_cast<Loop*>(ctx);
    for (u32 i = 0; i < len; ++i) l->frame[i] = f[i];
    l->len = len;
}

alignas(Connection) u8 storage[2][sizeof(Connection)];

}  // namespace

// The few routines Debian's libbearssl.a calls beyond klibc.c (it is built
// with _FORTIFY_SOURCE and the stack protector).
extern "C" {
void* memcpy(void*, const void*, unsigned long);
void* memset(void*, int, unsigned long);
void* __memcpy_chk(void* d, const void* s, unsigned long n, unsigned long) { return memcpy(d, s, n); }
void* __memset_chk(void* d, int c, unsigned long n, unsigned long) { return memset(d, c, n); }
[[noreturn]] void pv_stack_check_failed() {
    for (;;) {
    }
}

[[noreturn]] void _start() {
    Psk psk{};
    Nonce ni{}, nr{};
    DatagramPort port{&loop_send, &loop};
    auto* a = new (storage[0]) Connection(port, psk);
    auto* b = new (storage[1]) Connection(port, psk);
    b->accept(nr, 0);
    a->connect(ni, 0);
    b->receive(loop.frame, loop.len, 1);
    a->receive(loop.frame, loop.len, 2);
    a->poll(3);
    for (;;) {
    }
}
}
