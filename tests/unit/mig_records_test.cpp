// Live-migration state records (hv/mig_records.h): encoding from a filled
// partition, strict decoding into the staging copy, layout pins, and seeded
// corruption of every record type (run under ASan/UBSan).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hv/mig_decode.h"
#include "hv/mig_encode.h"
#include "hv/mig_install.h"
#include "hv/ppc_defs.h"
#include "tests/unit/host_partition.h"
#include "tests/unit/rng.h"

using namespace pv;

namespace {

using Rec = std::vector<u8>;
constexpr u64 kMem = 64ull << 20;  // what the records say; the fixture's buffer is never read
constexpr u64 kNow = 0x123456789000;

class MigRecordsTest : public test::HostPartitionTest {
protected:
    void SetUp() override {
        set_up_partition(3);
        p_->mem_bytes = kMem;
        p_->mem_mode = MemMode::Shared;
        p_->paging_block = 0x8000;
        p_->slot = 2;
        p_->lpid = Lpid{7};
        std::strcpy(p_->name, "mover-1");
        p_->lpcr |= lpcr::ILE | lpcr::ail(3);
        p_->process_table = 0x8000000000200001ull;  // GR, base 0x200000, PRTS 1: 8 KiB
        p_->prtb_pin_base = 0x200000, p_->prtb_pin_len = 0x2000;
        p_->rtas_base = 0x3ff0000, p_->rtas_size = 0x10000;
        p_->fwnmi_registered = true;
        p_->fwnmi_sreset_addr = 0x7100, p_->fwnmi_mc_addr = 0x7200;
        p_->restarts = 2;
        std::strcpy(p_->console.text, "half a line");
        p_->console.len = 11;
        std::strcpy(p_->panel.text, "PANEL");
        p_->panel.len = 5;
        cfg_ = PartitionConfig{};
        std::strcpy(cfg_.name, "mover-1");
        cfg_.mem_weight = 200;
        cfg_.io_entitled_bytes = 4ull << 20;
        cfg_.watchdog_us = 5'000'000;
        std::strcpy(cfg_.bootargs, "console=hvc0 pvtest=smp");
        test::Rng rng{42};
        for (u32 i = 0; i < p_->vcpu_count; ++i) fill_vcpu(p_->vcpus[i], i, rng);
        for (u32 i = 0; i < 20; ++i) log_.record(paging_error(p_->slot, 100 + i, 1000 + i));
        log_.record(paging_error(5, 9, 1));  // another partition's
    }
    void TearDown() override {
        Hypervisor& h = hv();
        h.partition_count = 0;
        h.live_partitions = 0;
        HostPartitionTest::TearDown();
    }

    static PagingError paging_error(u32 slot, u64 page, u64 tb) {
        PagingError e;
        e.partition_slot = slot;
        e.lp = LogicalPage{page};
        e.vcpu = static_cast<u32>(page % 3);
        e.device = 0;
        e.status = 0x8003;
        e.timebase = tb;
        e.effective_addr = 0xc000000000000000ull | page << 12;
        return e;
    }

    static void fill_vcpu(Vcpu& v, u32 i, test::Rng& rng) {
        for (auto& g : v.regs.gpr) g = rng.next();
        v.regs.cr = rng.next(), v.regs.lr = rng.next(), v.regs.ctr = rng.next(), v.regs.xer = rng.next();
        v.regs.pc = rng.next(), v.regs.cfar = rng.next();
        v.regs.msr = (rng.next() & ~msr::HV) | msr::SF | msr::ME;
        v.sprs.srr0 = rng.next(), v.sprs.srr1 = rng.next(), v.sprs.dar = rng.next(), v.sprs.dsisr = rng.next();
        for (auto& s : v.sprs.sprg) s = rng.next();
        v.sprs.pid = i + 1;
        v.sprs.dec = 100000 + i;
        v.sprs.dec_tb = kNow - 1000;
        for (auto& r : v.fp.vsr) r[0] = rng.next(), r[1] = rng.next();
        v.fp.fpscr = rng.next(), v.fp.vscr[0] = rng.next(), v.fp.vscr[1] = rng.next(), v.fp.vrsave = rng.next();
        VcpuLazySprs& l = v.lazy_sprs;
        u64* all[] = {&l.tar,  &l.dscr,  &l.fscr,  &l.pspb,  &l.tidr,  &l.ppr,   &l.ctrl,  &l.amr,
                      &l.iamr, &l.uamor, &l.ebbhr, &l.ebbrr, &l.bescr, &l.mmcr0, &l.mmcr1, &l.mmcr2,
                      &l.mmcra, &l.siar, &l.sdar,  &l.sier,  &l.dawr0};
        for (u64* f : all) *f = rng.next();
        for (auto& c : l.pmc) c = rng.next() & 0xffffffff;
        l.dawrx0 = rng.next() & ~u64{4};
        l.ciabr = (rng.next() & ~u64{3}) | 1;
        v.state = i == 1 ? VcpuState::Ceded : VcpuState::Runnable;
        v.wake_tb = kNow + 5000;
        v.prodded = i == 2;
        v.mc_in_progress = i == 0;
        v.fault.fault_ea = rng.next();
        v.icp.cppr = 5, v.icp.mfrr = i == 0 ? 3 : 0xff;
        v.icp.xisr = i == 0 ? kXicsIpi : 0, v.icp.presented = i == 0;
        v.icp.pending_pri = i == 0 ? 3 : 0xff;
        v.vpa.vpa = {0x10000 + i * 0x400, 0x400, nullptr};
        v.vpa.dtl = {0x20000 + i * 0x1000, 4080, nullptr};
        if (i == 0) v.vpa.slb = {0x30000, 0x100, nullptr};
        v.vpa.yield_count = 11 + 2 * i, v.vpa.dispersion_count = i;
        v.vpa.cmo_faults = 99 + i, v.vpa.cmo_fault_time = 12345 + i;
        v.vpa.enqueue_dispatch_tb = 777 + i, v.vpa.wait_ready_tb = 888 + i, v.vpa.dtl_index = 50 + i;
        v.vpa.ever_dispatched = true;
    }

