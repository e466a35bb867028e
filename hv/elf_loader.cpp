// ELF64 partition images: validation into a load plan.
#include "hv/elf_loader.h"

namespace pv {
namespace {

constexpr u32 kPtLoad = 1;
constexpr u16 kEtExec = 2;
constexpr u8 kElfClass64 = 2, kElfData2Lsb = 1, kEvCurrent = 1;
constexpr u64 kKernelQuadrant = u64{0xc} << 60;
constexpr u64 kQuadrantMask = u64{0xf} << 60;

// The image sits in the bundle at any alignment: read byte-wise.
u16 le16(const u8* p) { return static_cast<u16>(p[0] | p[1] << 8); }
u32 le32(const u8* p) { return u32{le16(p)} | u32{le16(p + 2)} << 16; }
u64 le64(const u8* p) { return u64{le32(p)} | u64{le32(p + 4)} << 32; }

u64 load_address(u64 paddr) {
    return (paddr & kQuadrantMask) == kKernelQuadrant ? paddr & ~kQuadrantMask : paddr;
}

bool fail(ElfDiag* diag, ElfFault f, u32 segment = 0, u64 addr = 0, u64 end = 0) {
    if (diag) *diag = {f, segment, addr, end};
    return false;
}

ElfFault check_header(const u8* d, u64 size) {
    if (size < kElfHeaderSize) return ElfFault::Truncated;
    if (d[4] != kElfClass64) return ElfFault::NotElf64;
    if (d[5] != kElfData2Lsb) return ElfFault::NotLittleEndian;
    if (d[6] != kEvCurrent || le32(d + 20) != kEvCurrent) return ElfFault::BadVersion;
    if (le16(d + 18) != kElfMachinePpc64) return ElfFault::WrongMachine;
    if (le16(d + 16) != kEtExec) return ElfFault::NotExecutable;
    if (le16(d + 54) != kElfPhdrSize) return ElfFault::BadPhentsize;
    u64 phoff = le64(d + 32), phnum = le16(d + 56);
    if (phoff > size || phnum * kElfPhdrSize > size - phoff) return ElfFault::PhdrsOutsideFile;
    if (phnum == 0) return ElfFault::NoSegments;
    return ElfFault::None;
}

}  // namespace

bool is_elf(const u8* data, u64 size) {
    return data && size >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';
}

bool plan_elf(const u8* data, u64 size, u64 limit, ElfPlan& plan, ElfDiag* diag) {
    plan = {};
    if (!is_elf(data, size)) return fail(diag, ElfFault::Truncated);
    if (ElfFault f = check_header(data, size); f != ElfFault::None) return fail(diag, f);
    u64 phoff = le64(data + 32);
    u32 phnum = le16(data + 56);
    u64 e_entry = le64(data + 24);
    bool entry_found = false;

    for (u32 i = 0; i < phnum; ++i) {
        const u8* ph = data + phoff + u64{i} * kElfPhdrSize;
        if (le32(ph) != kPtLoad) continue;
        ElfSegment s{le64(ph + 8), le64(ph + 32), load_address(le64(ph + 24)), le64(ph + 40)};
        u64 va = le64(ph + 16);
        if (s.mem_size == 0) continue;  // occupies nothing
        if (s.file_size > s.mem_size) return fail(diag, ElfFault::FileSizeOverMem, i);
        if (s.file_offset > size || s.file_size > size - s.file_offset)
            return fail(diag, ElfFault::SegmentOutsideFile, i);
        if (s.addr >= limit || s.mem_size > limit - s.addr)
            return fail(diag, ElfFault::SegmentTooBig, i, s.addr,
                        s.mem_size > ~u64{0} - s.addr ? ~u64{0} : s.addr + s.mem_size);
        if (plan.count == kElfMaxSegments) return fail(diag, ElfFault::TooManySegments, i);
        for (u32 j = 0; j < plan.count; ++j) {
            const ElfSegment& o = plan.segment[j];
            if (s.addr < o.addr + o.mem_size && o.addr < s.addr + s.mem_size)
                return fail(diag, ElfFault::SegmentOverlap, i, s.addr, s.addr + s.mem_size);
        }
        if (!entry_found && e_entry >= va && e_entry - va < s.mem_size) {
            plan.entry = s.addr + (e_entry - va);
            entry_found = true;
        }
        plan.segment[plan.count++] = s;
        if (s.addr + s.mem_size > plan.end) plan.end = s.addr + s.mem_size;
    }
    if (plan.count == 0) return fail(diag, ElfFault::NoSegments);
    if (!entry_found) return fail(diag, ElfFault::EntryOutside);
    if (diag) *diag = {};
    return true;
}

const char* elf_fault_text(ElfFault f) {
    switch (f) {
    case ElfFault::None: return "ok";
    case ElfFault::Truncated: return "truncated ELF header (shorter than 64 bytes)";
    case ElfFault::NotElf64: return "not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)";
    case ElfFault::NotLittleEndian: return "not a little-endian ELF file (EI_DATA is not ELFDATA2LSB)";
    case ElfFault::BadVersion: return "unknown ELF version (expected 1)";
    case ElfFault::WrongMachine: return "wrong machine (e_machine is not EM_PPC64)";
    case ElfFault::NotExecutable: return "not an executable (e_type is not ET_EXEC)";
    case ElfFault::BadPhentsize: return "program header size is not 56 bytes";
    case ElfFault::PhdrsOutsideFile: return "program header table extends beyond the file (truncated?)";
    case ElfFault::NoSegments: return "no loadable (PT_LOAD) segment";
    case ElfFault::TooManySegments: return "more than 16 loadable segments";
    case ElfFault::FileSizeOverMem: return "segment p_filesz is larger than its p_memsz";
    case ElfFault::SegmentOutsideFile: return "segment data extends beyond the file (truncated?)";
    case ElfFault::SegmentTooBig:
        return "segment does not fit in desired_mem below the hypervisor's RTAS and device-tree area";
    case ElfFault::SegmentOverlap: return "segment overlaps another segment";
    case ElfFault::EntryOutside: return "entry point is in no loadable segment";
    }
    return "unknown ELF fault";
}

}  // namespace pv
