// net-guest's migration-transport mode (docs/migration-transport.md "Two
// machines"): a mig::Connection over the UdpLink's DatagramPort.
#pragma once
#include "vio/e1000e.h"
#include "vio/mig_auth.h"
#include "vio/udp_link.h"

#include <stddef.h>

namespace netguest {

// key=<64 hex digits> from bootargs: the pre-shared system-pair key. A test-
// only way of provisioning it (bootargs are in the config, in the clear);
// false when absent or malformed.
bool parse_psk(const char* s, size_t len, pv::mig::Psk& psk);

// role=mig-client (initiator: sends `count` messages, waits for the server's
// summary, closes) or role=mig-server (responder: verifies every message in
// order, sends the summary, closes after the client). Prints PASS or FAIL
// with its counts; returns when the connection has ended either way.
void run_mig(pv::e1000e::Driver& nic, pv::net::UdpLink& link, bool client, const pv::mig::Psk& psk, pv::u64 count,
             pv::u64 wait_s);

}  // namespace netguest
