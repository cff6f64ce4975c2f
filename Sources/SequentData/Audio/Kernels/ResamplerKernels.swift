import CSampleRate

// libsamplerate's one-call converter over a whole mono signal.

enum ResamplerKernels {
    /// `samples` at `ratio` = output rate / input rate, with libsamplerate's sinc converter
    /// of medium quality (band-limited, 97 dB attenuation); the error is its message.
    static func resample(_ samples: [Float], ratio: Double) -> Result<[Float], SoundFileFailure> {
        let outputCount = Int((Double(samples.count) * ratio).rounded(.up)) + 16
        var output = [Float](repeating: 0, count: outputCount)
        var generated = 0
        let status: Int32 = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var data = SRC_DATA()
                data.data_in = input.baseAddress
                data.input_frames = Int(samples.count)
                data.data_out = out.baseAddress
                data.output_frames = Int(outputCount)
                data.src_ratio = ratio
                let status = src_simple(&data, Int32(SRC_SINC_MEDIUM_QUALITY), 1)
                generated = Int(data.output_frames_gen)
                return status
            }
        }
        guard status == 0 else { return .failure(SoundFileFailure(message: String(cString: src_strerror(status)))) }
        return .success(Array(output.prefix(generated)))
    }
}
