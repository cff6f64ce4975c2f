// libsndfile (LGPL-2.1, linked dynamically): WAV in every PCM width and float, FLAC, Ogg
// Vorbis and more, read and written through one API. Debian: libsndfile1-dev.
#ifndef SEQUENT_CSNDFILE_SHIM_H
#define SEQUENT_CSNDFILE_SHIM_H
#include <sndfile.h>
#endif
