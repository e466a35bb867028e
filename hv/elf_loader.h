// A partition image that is an ELF64 executable (a Linux vmlinux, or one of
// our guests' .elf files): validated once into a plan of segments that the
// caller copies into logical memory. See docs/config.md ("Images").
//
// Where a segment goes: its p_paddr, except that an address in the
// 0xc000... quadrant (a kernel's linear-map address, as old vmlinux files
// carry in p_paddr) loses its top nibble, as Linux's __pa() does. The entry
// point is e_entry taken through the PT_LOAD segment whose virtual range
// holds it (e_entry - p_vaddr + load address), which for a vmlinux
// (e_entry = p_vaddr = 0xc000000000000000, p_paddr = 0) is logical 0.
// Bytes past p_filesz up to p_memsz are not written: the loader only places
// images into fresh logical memory, which reads as zero in both memory modes.
#pragma once
#include "base/types.h"

namespace pv {

inline constexpr u32 kElfMaxSegments = 16;  // PT_LOAD headers kept in a plan
inline constexpr u64 kElfHeaderSize = 64;
inline constexpr u64 kElfPhdrSize = 56;
inline constexpr u16 kElfMachinePpc64 = 21;  // EM_PPC64

enum class ElfFault : u8 {
    None,
    Truncated,         // shorter than the 64-byte ELF header
    NotElf64,          // EI_CLASS is not ELFCLASS64
    NotLittleEndian,   // EI_DATA is not ELFDATA2LSB
    BadVersion,        // EI_VERSION / e_version is not 1
    WrongMachine,      // e_machine is not EM_PPC64
    NotExecutable,     // e_type is not ET_EXEC
    BadPhentsize,      // e_phentsize is not 56
    PhdrsOutsideFile,  // the program header table passes the end of the file
    NoSegments,        // no PT_LOAD segment with a non-zero p_memsz
    TooManySegments,   // more than kElfMaxSegments PT_LOAD segments
    FileSizeOverMem,   // p_filesz > p_memsz
    SegmentOutsideFile,  // p_offset + p_filesz passes the end of the file
    SegmentTooBig,     // the segment does not end below the limit (desired_mem minus the hypervisor's top area)
    SegmentOverlap,    // two segments share logical memory
    EntryOutside,      // e_entry is in no PT_LOAD segment
};

struct ElfSegment {
    u64 file_offset;  // p_offset
    u64 file_size;    // p_filesz: bytes copied
    u64 addr;         // logical load address
    u64 mem_size;     // p_memsz: bytes the segment occupies
};

struct ElfPlan {
    u32 count = 0;
    ElfSegment segment[kElfMaxSegments]{};
    u64 entry = 0;  // logical entry address
    u64 end = 0;    // one past the highest byte any segment occupies
};

struct ElfDiag {
    ElfFault fault = ElfFault::None;
    u32 segment = 0;  // program header index of the offending segment (per-segment faults)
    u64 addr = 0;     // that segment's logical range, for the message
    u64 end = 0;
};

// True if the data starts with the ELF magic (otherwise it is a raw image).
bool is_elf(const u8* data, u64 size);

// Validates an ELF64 image and fills `plan`. Every segment must lie within
// logical [0, limit). `diag`, if given, receives the fault on failure.
[[nodiscard]] bool plan_elf(const u8* data, u64 size, u64 limit, ElfPlan& plan, ElfDiag* diag = nullptr);

const char* elf_fault_text(ElfFault f);

}  // namespace pv
