// The mover in the PSP image (docs/mover.md): the NIC and its UdpLink
// (partition/guest/net/nic.h), the Mover (mover.h) over them and the CRQ,
// and what main.cpp's serve loop asks of it between paging batches.
#pragma once
#include "partition/guest/psp/service.h"

namespace psp {

inline constexpr u64 kMoverPollUs = 50;    // while the serve loop spins: the NIC this often
inline constexpr u64 kMoverCedeUs = 1000;  // a mover cedes at most this long, and is polled this often in a paging storm

// After the NVMe bring-up. /poolvisor-mover and /poolvisor-network both
// there: the NIC and the UdpLink up, MSR[FP|VEC|VSX] on (BearSSL), the area
// at the first page boundary from free_base + used, zeroed. false: no mover
// (logged, unless the mover node is simply absent: today's plain PSP).
bool mover_bring_up(u64 free_base, u64 free_end, u64 used);
// Once the paging service exists (its device serves Read and Write): the
// Mover, answering on the CRQ through send.
void mover_create(PagingService& svc, SendFn send, void* send_ctx);
bool mover_present();  // created: mover messages go to it
bool mover_up();       // active: the NIC and the connection want polling

// The NIC's frames to the connection, then its timers and queues: the
// number of frames (activity keeps the serve loop spinning).
u32 mover_poll();
u64 mover_polled_at();  // timebase of the last mover_poll()
// The paging channel's state decides the mover's: the area is registered
// once the descriptor table is accepted, and again after a re-initialization.
void mover_follow(const PagingService& svc);
// A batch's mover messages into mv[0..nm) (handled after the paging ones);
// the paging ones stay in order in es[0..return).
u32 mover_split(CrqEntry* es, u32 n, CrqEntry* mv, u32& nm);
void mover_handle(const CrqEntry* mv, u32 n);
// How long a cede may last: at most `ticks` and kMoverCedeUs, never past
// the connection's next timer; 0 when that is due now.
u64 mover_cede_limit(u64 ticks);
// At power-off: the mover's counters, the NIC's and the link's; the NIC
// stopped (no armed ring writes into our memory after us).
void mover_finish();

}  // namespace psp
