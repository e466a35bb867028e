// The hypervisor's end of the paging service partition (PSP): its CRQ, the
// descriptor table in its memory, the TCE window through which its device
// reaches pool frames, and what happens when it dies or stops answering.
// docs/crq.md, docs/paging-service.md, docs/ams.md.
//
// Locking: everything here runs under the pager's lock (the CRQ channel has
// its own leaf lock inside).
#pragma once
#include "arch/arch.h"
#include "hv/hcall.h"
#include "hv/pager.h"
#include "hv/mover_link.h"
#include "hv/paging_transport.h"
#include "vio/completion_ring.h"
#include "vio/crq.h"

namespace pv {

struct Partition;
struct Vcpu;

inline constexpr u32 kPspCrqUnit = 0x30001000;

class PspLink {
public:
    // Boot: requests' DMA pages start at TCE dma_request_index.
    void init(Pager& pager, const char* psp_name, const arch::PagingDevice& device, u64 dma_request_index);
    PagingTransport transport();
    const char* psp_name() const { return psp_name_; }
    bool is_psp(const Partition& p) const { return psp_ && psp_ == &p; }
    const Partition* psp() const { return psp_; }
    const arch::PagingDevice& device() const { return device_; }
    void set_psp(Partition& p);
    // The PSP as the migration mover (its messages share the CRQ).
    MoverLink& mover() { return mover_; }
    // Boot: the PSP gets the device registers, its DMA window and the
    // /poolvisor-paging node in its device tree (fdt of fdt_size bytes, grown in place).
    [[nodiscard]] bool attach(Partition& psp, void* fdt, u32 fdt_size);

    // H_REG_CRQ, H_FREE_CRQ, H_SEND_CRQ, H_ENABLE_CRQ from the PSP; then its messages are served.
    Next crq_hcall(Vcpu& v, u64 number);
    // Every partition but the PSP has ended: the channel closes (and the PSP
    // powers off) once no request is in flight.
    void want_close();
    // The PSP ended (normally, or it died under the shared partitions).
    void psp_ended();
    // Timer work (no lock held): messages that found the PSP's queue full,
    // and requests past their deadline (the PSP is then declared failed).
    void poll(u64 now_tb);
    bool failed() const { return __atomic_load_n(&dead_, __ATOMIC_ACQUIRE); }
    u32 outbox_len() const { return __atomic_load_n(&outbox_len_, __ATOMIC_RELAXED); }  // lsvcpu

private:
    static constexpr u32 kMaxRequests = Pager::kMaxRequests;  // request ids the PSP can be holding
    static constexpr u32 kOutbox = kMaxRequests + 16;
    static_assert(u64{kMaxRequests} * crq::kEntryBytes <= crq::kMaxQueueBytes, "a request each in the PSP's CRQ");

    bool send(const PagingRequest& r, const Partition& p);
    void deliver(const CrqEntry& e);
    void flush_outbox();
    void prod_psp();
    void close_when_drained();
    bool burst_continues(u64 hi, u64 lo);
    void service_channel();
    void handle_message(const CrqEntry& e);
    void handle_desc_table(const CrqEntry& e);
    void handle_completion(u32 id, u16 tag, u16 status, bool more);
    void complete(u32 id, u16 tag, u16 status, bool revoked);
    void complete_checked(u32 id, u16 tag, u16 status, bool revoked);  // id and tag known to be active
    void complete_deferred();
    void take_completion_ring();
    void fail_everything(u16 status);
    void declare_failed(u32 overdue_id);
    PartitionMemory psp_memory();

    Pager* pager_ = nullptr;
    Partition* psp_ = nullptr;
    char psp_name_[16]{};
    CrqChannel channel_;
    MoverLink mover_;
    arch::PagingDevice device_{};
    u64 dma_request_index_ = 0;  // TCE index of request 0's page
    u8* desc_host_ = nullptr;  // the PSP's descriptor table, in the hypervisor's view (none: not ready)
    paging::CompletionRing ring_;  // the PSP's completion ring (none: Completions come as messages)
    // Requests started before the PSP was ready: sent when it is.
    const PagingRequest* unsent_[kMaxRequests]{};
    u32 unsent_len_ = 0;
    // Completions of a merged transfer waiting for its last one.
    struct Deferred {
        u32 id;
        u16 tag, status;
    } deferred_[kMaxRequests]{};
    u32 deferred_len_ = 0;
    // Messages the PSP's full queue could not take yet, oldest first: a full
    // queue is back-pressure, never a drop.
    CrqEntry outbox_[kOutbox]{};
    u32 outbox_head_ = 0, outbox_len_ = 0;
    bool closed_ = false;
    bool close_wanted_ = false;
    bool dead_ = false;  // died, or declared failed: paging I/O fails from now on
    u64 next_deadline_check_tb_ = 0;
};

}  // namespace pv
