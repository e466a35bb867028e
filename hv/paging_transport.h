// What the pager needs from whoever moves pages between pool frames and the
// paging device: hand it one request. The paging service partition's link
// (hv/psp_link.h) is the real one; unit tests plug in a fake PSP. A hook
// table, not a virtual class (the hypervisor links no C++ runtime).
#pragma once
#include "mm/paging_request.h"

namespace pv {

struct Partition;

struct PagingTransport {
    // r (of partition p) has its frame and device block: start the I/O. The
    // completion comes back through Pager::complete. False: it cannot be
    // sent (always, once the service has failed); the caller fails the request.
    bool (*send)(void* ctx, const PagingRequest& r, const Partition& p) = nullptr;
    // The paging service is gone or declared failed: no I/O can succeed.
    bool (*failed)(const void* ctx) = nullptr;
    void* ctx = nullptr;
};

}  // namespace pv