    template <typename F>
    static Rec rec(F f) {
        Rec b(kMigMaxRecordBytes);
        Result<u32> r = f(std::span<u8>(b));
        EXPECT_TRUE(r.ok());
        b.resize(r.ok() ? r.value : 0);
        return b;
    }
    Rec start_rec() { return rec([&](std::span<u8> o) { return mig_encode_start(*p_, cfg_, o); }); }
    Rec core_rec(u32 i) { return rec([&](std::span<u8> o) { return mig_encode_vcpu_core(p_->vcpus[i], kNow, o); }); }
    Rec fp_rec(u32 i) { return rec([&](std::span<u8> o) { return mig_encode_vcpu_fp(p_->vcpus[i], o); }); }
    Rec part_rec() {
        return rec([&](std::span<u8> o) {
            return mig_encode_partition_state(*p_, log_, 0xabcdef0123, 9, o, 0x1122334455667788);
        });
    }
    Rec log_rec(u32 first) {
        return rec([&](std::span<u8> o) { return mig_encode_error_log(log_, p_->slot, first, o); });
    }
    static MigError apply(MigStaging& s, const Rec& r) { return s.apply(r.data(), static_cast<u32>(r.size())); }

    // Every record of a whole partition state, in sending order.
    std::vector<Rec> all_records() {
        std::vector<Rec> v{start_rec()};
        for (u32 i = 0; i < p_->vcpu_count; ++i) v.push_back(core_rec(i)), v.push_back(fp_rec(i));
        v.push_back(part_rec());
        v.push_back(log_rec(0));
        v.push_back(log_rec(16));
        MigTotals t{};
        t.rounds = 3, t.vcpu_count = p_->vcpu_count;
        t.pages[0] = kMem / kPageSize - 10, t.pages[2] = 6, t.pages[4] = 4, t.data_pages_sent = 20;
        v.push_back(rec([&](std::span<u8> o) { return mig_encode_complete(t, o); }));
        return v;
    }

