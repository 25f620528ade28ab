// What TCP has sent on a socket without an acknowledgement yet, and how fast the path delivers (lib/wire/flight-bound.ts).
#pragma once
#include <napi.h>

namespace iscsi {

// { unackedBytes, srttUs, rttvarUs, rtoUs (without backoff), deliveryRate (bytes/s) }, or undefined if the kernel
// would not say.
Napi::Value TcpInFlight(Napi::Env env, int fd);

}  // namespace iscsi
