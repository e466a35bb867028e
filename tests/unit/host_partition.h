// Test fixture: one partition whose "logical memory" is a host buffer
// (arch/fake maps host-real addresses 1:1), for the hcall, RTAS, VPA and
// machine-check unit tests.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "hv/hcall.h"
#include "hv/hv.h"
#include "base/papr.h"
#include "hv/rtas.h"
#include "tests/unit/host_tables.h"

namespace pv::test {

inline constexpr u64 kHostPartitionMem = 1 << 20;

class HostPartitionTest : public ::testing::Test {
protected:
    // Partition "p" (LPID 1, the only one) with `vcpus` vCPUs and
    // kHostPartitionMem bytes of zeroed memory mapped RWX; v_ = vCPU 0, running.
    void set_up_partition(u32 vcpus) {
        auto* raw = static_cast<u8*>(std::aligned_alloc(kPageSize, kHostPartitionMem));
        std::memset(raw, 0, kHostPartitionMem);
        mem_ = std::span<u8>(raw, kHostPartitionMem);
        table_.assign(1024, PartitionTableEntry{});
        Hypervisor& h = hv();
        h.partition_table = table_.data();
        h.partition_count = 1;
        h.live_partitions = 1;
        h.thread_count = 0;
        p_ = &h.partitions[0];
        *p_ = Partition{};
        std::strcpy(p_->name, "p");
        p_->lpid = Lpid{1};
        p_->vcpu_count = vcpus;
        p_->mem_base = arch::host_real(mem_.data());
        p_->mem_bytes = mem_.size();
        p_->lpcr = lpcr::kGuestBase;
        for (u32 i = 0; i < vcpus; ++i) p_->vcpus[i].part = p_, p_->vcpus[i].id = VcpuId{i};
        ASSERT_EQ(p_->radix.init(tables_.pool()), Err::Ok);
        for (u64 off = 0; off < mem_.size(); off += kPageSize)
            ASSERT_EQ(p_->radix.map(page_of(LogicalAddr{off}), frame_of(arch::host_real(raw + off)), Perm::RWX), Err::Ok);
        v_ = &p_->vcpus[0];
        v_->state = VcpuState::Running;
    }

    void TearDown() override {
        std::free(mem_.data());
    }

    // Hypervisor call nr from v_ with r4..r7 = a1..a4.
    Next call(u64 nr, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0, u64 a4 = 0) {
        v_->regs.gpr[3] = nr;
        v_->regs.gpr[4] = a1, v_->regs.gpr[5] = a2, v_->regs.gpr[6] = a3, v_->regs.gpr[7] = a4;
        return dispatch_hcall(*v_);
    }
    i64 rc() const { return static_cast<i64>(v_->regs.gpr[3]); }

    // rtas_args at logical 0x1000, issued by v_: token, nargs, nret, args...,
    // rets... (preset to 0xdeadbeef).
    Next rtas(const char* name, std::vector<u32> args, u32 nret) {
        u32 token = 0;
        for (const RtasToken& t : rtas_tokens())
            if (std::string(t.name) == name) token = t.token;
        EXPECT_NE(token, 0u) << name;
        auto* w = reinterpret_cast<Be32*>(mem_.data() + 0x1000);
        w[0].set(token), w[1].set(static_cast<u32>(args.size())), w[2].set(nret);
        for (std::size_t i = 0; i < args.size(); ++i) w[3 + i].set(args[i]);
        for (u32 i = 0; i < nret; ++i) w[3 + args.size() + i].set(0xdeadbeef);
        return call(papr::H_RTAS, 0x1000);
    }
    u32 rtas_ret(u32 nargs, u32 i) { return reinterpret_cast<Be32*>(mem_.data() + 0x1000)[3 + nargs + i].get(); }

    std::span<u8> mem_;
    HostTables tables_;
    std::vector<PartitionTableEntry> table_;
    Partition* p_ = nullptr;
    Vcpu* v_ = nullptr;
};

}  // namespace pv::test
