import CKissFFT
#if canImport(Glibc)
import Glibc
#endif

// KissFFT's real-input FFT behind one safe type: the power spectrum of windowed frames.
//
// N = FFT size (even), frames are N real samples, spectra N/2 + 1 bins.

/// A real FFT plan of one size; one plan per thread (KissFFT's plans are read-only while
/// transforming, but the scratch buffers here are not).
final class RealFFT {
    let size: Int
    private let plan: kiss_fftr_cfg
    private var spectrum: [kiss_fft_cpx]

    /// A plan for `size` samples (even, >= 2); nil if KissFFT cannot make one.
    init?(size: Int) {
        guard size >= 2, size % 2 == 0, let plan = kiss_fftr_alloc(Int32(size), 0, nil, nil) else { return nil }
        self.size = size
        self.plan = plan
        self.spectrum = [kiss_fft_cpx](repeating: kiss_fft_cpx(), count: size / 2 + 1)
    }

    deinit { free(UnsafeMutableRawPointer(plan)) }

    /// |X_k|^2 for k in 0...N/2 of the N samples of `frame`, written into `power`.
    func powerSpectrum(_ frame: [Float], into power: inout [Float]) {
        precondition(frame.count == size && power.count == size / 2 + 1, "RealFFT: internal size mismatch")
        frame.withUnsafeBufferPointer { input in
            spectrum.withUnsafeMutableBufferPointer { output in
                kiss_fftr(plan, input.baseAddress, output.baseAddress)
            }
        }
        for k in 0..<spectrum.count {
            let c = spectrum[k]
            power[k] = c.r * c.r + c.i * c.i
        }
    }
}
