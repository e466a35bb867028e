#include "hv/partition.h"

#include "hv/arch.h"

namespace pv {

void* Partition::logical_ptr(u64 addr) const { return arch::host_ptr(HostReal{mem_base.value + addr}); }

}  // namespace pv
