// Test fixture: one shared-memory partition on the real pager, its paging
// device a byte array served synchronously (page-ins, page-outs, failing
// blocks), its frames a host buffer (arch/fake maps host-real 1:1).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <vector>

#include "arch/arch.h"
#include "hv/hv.h"
#include "hv/pager.h"
#include "tests/unit/host_tables.h"
#include "vio/paging_protocol.h"

namespace pv::test {

struct HostDisk {
    HostDisk(u64 pages, u64 first_block) : region(first_block), bytes(pages * kPageSize) {}
    u64 region;  // the partition's paging region starts at this block
    std::vector<u8> bytes;
    std::deque<PagingRequest> queue;
    std::set<u64> bad_read_blocks;
    static bool send(void* ctx, const PagingRequest& r, const Partition&) {
        static_cast<HostDisk*>(ctx)->queue.push_back(r);
        return true;
    }
    static bool failed(const void*) { return false; }
    u8* at(u64 block) { return bytes.data() + (block - region) * paging::kBlockBytes; }
};

class HostPagerTest : public ::testing::Test {
protected:
    // Partition "m" (LPID 1, slot 0, shared, running) of `pages` logical
    // pages with `vcpus` running vCPUs, on a pool of `frames` frames.
    void set_up_pager(u64 pages, u64 frames, u32 vcpus, u64 region = 0x1000) {
        disk_ = std::make_unique<HostDisk>(pages, region);
        frames_ = static_cast<u8*>(std::aligned_alloc(kPageSize, frames * kPageSize));
        frame_info_.assign(frames, FrameInfo{});
        page_info_.assign(pages, PageInfo{});
        requests_.assign(8, PagingRequest{});
        Hypervisor& h = hv();
        h.partition_count = 1;
        h.live_partitions = 1;
        h.thread_count = 0;
        run_queued();
        p = &h.partitions[0];
        *p = Partition{};
        std::strcpy(p->name, "m");
        p->lpid = Lpid{1};
        p->slot = 0;
        p->mem_mode = MemMode::Shared;
        p->mem_bytes = pages * kPageSize;
        p->paging_block = region;
        p->vcpu_count = vcpus;
        p->state = PartitionState::Running;
        for (u32 i = 0; i < vcpus; ++i) p->vcpus[i].part = p, p->vcpus[i].id = VcpuId{i}, p->vcpus[i].state = VcpuState::Running;
        ASSERT_EQ(p->radix.init(tables_.pool()), Err::Ok);
        PagingTransport t{HostDisk::send, HostDisk::failed, disk_.get()};
        ASSERT_TRUE(pager->init(frame_of(arch::host_real(frames_)), frame_info_, requests_,
                                std::span<Partition>(h.partitions, kMaxPartitions), t));
        ASSERT_EQ(pager->add_partition(*p, page_info_, 0, 128, 2), Err::Ok);
        frame_count_ = frames;
    }
    void TearDown() override {
        run_queued();
        std::free(frames_);
    }

    static void run_queued() {
        while (Vcpu* v = hv().runq.pop()) {
            v->state = VcpuState::Running;
            RunQueue::release(*v);
        }
    }
    const PageInfo& info(u64 k) { return *pager->pool().page(0, LogicalPage{k}); }
    u8 pins(u64 k) { return pager->pool().pins(0, LogicalPage{k}); }
    HostDisk& disk() { return *disk_; }
    // Every queued paging request, answered from the byte array.
    void serve() {
        for (int guard = 0; guard < 10000 && !disk_->queue.empty(); ++guard) {
            PagingRequest r = disk_->queue.front();
            disk_->queue.pop_front();
            u8* frame = static_cast<u8*>(arch::host_ptr(base_of(r.frame)));
            u16 status = 0;
            if (r.kind == PagingRequest::Kind::PageIn) {
                if (disk_->bad_read_blocks.count(r.device_block)) status = 0x281;
                else std::memcpy(frame, disk_->at(r.device_block), kPageSize);
            } else {
                std::memcpy(disk_->at(r.device_block), frame, kPageSize);
            }
            Guard lk(pager->lock());
            pager->complete_locked(r.id, r.tag, status);
        }
    }
    // Page k mapped, faulted in by vCPU `vcpu` if it was not.
    bool touch(u64 k, u32 vcpu = 0) {
        for (int tries = 0; tries < 100; ++tries) {
            if (p->radix.lookup(LogicalPage{k})) return true;
            p->vcpus[vcpu].state = VcpuState::Running;
            (void)pager->storage_fault(p->vcpus[vcpu], k * kPageSize, k * kPageSize);
            serve();
            run_queued();
        }
        return false;
    }
    // The pager's own reclaim evicts every page it can (dirty ones written).
    void evict_all() {
        for (int i = 0; i < 4; ++i) {
            (void)pager->make_room(frame_count_);
            serve();
        }
    }

    std::unique_ptr<Pager> pager = std::make_unique<Pager>();
    Partition* p = nullptr;

private:
    std::unique_ptr<HostDisk> disk_;
    u8* frames_ = nullptr;
    u64 frame_count_ = 0;
    std::vector<FrameInfo> frame_info_;
    std::vector<PageInfo> page_info_;
    std::vector<PagingRequest> requests_;
    HostTables tables_;
};

}  // namespace pv::test
