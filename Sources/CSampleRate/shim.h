// libsamplerate (BSD-2-Clause): band-limited sample-rate conversion. Debian: libsamplerate0-dev.
#ifndef SEQUENT_CSAMPLERATE_SHIM_H
#define SEQUENT_CSAMPLERATE_SHIM_H
#include <samplerate.h>
#endif
