// The facilities the HFSCR gives a partition (Power ISA 3.0 Book III 6.2.11:
// HFSCR and FSCR number them alike, bit 63 - n), their names in the
// configuration (deny_facilities, docs/config.md), and which of them a
// partition can be told about with its own Facility Unavailable interrupt.
#pragma once
#include <string_view>

#include "base/types.h"

namespace pv {

namespace facility {
inline constexpr u32 kFp = 0, kVecVsx = 1, kDscr = 2, kPm = 3, kBhrb = 4, kTm = 5, kEbb = 7, kTar = 8, kMsgp = 10;
inline constexpr u64 bit(u32 f) { return u64{1} << f; }

// An FSCR enable bit exists for it: a problem-state use may be reflected to
// the partition as a Facility Unavailable interrupt (0xF60, FSCR[IC] = f).
// FP and VMX/VSX have none (the partition's MSR[FP]/[VEC]/[VSX] are its own).
inline constexpr bool has_fscr_bit(u32 f) {
    return f == kDscr || f == kPm || f == kBhrb || f == kTm || f == kEbb || f == kTar || f == kMsgp;
}

struct Name {
    std::string_view name;
    u32 bit;
};
// Every name deny_facilities accepts; vmx and vsx are one HFSCR bit (VECVSX).
inline constexpr Name kNames[] = {{"fp", kFp},     {"vmx", kVecVsx}, {"vsx", kVecVsx}, {"dscr", kDscr},
                                  {"pm", kPm},     {"bhrb", kBhrb},  {"tm", kTm},      {"ebb", kEbb},
                                  {"tar", kTar},   {"msgp", kMsgp}};
inline constexpr std::string_view kNameList = "fp, vmx, vsx, dscr, pm, bhrb, tm, ebb, tar, msgp";

// For messages: "TAR", "VMX/VSX", ... ("unknown" for a bit with no name).
inline const char* display_name(u32 f) {
    switch (f) {
    case kFp: return "FP";
    case kVecVsx: return "VMX/VSX";
    case kDscr: return "DSCR";
    case kPm: return "PM";
    case kBhrb: return "BHRB";
    case kTm: return "TM";
    case kEbb: return "EBB";
    case kTar: return "TAR";
    case kMsgp: return "MSGP";
    default: return "unknown";
    }
}
}  // namespace facility

// What a partition gets unless its configuration denies some (as KVM gives
// its guests): FP, VECVSX, DSCR, PM, BHRB, EBB, TAR. Never MSGP (msgsndp: no
// doorbells between a partition's threads) nor TM (its state is not switched).
inline constexpr u64 kGuestHfscr = facility::bit(facility::kFp) | facility::bit(facility::kVecVsx) |
                                   facility::bit(facility::kDscr) | facility::bit(facility::kPm) |
                                   facility::bit(facility::kBhrb) | facility::bit(facility::kEbb) |
                                   facility::bit(facility::kTar);
static_assert(kGuestHfscr == 0x19f);

}  // namespace pv
