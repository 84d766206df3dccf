#pragma once

#include <functional>
#include <string>

#include "env/stop_signal.h"

namespace standby {

// Ctrl-C, SIGTERM and SIGHUP (the terminal gone) for a long command. CatchInterrupts blocks
// them in the calling thread — so every thread started after it inherits the block; call it before
// starting any — and waits for them on a thread of its own. The first signal prints
// `on_first` and sets the returned signal: the command stops at its next safe point, cleans
// up and says what state it left. A second signal prints what `on_second` returns (what may
// be left behind) and exits at once with 128 + the signal. Once per process.
StopSignal* CatchInterrupts(std::string on_first, std::function<std::string()> on_second = nullptr);

// 128 + the signal that interrupted the command (130 for Ctrl-C, 143 for SIGTERM, 129 for
// SIGHUP); 1 when none did.
int InterruptedExitStatus();

}  // namespace standby
