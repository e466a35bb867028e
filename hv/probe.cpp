// The entry probe's consumer: the AMS's resume path length (hv/probe.h).
#include "hv/probe.h"

#include "hv/ams.h"

namespace pv {

void probe_entry(PhysCpu& cpu, u64 pmc) { ams_note_resume_entry(cpu, pmc); }

}  // namespace pv
