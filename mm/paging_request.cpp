#include "mm/paging_request.h"

namespace pv {

bool PagingRequest::has_waiter(const VcpuFaultState* v) const {
    for (u32 i = 0; i < waiter_count; ++i)
        if (waiters[i] == v) return true;
    return false;
}

bool PagingRequest::add_waiter(VcpuFaultState* v) {
    if (waiter_count == kMaxRequestWaiters) return false;
    waiters[waiter_count++] = v;
    return true;
}

// Order is kept: the first vCPU to fault is the first resumed.
bool PagingRequest::remove_waiter(const VcpuFaultState* v) {
    for (u32 i = 0; i < waiter_count; ++i) {
        if (waiters[i] != v) continue;
        for (u32 j = i; j + 1 < waiter_count; ++j) waiters[j] = waiters[j + 1];
        waiters[--waiter_count] = nullptr;
        return true;
    }
    return false;
}

void PagingRequestPool::init(PagingRequest* requests, u32 count, RequestWaiter* waiters, u32 waiter_capacity,
                             u32 page_out_reserve) {
    requests_ = requests;
    count_ = count;
    for (u32 i = 0; i < count; ++i) {
        requests[i] = PagingRequest{};
        requests[i].id = i;
        requests[i].next_free = i + 1 < count ? i + 1 : kNoRequest;
    }
    free_head_ = count ? 0 : kNoRequest;
    free_count_ = count;
    for (u32& b : bucket_) b = kNoRequest;
    // At least one request must remain usable by page-ins, or no fault could ever be served.
    reserve_ = count == 0 ? 0 : (page_out_reserve < count ? page_out_reserve : count - 1);
    waiters_ = waiters;
    wait_cap_ = waiter_capacity;
    wait_head_ = wait_len_ = 0;
    stats_ = PagingPoolStats{};
}

bool PagingRequestPool::can_alloc(PagingRequest::Kind kind) const {
    return kind == PagingRequest::Kind::PageIn ? free_count_ > reserve_ : free_count_ > 0;
}

PagingRequest* PagingRequestPool::alloc(PagingRequest::Kind kind, u32 slot, LogicalPage lp, u64 now_tb) {
    if (!can_alloc(kind)) return nullptr;
    PagingRequest& r = requests_[free_head_];
    free_head_ = r.next_free;
    --free_count_;
    r.tag = static_cast<u16>(r.tag + 1);
    r.kind = kind;
    r.frame = Frame{};
    r.device_block = 0;
    r.status = 0;
    r.waiter_count = 0;
    r.next_free = kNoRequest;
    r.state = PagingRequest::State::Queued;
    r.partition_slot = slot;
    r.lp = lp;
    r.start_tb = now_tb;
    u32& head = bucket_[bucket_of(slot, lp)];
    r.next_in_bucket = head;
    head = r.id;
    stats_.allocs++;
    stats_.allocated = count_ - free_count_;
    if (stats_.allocated > stats_.max_allocated) stats_.max_allocated = stats_.allocated;
    return &r;
}

PagingRequest* PagingRequestPool::find(u32 slot, LogicalPage lp) {
    for (u32 i = bucket_[bucket_of(slot, lp)]; i != kNoRequest; i = requests_[i].next_in_bucket) {
        PagingRequest& r = requests_[i];
        if (r.active() && r.partition_slot == slot && r.lp == lp) return &r;
    }
    return nullptr;
}

void PagingRequestPool::unlink(PagingRequest& r) {
    for (u32* at = &bucket_[bucket_of(r.partition_slot, r.lp)]; *at != kNoRequest; at = &requests_[*at].next_in_bucket) {
        if (*at == r.id) {
            *at = r.next_in_bucket;
            r.next_in_bucket = kNoRequest;
            return;
        }
    }
}

PagingRequest* PagingRequestPool::by_id(u32 id) { return id < count_ ? &requests_[id] : nullptr; }

void PagingRequestPool::release(PagingRequest& r) {
    if (r.state == PagingRequest::State::Free) return;  // twice would corrupt the free list
    unlink(r);
    r.state = PagingRequest::State::Free;
    r.waiter_count = 0;
    r.next_free = free_head_;
    free_head_ = r.id;
    ++free_count_;
    stats_.releases++;
    stats_.allocated = count_ - free_count_;
}

bool PagingRequestPool::wait_push(const RequestWaiter& w) {
    if (wait_len_ == wait_cap_) return false;
    ++wait_len_;
    wait_at(wait_len_ - 1) = w;
    stats_.exhausted_waits++;
    return true;
}

bool PagingRequestPool::wait_front(RequestWaiter& out) const {
    if (wait_len_ == 0) return false;
    out = wait_at(0);
    return true;
}

void PagingRequestPool::wait_pop() {
    if (wait_len_ == 0) return;
    wait_head_ = (wait_head_ + 1) % wait_cap_;
    --wait_len_;
}

// Compacts the ring in place: kept entries move towards the head, in order.
template <typename Pred>
u32 PagingRequestPool::wait_extract(Pred match, VcpuFaultState** out, u32 max) {
    u32 kept = 0, taken = 0;
    for (u32 i = 0; i < wait_len_; ++i) {
        RequestWaiter w = wait_at(i);
        if (taken < max && match(w)) out[taken++] = w.vcpu;
        else wait_at(kept++) = w;
    }
    wait_len_ = kept;
    return taken;
}

u32 PagingRequestPool::take_waiters_for(u32 slot, LogicalPage lp, VcpuFaultState** out, u32 max) {
    return wait_extract([&](const RequestWaiter& w) { return w.partition_slot == slot && w.lp == lp; }, out, max);
}

bool PagingRequestPool::wait_remove(const VcpuFaultState* v) {
    VcpuFaultState* removed = nullptr;
    return wait_extract([&](const RequestWaiter& w) { return w.vcpu == v; }, &removed, 1) == 1;
}

}  // namespace pv
