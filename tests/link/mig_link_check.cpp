// The migration core (vio/mig_auth, vio/mig_transport) linked freestanding
// for ppc64le against Debian's libbearssl.a with the hypervisor's flags, and
// run as a Linux user process under qemu-ppc64le (ctest mig.link_check): an
// RFC 4231 HMAC-SHA256 known answer, then a handshake and a message between
// two Connections over an in-memory link. Exit status 0 = all good, else the
// number of the first check that failed. The build also checks that BearSSL's
// HMAC, SHA-256 and HKDF are in the executable.
#include <bearssl/bearssl_hash.h>

#include <new>

#include "vio/mig_transport.h"

namespace {

using namespace pv;
using namespace pv::mig;

// Frames in flight, one slot per direction (the two sides take turns).
struct Wire {
    u8 frame[8][kMaxFrameBytes];
    u32 len[8];
    u32 n;
};
Wire wire[2];
void wire_send(void* ctx, const u8* f, u32 len) {
    auto* w = static_cast<Wire*>(ctx);
    if (w->n == 8) return;
    for (u32 i = 0; i < len; ++i) w->frame[w->n][i] = f[i];
    w->len[w->n++] = len;
}
void deliver(Wire& w, Connection& to, u64 now) {
    for (u32 i = 0; i < w.n; ++i) to.receive(w.frame[i], w.len[i], now);
    w.n = 0;
}

alignas(Connection) u8 storage[2][sizeof(Connection)];

int hmac_known_answer() {
    // RFC 4231 test case 2.
    static const char key[] = "Jefe";
    static const char data[] = "what do ya want for nothing?";
    static const u8 want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    br_hmac_key_context kc;
    br_hmac_key_init(&kc, &br_sha256_vtable, key, sizeof key - 1);
    br_hmac_context hc;
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, data, sizeof data - 1);
    u8 out[32];
    br_hmac_out(&hc, out);
    return equal_ct(out, want, 32) ? 0 : 1;
}

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

int mig_link_check_main() {
    if (hmac_known_answer() != 0) return 1;
    Psk psk{};
    for (u32 i = 0; i < kPskBytes; ++i) psk.bytes[i] = static_cast<u8>(i * 7);
    Nonce ni{}, nr{};
    ni.bytes[0] = 1;
    nr.bytes[0] = 2;
    // wire[0] carries a's frames to b, wire[1] b's to a.
    auto* a = new (storage[0]) Connection(DatagramPort{&wire_send, &wire[0]}, psk);
    auto* b = new (storage[1]) Connection(DatagramPort{&wire_send, &wire[1]}, psk);
    b->accept(nr, 0);
    a->connect(ni, 0);
    for (u64 t = 1; t < 20; ++t) {
        deliver(wire[0], *b, t);
        deliver(wire[1], *a, t);
    }
    if (a->state() != ConnState::Open || b->state() != ConnState::Open) return 2;
    if (!(a->session() == b->session())) return 3;
    static const u8 msg[] = "page 7, chunk 2 of 4";
    if (a->send(msg, sizeof msg, 20) != Err::Ok) return 4;
    for (u64 t = 21; t < 40; ++t) {
        deliver(wire[0], *b, t);
        deliver(wire[1], *a, t);
    }
    u32 len = 0;
    const u8* p = b->peek(&len);
    if (p == nullptr || len != sizeof msg || !equal_ct(p, msg, len)) return 5;
    b->pop(40);
    if (!a->all_acked() || b->stats().rejected != 0) return 6;
    return 0;
}
}