    PartitionConfig cfg_{};
    PagingErrorLog log_;
};

TEST_F(MigRecordsTest, HeaderBytesAreBigEndianAsDocumented) {
    Rec r = start_rec();
    ASSERT_EQ(r.size(), 16 + sizeof(MigStart));
    const u8 want[] = {'P', 'V', 'M', 'G', 0, 1, 1, 0, 0, 0, 0x01, 0x68, 0, 0, 0, 0};  // length 360
    EXPECT_EQ(std::memcmp(r.data(), want, sizeof want), 0);
    EXPECT_EQ(std::memcmp(&r[16], "mover-1\0", 8), 0);
    EXPECT_EQ(load_be<u32>(&r[16 + 16]), 3u);                      // vcpu_count
    EXPECT_EQ(r[16 + 20], static_cast<u8>(MemMode::Shared));       // mem_mode
    EXPECT_EQ(load_be<u64>(&r[16 + 24]), kMem);                    // mem_bytes
    EXPECT_EQ(load_be<u64>(&r[16 + 80]), 0x8000u);                 // source_paging_block
    EXPECT_EQ(std::strcmp(reinterpret_cast<const char*>(&r[16 + 88]), cfg_.bootargs), 0);
    Rec c = core_rec(0);
    EXPECT_EQ(c.size(), 16 + 752u);
    EXPECT_EQ(load_be<u64>(&c[16 + 8 + 3 * 8]), p_->vcpus[0].regs.gpr[3]);
    EXPECT_EQ(load_be<u64>(&c[16 + 8 + 288]), p_->vcpus[0].regs.pc);
    EXPECT_EQ(fp_rec(0).size(), 16 + 1064u);
    EXPECT_EQ(part_rec().size(), 16 + 432u);
    EXPECT_EQ(log_rec(0).size(), 16 + 8 + 16 * 40u);
    EXPECT_EQ(log_rec(16).size(), 16 + 8 + 4 * 40u);
}

TEST_F(MigRecordsTest, EveryRecordRoundTrips) {
    MigStaging s;
    for (const Rec& r : all_records()) ASSERT_EQ(apply(s, r), MigError::Ok) << int(r[6]);
    ASSERT_TRUE(s.complete());
    EXPECT_STREQ(s.start.name, "mover-1");
    EXPECT_EQ(s.start.vcpu_count, 3u);
    EXPECT_EQ(s.start.mem_mode, MemMode::Shared);
    EXPECT_EQ(s.start.mem_weight, 200);
    EXPECT_EQ(s.start.mem_bytes, kMem);
    EXPECT_EQ(s.start.logical_pages, kMem / kPageSize);
    EXPECT_EQ(s.start.io_entitled_bytes, 4ull << 20);
    EXPECT_EQ(s.start.watchdog_us, 5'000'000u);
    EXPECT_EQ(s.start.source_lpid, 7u);
    EXPECT_EQ(s.start.source_paging_block, 0x8000u);
    EXPECT_STREQ(s.start.bootargs, cfg_.bootargs);
    for (u32 i = 0; i < 3; ++i) {
        const Vcpu& v = p_->vcpus[i];
        const MigStagedVcpu& m = s.vcpus[i];
        SCOPED_TRACE(i);
        EXPECT_EQ(std::memcmp(&m.regs, &v.regs, sizeof v.regs), 0);
        EXPECT_EQ(std::memcmp(m.fp.vsr, v.fp.vsr, sizeof v.fp.vsr), 0);
        EXPECT_EQ(m.fp.fpscr, v.fp.fpscr);
        EXPECT_EQ(m.fp.vscr[0], v.fp.vscr[0]);
        EXPECT_EQ(m.fp.vscr[1], v.fp.vscr[1]);
        EXPECT_EQ(m.fp.vrsave, v.fp.vrsave);
        EXPECT_EQ(m.srr0, v.sprs.srr0);
        EXPECT_EQ(m.srr1, v.sprs.srr1);
        EXPECT_EQ(m.dar, v.sprs.dar);
        EXPECT_EQ(m.dsisr, v.sprs.dsisr);
        for (u32 k = 0; k < 4; ++k) EXPECT_EQ(m.sprg[k], v.sprs.sprg[k]);
        EXPECT_EQ(m.pid, v.sprs.pid);
        EXPECT_EQ(m.dec_remaining, static_cast<i64>(100000 + i) - 1000);
        EXPECT_EQ(m.run_state, i == 1 ? MigRunState::Ceded : MigRunState::Runnable);
        EXPECT_EQ(m.wake_remaining, i == 1 ? 5000u : 0u);
        VcpuLazySprs want = v.lazy_sprs;
        want.hfscr = kGuestHfscr;
        EXPECT_EQ(std::memcmp(&m.lazy, &want, sizeof want), 0);
        EXPECT_EQ(m.cppr, v.icp.cppr);
        EXPECT_EQ(m.mfrr, v.icp.mfrr);
        EXPECT_EQ(m.xisr, v.icp.xisr);
        EXPECT_EQ(m.presented, v.icp.presented);
        EXPECT_EQ(m.vpa.addr, v.vpa.vpa.addr);
        EXPECT_EQ(m.vpa.len, v.vpa.vpa.len);
        EXPECT_EQ(m.dtl.addr, v.vpa.dtl.addr);
        EXPECT_EQ(m.dtl.len, v.vpa.dtl.len);
        EXPECT_EQ(m.slb.addr, v.vpa.slb.addr);
        EXPECT_EQ(m.slb.len, v.vpa.slb.addr ? v.vpa.slb.len : 0u);
        EXPECT_EQ(m.yield_count, v.vpa.yield_count);
        EXPECT_EQ(m.dispersion_count, v.vpa.dispersion_count);
        EXPECT_EQ(m.cmo_faults, v.vpa.cmo_faults);
        EXPECT_EQ(m.cmo_fault_time, v.vpa.cmo_fault_time);
        EXPECT_EQ(m.enqueue_dispatch_tb, v.vpa.enqueue_dispatch_tb);
        EXPECT_EQ(m.wait_ready_tb, v.vpa.wait_ready_tb);
        EXPECT_EQ(m.dtl_index, v.vpa.dtl_index);
        EXPECT_EQ(m.fault_ea, v.fault.fault_ea);
        u8 flags = (i == 2 ? kMigVcpuProdded : 0) | (i == 0 ? kMigVcpuMcInProgress : 0) |
                   kMigVcpuEverDispatched;
        EXPECT_EQ(m.flags, flags);
    }
    const MigStagedPartition& m = s.part;
    EXPECT_EQ(m.lpcr, lpcr::ILE | lpcr::ail(3));  // the partition's bits only
    EXPECT_EQ(m.process_table, p_->process_table);
    EXPECT_EQ(m.prtb_pin_base, p_->prtb_pin_base);
    EXPECT_EQ(m.prtb_pin_len, p_->prtb_pin_len);
    EXPECT_EQ(m.rtas_base, p_->rtas_base);
    EXPECT_EQ(m.rtas_size, p_->rtas_size);
    EXPECT_TRUE(m.fwnmi_registered);
    EXPECT_EQ(m.fwnmi_sreset_addr, 0x7100u);
    EXPECT_EQ(m.fwnmi_mc_addr, 0x7200u);
    EXPECT_EQ(m.guest_tb, 0xabcdef0123u);
    EXPECT_EQ(m.suspend_wall_ns, 0x1122334455667788u);
    EXPECT_EQ(m.restarts, 2u);
    EXPECT_EQ(m.pinned_pages, 9u);
    EXPECT_EQ(m.console.len, 11u);
    EXPECT_EQ(std::memcmp(m.console.text, "half a line", 11), 0);
    EXPECT_EQ(m.panel.len, 5u);
    EXPECT_EQ(m.paging_errors, 20u);
    EXPECT_EQ(m.errors_retained, 20u);
    ASSERT_EQ(s.error_count, 20u);
    for (u32 k = 0; k < 20; ++k) {
        PagingError want;
        ASSERT_TRUE(log_.nth_newest_for(p_->slot, k, want));
        EXPECT_EQ(s.errors[k].lp, want.lp);
        EXPECT_EQ(s.errors[k].vcpu, want.vcpu);
        EXPECT_EQ(s.errors[k].status, want.status);
        EXPECT_EQ(s.errors[k].timebase, want.timebase);
        EXPECT_EQ(s.errors[k].effective_addr, want.effective_addr);
    }
    EXPECT_EQ(s.totals.rounds, 3u);
    EXPECT_EQ(s.totals.pages[4], 4u);
    EXPECT_EQ(s.totals.data_pages_sent, 20u);
}

TEST_F(MigRecordsTest, DeregisteredProcessTableRoundTrips) {
    p_->process_table = radix::PATE1_GR;  // what H_REGISTER_PROC_TBL deregistration leaves
    p_->prtb_pin_base = p_->prtb_pin_len = 0;
    p_->fwnmi_registered = false;
    p_->fwnmi_sreset_addr = p_->fwnmi_mc_addr = 0;
    MigStaging s;
    ASSERT_EQ(apply(s, start_rec()), MigError::Ok);
    ASSERT_EQ(apply(s, part_rec()), MigError::Ok);
    EXPECT_EQ(s.part.process_table, radix::PATE1_GR);
    EXPECT_EQ(s.part.prtb_pin_len, 0u);
    EXPECT_FALSE(s.part.fwnmi_registered);
}

// Source vCPU -> records -> staging -> a fresh target vCPU: encoded again
// (with its areas registered again, as the hypervisor will) it gives the
// very same records, later in time: nothing was lost on the way.
TEST_F(MigRecordsTest, InstalledStateEncodesToTheSameRecords) {
    constexpr u64 kLater = kNow + 777777;
    MigStaging s;
    ASSERT_EQ(apply(s, start_rec()), MigError::Ok);
    for (u32 i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        Rec core = core_rec(i), fp = fp_rec(i);
        ASSERT_EQ(apply(s, core), MigError::Ok);
        ASSERT_EQ(apply(s, fp), MigError::Ok);
        Vcpu t{};
        t.id = VcpuId{i};
        t.lazy.thread = 0, t.lazy.key = 5;  // a slot some thread held before
        mig_install_vcpu(s.vcpus[i], t, kLater);
        EXPECT_EQ(t.lazy.thread, kNoThread);
        EXPECT_EQ(t.lazy.key, 0u);
        EXPECT_EQ(t.lazy_sprs.hfscr, kGuestHfscr);
        {
            Partition denied{};  // the target partition withholds TAR (deny_facilities)
            denied.hfscr = kGuestHfscr & ~facility::bit(facility::kTar);
            Vcpu u{};
            u.part = &denied;
            mig_install_vcpu(s.vcpus[i], u, kLater);
            EXPECT_EQ(u.lazy_sprs.hfscr, denied.hfscr) << "the target partition's facilities";
        }
        EXPECT_EQ(t.icp.pending_pri, p_->vcpus[i].icp.pending_pri);
        EXPECT_EQ(t.vpa.vpa.addr, 0u);  // registered by the hypervisor, which pins it
        t.vpa.vpa = {s.vcpus[i].vpa.addr, s.vcpus[i].vpa.len, nullptr};
        t.vpa.dtl = {s.vcpus[i].dtl.addr, s.vcpus[i].dtl.len, nullptr};
        t.vpa.slb = {s.vcpus[i].slb.addr, s.vcpus[i].slb.len, nullptr};
        Rec again = rec([&](std::span<u8> o) { return mig_encode_vcpu_core(t, kLater, o); });
        EXPECT_EQ(again, core);
        Rec fp_again = rec([&](std::span<u8> o) { return mig_encode_vcpu_fp(t, o); });
        EXPECT_EQ(fp_again, fp);
    }
    ASSERT_EQ(apply(s, part_rec()), MigError::Ok);
    Partition& q = hv().partitions[1];
    q = Partition{};
    q.lpcr = lpcr::kGuestBase;
    q.slot = p_->slot;
    mig_install_partition(s.part, q);
    EXPECT_EQ(q.lpcr, lpcr::kGuestBase | lpcr::ILE | lpcr::ail(3));
    q.process_table = p_->process_table;  // registered by the hypervisor
    q.prtb_pin_base = p_->prtb_pin_base, q.prtb_pin_len = p_->prtb_pin_len;
    Rec again = rec([&](std::span<u8> o) {
        return mig_encode_partition_state(q, log_, 0xabcdef0123, 9, o, 0x1122334455667788);
    });
    EXPECT_EQ(again, part_rec());
}

TEST_F(MigRecordsTest, EncodersRefuseSmallBuffers) {
    u8 small[100];
    EXPECT_EQ(mig_encode_start(*p_, cfg_, small).err, Err::NoMemory);
    EXPECT_EQ(mig_encode_vcpu_fp(p_->vcpus[0], small).err, Err::NoMemory);
    EXPECT_EQ(mig_encode_error_log(log_, 6, 0, small).err, Err::NotFound);  // no errors: nothing to send
    EXPECT_EQ(mig_encode_error_log(log_, p_->slot, 20, small).err, Err::NotFound);
}

TEST_F(MigRecordsTest, SequenceRules) {
    MigStaging s;
    EXPECT_EQ(apply(s, core_rec(0)), MigError::OutOfOrder);
    EXPECT_EQ(apply(s, start_rec()), MigError::Ok);
    EXPECT_EQ(apply(s, start_rec()), MigError::Duplicate);
    EXPECT_EQ(apply(s, core_rec(1)), MigError::Ok);
    EXPECT_EQ(apply(s, core_rec(1)), MigError::Duplicate);
    EXPECT_EQ(apply(s, log_rec(16)), MigError::OutOfOrder);  // batch 0 first
    EXPECT_EQ(apply(s, log_rec(0)), MigError::Ok);
    EXPECT_FALSE(s.complete());
    p_->vcpu_count = 2;  // the source now claims 2: vCPU 2's record is outside
    MigStaging t;
    ASSERT_EQ(apply(t, start_rec()), MigError::Ok);
    p_->vcpu_count = 3;
    EXPECT_EQ(apply(t, core_rec(2)), MigError::BadIndex);
    // A page record goes to the tracker, not here.
    MigRunBuilder b(0);
    ASSERT_EQ(b.add(LogicalPage{0}, MigPageKind::Zero), MigRunBuilder::Add::Added);
    Rec pr = rec([&](std::span<u8> o) { return b.encode(o); });
    EXPECT_EQ(apply(t, pr), MigError::BadType);
}

// One field of a record changed to v (offset inside the payload).
template <typename T>
Rec patched(Rec r, u32 payload_off, T v) {
    store_be<T>(&r[16 + payload_off], v);
    return r;
}

TEST_F(MigRecordsTest, FieldsNoPartitionCanProduceAreRejected) {
    MigStaging s;
    ASSERT_EQ(apply(s, start_rec()), MigError::Ok);
    MigStaging before;
    std::memcpy(static_cast<void*>(&before), &s, sizeof s);
    constexpr u32 kCore = 0, kRegs = 8, kLazy = 408, kIcp = 640, kVpa = 648;
    Rec c = core_rec(0);
    EXPECT_EQ(apply(s, patched<u64>(c, kRegs + 296, p_->vcpus[0].regs.msr | msr::HV)), MigError::BadValue);
    EXPECT_EQ(apply(s, patched<u64>(c, kLazy + 216, 4)), MigError::BadValue);   // DAWRX[HYP]
    EXPECT_EQ(apply(s, patched<u64>(c, kLazy + 224, 3)), MigError::BadValue);   // CIABR hypervisor
    EXPECT_EQ(apply(s, patched<u32>(c, kIcp + 4, 0)), MigError::Inconsistent);  // IPI pending, no XISR
    EXPECT_EQ(apply(s, patched<u64>(c, kVpa, kMem - 0x200)), MigError::BadAddress);  // VPA past the end
    EXPECT_EQ(apply(s, patched<u64>(c, kVpa, 0x10040)), MigError::BadAddress);       // misaligned
    EXPECT_EQ(apply(s, patched<u32>(c, kVpa + 24, 600)), MigError::BadCount);        // VPA too short
    Rec no_vpa = patched<u32>(patched<u64>(c, kVpa, 0), kVpa + 24, 0);
    EXPECT_EQ(apply(s, no_vpa), MigError::Inconsistent);  // a DTL without its VPA
    Rec c2 = core_rec(2);
    EXPECT_EQ(apply(s, patched<u64>(c2, 736, 1)), MigError::BadReserved);
    c2[16 + kCore + 5] |= 0x80;
    EXPECT_EQ(apply(s, c2), MigError::BadReserved);
    Rec c1 = core_rec(1);
    c1[16 + 4] = 7;
    EXPECT_EQ(apply(s, c1), MigError::BadEnum);
    EXPECT_EQ(apply(s, patched<u64>(core_rec(0), 320 + 80, 5)), MigError::Inconsistent);  // wake, not ceded

    Rec pr = part_rec();
    EXPECT_EQ(apply(s, patched<u64>(pr, 0, lpcr::kGuestBase)), MigError::BadValue);  // not partition bits
    EXPECT_EQ(apply(s, patched<u64>(pr, 0, lpcr::ail(2))), MigError::BadValue);
    EXPECT_EQ(apply(s, patched<u64>(pr, 16, 0x400000)), MigError::Inconsistent);  // pin is not dw1's table
    EXPECT_EQ(apply(s, patched<u64>(pr, 24, 0x1000)), MigError::Inconsistent);    // nor its size
    Rec far_prtb = patched<u64>(patched<u64>(pr, 8, 0x8000000000000001ull | kMem), 16, kMem);
    EXPECT_EQ(apply(s, far_prtb), MigError::BadAddress);                           // the table outside
    EXPECT_EQ(apply(s, patched<u64>(pr, 8, 0x8000000000200001ull | ppc_bit(2))), MigError::BadValue);
    Rec dereg = patched<u64>(patched<u64>(patched<u64>(pr, 8, radix::PATE1_GR), 16, 0), 24, 0);
    EXPECT_EQ(apply(s, patched<u64>(dereg, 8, 5)), MigError::Inconsistent);        // no table, yet a dw1
    EXPECT_EQ(apply(s, patched<u64>(pr, 48, 0x7102)), MigError::BadAddress);       // FWNMI handler misaligned
    EXPECT_EQ(apply(s, patched<u64>(pr, 32, kMem - 0x1000)), MigError::BadAddress);  // RTAS past the end
    EXPECT_EQ(apply(s, patched<u32>(pr, 92, 161)), MigError::BadCount);   // console line too long
    EXPECT_EQ(apply(s, patched<u32>(pr, 92, 4)), MigError::BadReserved);  // bytes after the line
    EXPECT_EQ(apply(s, patched<u32>(pr, 100, 65)), MigError::BadCount);   // more errors than a ring holds

    Rec st = start_rec();
    MigStaging fresh;
    EXPECT_EQ(apply(fresh, patched<u32>(st, 16, 0)), MigError::BadCount);
    EXPECT_EQ(apply(fresh, patched<u32>(st, 16, kMaxConfigVcpus + 1)), MigError::BadCount);
    EXPECT_EQ(apply(fresh, patched<u64>(st, 32, 1)), MigError::Inconsistent);  // pages vs bytes
    EXPECT_EQ(apply(fresh, patched<u64>(st, 72, 500000000)), MigError::BadValue);
    Rec bad_name = st;
    bad_name[16 + 2] = 'X';
    EXPECT_EQ(apply(fresh, bad_name), MigError::BadValue);
    EXPECT_FALSE(fresh.have_start);

    // None of it was staged.
    EXPECT_EQ(std::memcmp(&s, &before, sizeof s), 0);
}

TEST_F(MigRecordsTest, RunBuilderMergesAndBatches) {
    MigRunBuilder b(4);
    EXPECT_EQ(b.add(LogicalPage{10}, MigPageKind::Zero), MigRunBuilder::Add::Added);
    EXPECT_EQ(b.add(LogicalPage{11}, MigPageKind::Zero), MigRunBuilder::Add::Added);
    EXPECT_EQ(b.add(LogicalPage{12}, MigPageKind::PagedOut), MigRunBuilder::Add::Added);
    EXPECT_EQ(b.add(LogicalPage{20}, MigPageKind::PagedOut), MigRunBuilder::Add::Added);  // a gap: new run
    EXPECT_EQ(b.add(LogicalPage{20}, MigPageKind::PagedOut), MigRunBuilder::Add::OutOfOrder);
    EXPECT_EQ(b.run_count(), 3u);
    MigStaging s;
    ASSERT_EQ(apply(s, start_rec()), MigError::Ok);
    Rec r = rec([&](std::span<u8> o) { return b.encode(o); });
    EXPECT_EQ(r.size(), 16 + 8 + 3 * 12u);
    MigPageStatesView v;
    ASSERT_EQ(s.decode_page_states(r.data(), static_cast<u32>(r.size()), v), MigError::Ok);
    EXPECT_EQ(v.round, 4u);
    ASSERT_EQ(v.run_count, 3u);
    EXPECT_EQ(v.runs[0].first_page, 10u);
    EXPECT_EQ(v.runs[0].count, 2u);
    EXPECT_EQ(v.runs[1].kind, MigPageKind::PagedOut);
    EXPECT_EQ(v.runs[2].first_page, 20u);
    // A full batch takes no more runs.
    b.reset(0);
    for (u32 i = 0; i < kMigRunsPerRecord; ++i)
        ASSERT_EQ(b.add(LogicalPage{2 * i}, MigPageKind::ResidentDirty), MigRunBuilder::Add::Added);
    EXPECT_EQ(b.add(LogicalPage{1000}, MigPageKind::ResidentDirty), MigRunBuilder::Add::Full);
    EXPECT_EQ(b.add(LogicalPage{2 * kMigRunsPerRecord - 1}, MigPageKind::ResidentDirty), MigRunBuilder::Add::Added);
    Rec full = rec([&](std::span<u8> o) { return b.encode(o); });
    EXPECT_LE(full.size(), kMigMaxRecordBytes);
    ASSERT_EQ(s.decode_page_states(full.data(), static_cast<u32>(full.size()), v), MigError::Ok);
    EXPECT_EQ(v.run_count, kMigRunsPerRecord);
    // Runs overlapping, outside, empty.
    Rec overlap = patched<u32>(r, 8 + 12, 11);
    EXPECT_EQ(s.decode_page_states(overlap.data(), static_cast<u32>(overlap.size()), v), MigError::OutOfOrder);
    Rec outside = patched<u32>(r, 8 + 24 + 4, static_cast<u32>(kMem / kPageSize));
    EXPECT_EQ(s.decode_page_states(outside.data(), static_cast<u32>(outside.size()), v), MigError::BadIndex);
    Rec empty = patched<u32>(r, 8 + 4, 0);
    EXPECT_EQ(s.decode_page_states(empty.data(), static_cast<u32>(empty.size()), v), MigError::BadCount);
}

TEST_F(MigRecordsTest, PageChunksCarryTheWholePage) {
    MigStaging s;
    ASSERT_EQ(apply(s, start_rec()), MigError::Ok);
    alignas(16) u8 page[kPageSize];
    for (u32 i = 0; i < kPageSize; ++i) page[i] = static_cast<u8>(i * 7 + 3);
    u8 got[kPageSize]{};
    for (u32 c = 0; c < kMigChunksPerPage; ++c) {
        Rec r = rec([&](std::span<u8> o) {
            return mig_encode_page_chunk(LogicalPage{77}, 2, MigPageKind::PagedOut, page, c, o);
        });
        ASSERT_EQ(r.size(), 16 + 16 + kMigChunkBytes);
        MigChunkView v;
        ASSERT_EQ(s.decode_chunk(r.data(), static_cast<u32>(r.size()), v), MigError::Ok);
        EXPECT_EQ(v.page, LogicalPage{77});
        EXPECT_EQ(v.round, 2u);
        EXPECT_EQ(v.chunk, c);
        EXPECT_EQ(v.kind, MigPageKind::PagedOut);
        std::memcpy(got + c * kMigChunkBytes, v.data, kMigChunkBytes);
        if (c == 0) {
            MigChunkView w;
            Rec zero_kind = r;
            zero_kind[16 + 10] = static_cast<u8>(MigPageKind::Zero);
            EXPECT_EQ(s.decode_chunk(zero_kind.data(), static_cast<u32>(r.size()), w), MigError::Inconsistent);
            Rec far = patched<u32>(r, 0, static_cast<u32>(kMem / kPageSize));
            EXPECT_EQ(s.decode_chunk(far.data(), static_cast<u32>(r.size()), w), MigError::BadIndex);
            EXPECT_EQ(s.decode_chunk(r.data(), static_cast<u32>(r.size()) - 1, w), MigError::Truncated);
        }
    }
    EXPECT_EQ(std::memcmp(got, page, kPageSize), 0);
    EXPECT_EQ(mig_encode_page_chunk(LogicalPage{1}, 0, MigPageKind::Zero, page, 0, std::span<u8>()).err, Err::Invalid);
    u8 big[kMigMaxRecordBytes];
    EXPECT_EQ(mig_encode_page_chunk(LogicalPage{1}, 0, MigPageKind::ResidentDirty, page, 4, big).err, Err::Invalid);
}

TEST_F(MigRecordsTest, TimebaseOffsetNeverGoesBackwards) {
    struct Case {
        u64 guest, host;
    } cases[] = {{1000, 0}, {0, 1000}, {u64{1} << 40, 5}, {5, u64{1} << 40}, {kMigTbOffsetUnit, kMigTbOffsetUnit},
                 {0xffffffffff000000ull, 0x10}};
    for (const Case& c : cases) {
        u64 off = mig_tb_offset(c.guest, c.host);
        EXPECT_EQ(off % kMigTbOffsetUnit, 0u);
        u64 now = c.host + off;
        EXPECT_GE(static_cast<i64>(now - c.guest), 0);                         // not backwards
        EXPECT_LT(now - c.guest, kMigTbOffsetUnit);                            // and not far ahead
    }
}

// The staged state satisfies what every check promises (whatever reached it).
void expect_staged_sane(const MigStaging& s) {
    if (!s.have_start) return;
    const MigStagedStart& st = s.start;
    ASSERT_GE(st.vcpu_count, 1u);
    ASSERT_LE(st.vcpu_count, kMaxConfigVcpus);
    ASSERT_EQ(st.logical_pages * kPageSize, st.mem_bytes);
    for (u32 i = 0; i < kMaxConfigVcpus; ++i) {
        const MigStagedVcpu& v = s.vcpus[i];
        if (i >= st.vcpu_count) {
            ASSERT_FALSE(v.have_core || v.have_fp);
            continue;
        }
        if (!v.have_core) continue;
        ASSERT_EQ(v.regs.msr & msr::HV, 0u);
        ASSERT_EQ(v.presented, v.mfrr < v.cppr);
        ASSERT_EQ(v.xisr, v.presented ? kXicsIpi : 0u);
        for (const MigStagedArea* a : {&v.vpa, &v.dtl, &v.slb})
            if (a->addr) {
                ASSERT_LE(a->addr + a->len, st.mem_bytes);
            }
        if (v.dtl.addr || v.slb.addr) {
            ASSERT_NE(v.vpa.addr, 0u);
        }
    }
    if (s.have_partition) {
        ASSERT_LE(s.part.console.len, sizeof s.part.console.text);
        ASSERT_LE(s.part.rtas_base + s.part.rtas_size, st.mem_bytes);
        ASSERT_LE(s.part.prtb_pin_base + s.part.prtb_pin_len, st.mem_bytes);
        ASSERT_LE(s.error_count, s.part.errors_retained);
    }
    ASSERT_LE(s.error_count, PagingErrorLog::kCapacity);
}

// Seeded corruption of every record type: each mutant is rejected (staging
// unchanged) or accepted into a sane staging; never a crash (ASan/UBSan).
TEST_F(MigRecordsTest, CorruptedRecordsAreRejectedOrSane) {
    std::vector<Rec> good = all_records();
    {
        MigRunBuilder b(1);
        for (u32 i = 0; i < 40; ++i) (void)b.add(LogicalPage{i * 3 + (i % 2)}, static_cast<MigPageKind>(i % 5));
        good.push_back(rec([&](std::span<u8> o) { return b.encode(o); }));
        u8 page[kPageSize]{};
        good.push_back(rec([&](std::span<u8> o) {
            return mig_encode_page_chunk(LogicalPage{5}, 1, MigPageKind::ResidentDirty, page, 3, o);
        }));
    }
    test::Rng rng{20261201};
    u32 rejected = 0, accepted = 0;
    for (u32 iter = 0; iter < 20000; ++iter) {
        u32 which = static_cast<u32>(rng.below(good.size()));
        Rec r = good[which];
        u64 mutation = rng.below(6);
        switch (mutation) {
        case 0:  // flip bits
            for (u64 n = 1 + rng.below(4); n; --n) r[rng.below(r.size())] ^= static_cast<u8>(1u << rng.below(8));
            break;
        case 1:  // truncate
            r.resize(rng.below(r.size()));
            break;
        case 2:  // extend
            r.resize(r.size() + 1 + rng.below(64), static_cast<u8>(rng.next()));
            break;
        case 3:  // a random header length
            store_be<u32>(&r[8], static_cast<u32>(rng.below(2 * kMigMaxRecordBytes)));
            break;
        case 4:  // random payload bytes
            for (u64 n = 1 + rng.below(16); n; --n)
                r[16 + rng.below(r.size() - 16)] = static_cast<u8>(rng.next());
            break;
        default:  // a random big-endian word somewhere (counts, lengths, indexes)
            if (r.size() >= 20) store_be<u32>(&r[16 + 4 * rng.below((r.size() - 16) / 4)], static_cast<u32>(rng.next() % 200));
            break;
        }
        // Staged as far as the good sequence goes before this record.
        MigStaging s;
        for (u32 k = 0; k < which && k < good.size(); ++k)
            if (good[k][6] != static_cast<u8>(MigRecordType::PageStates) &&
                good[k][6] != static_cast<u8>(MigRecordType::PageChunk))
                (void)apply(s, good[k]);
        MigStaging before;
        std::memcpy(static_cast<void*>(&before), &s, sizeof s);
        const u8* data = r.empty() ? nullptr : r.data();
        u32 len = static_cast<u32>(r.size());
        MigError e = s.apply(data, len);
        bool framing = mutation == 1 || mutation == 2 || (mutation == 3 && load_be<u32>(&r[8]) != r.size());
        if (framing) {
            ASSERT_NE(e, MigError::Ok) << "iteration " << iter;
        }
        if (e == MigError::BadType) {
            MigPageStatesView v;
            MigChunkView c;
            MigError pe = s.decode_page_states(data, len, v);
            MigError ce = s.decode_chunk(data, len, c);
            if (pe == MigError::Ok) {
                u64 next = 0;
                for (u32 k = 0; k < v.run_count; ++k) {
                    ASSERT_GE(v.runs[k].first_page, next);
                    next = u64{v.runs[k].first_page} + v.runs[k].count;
                    ASSERT_LE(next, s.start.logical_pages);
                    ASSERT_LE(static_cast<u8>(v.runs[k].kind), kMigPageKindLast);
                }
            }
            if (ce == MigError::Ok) {
                ASSERT_LT(c.page.value, s.start.logical_pages);
                ASSERT_TRUE(mig_kind_has_data(c.kind));
                ASSERT_GE(c.data, data);
                ASSERT_LE(c.data + kMigChunkBytes, data + len);
            }
            e = pe == MigError::Ok || ce == MigError::Ok ? MigError::Ok : pe;
        }
        if (e == MigError::Ok) {
            ++accepted;
            expect_staged_sane(s);
        } else {
            ++rejected;
            ASSERT_STRNE(mig_error_name(e), "?");
            ASSERT_EQ(std::memcmp(&s, &before, sizeof s), 0) << "iteration " << iter << ": " << mig_error_name(e);
        }
    }
    // Framing damage is always caught; register and page bits no check can
    // judge still decode (the transport's authentication covers them).
    EXPECT_GT(rejected, 8000u);
    EXPECT_GT(accepted, 1000u);
}

}  // namespace
