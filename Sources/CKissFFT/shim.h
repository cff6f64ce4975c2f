// KissFFT (BSD-3-Clause), its single-precision build: the real-input FFT of the audio
// features. Debian: libkissfft-dev (libkissfft-float).
#ifndef SEQUENT_CKISSFFT_SHIM_H
#define SEQUENT_CKISSFFT_SHIM_H
#ifndef kiss_fft_scalar
#define kiss_fft_scalar float
#endif
#include <kissfft/kiss_fftr.h>
#endif
