import CSndFile

// The calls into libsndfile: open, read every frame as Float (PCM of any width scaled to
// [-1, 1), float and double as stored), and write. Safe functions over the C API; the
// callers (`AudioFile`) turn the messages into `SequentError`s naming the file.

/// What libsndfile decoded from one file.
struct DecodedSound {
    /// Interleaved samples: frame f, channel c at [f * channels + c].
    var samples: [Float]
    var channels: Int
    var sampleRate: Int
    /// The frame count the file's header declares.
    var declaredFrames: Int
    /// libsndfile's major format (SF_FORMAT_WAV, ...) and subtype (SF_FORMAT_PCM_16, ...).
    var majorFormat: Int32
    var subtype: Int32
    /// libsndfile's log of the header it parsed (it notes lengths that do not fit there).
    var log: String
}

enum SoundFileKernels {
    /// Reads a whole file; the error is libsndfile's message.
    static func read(path: String) -> Result<DecodedSound, SoundFileFailure> {
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            return .failure(SoundFileFailure(message: String(cString: sf_strerror(nil))))
        }
        defer { sf_close(file) }
        let channels = Int(info.channels)
        guard channels >= 1, info.samplerate >= 1 else {
            return .failure(SoundFileFailure(message: "the header gives \(info.channels) channels at \(info.samplerate) Hz"))
        }
        var logBytes = [CChar](repeating: 0, count: 4096)
        let logLength = sf_command(file, Int32(SFC_GET_LOG_INFO), &logBytes, Int32(logBytes.count))
        let log = logLength > 0 ? String(decoding: logBytes.prefix(Int(logLength)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""

        // Read in blocks until libsndfile has no more: the header's frame count may be wrong.
        let blockFrames = 16_384
        var samples: [Float] = []
        samples.reserveCapacity(max(0, min(Int(info.frames), 1 << 28)) * channels)
        var block = [Float](repeating: 0, count: blockFrames * channels)
        while true {
            let got = block.withUnsafeMutableBufferPointer { buffer in
                sf_readf_float(file, buffer.baseAddress, sf_count_t(blockFrames))
            }
            if got <= 0 { break }
            samples.append(contentsOf: block[0..<(Int(got) * channels)])
        }
        let status = sf_error(file)
        if status != SF_ERR_NO_ERROR {
            return .failure(SoundFileFailure(message: String(cString: sf_strerror(file))))
        }
        return .success(DecodedSound(
            samples: samples, channels: channels, sampleRate: Int(info.samplerate), declaredFrames: Int(info.frames),
            majorFormat: info.format & Int32(SF_FORMAT_TYPEMASK), subtype: info.format & Int32(SF_FORMAT_SUBMASK), log: log))
    }

    /// Writes interleaved samples (in [-1, 1]) in `format` (a major format | subtype);
    /// the error is libsndfile's message.
    static func write(path: String, samples: [Float], channels: Int, sampleRate: Int, format: Int32) -> SoundFileFailure? {
        var info = SF_INFO()
        info.channels = Int32(channels)
        info.samplerate = Int32(sampleRate)
        info.format = format
        guard sf_format_check(&info) != 0 else {
            return SoundFileFailure(message: "libsndfile cannot write this format (0x\(String(format, radix: 16))) with \(channels) channels at \(sampleRate) Hz")
        }
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            return SoundFileFailure(message: String(cString: sf_strerror(nil)))
        }
        // Integer formats clip instead of wrapping at full scale.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let frames = samples.count / max(1, channels)
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        let failure = written == sf_count_t(frames) ? nil : SoundFileFailure(message: String(cString: sf_strerror(file)))
        sf_close(file)
        return failure
    }

    /// The libsndfile format codes of the encodings `AudioEncoding` names.
    static func formatCode(_ encoding: AudioEncoding) -> Int32 {
        switch encoding {
        case .wavPCM8: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8)
        case .wavPCM16: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .wavPCM24: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24)
        case .wavPCM32: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32)
        case .wavFloat: return Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .flac16: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .oggVorbis: return Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        }
    }

    /// A name for a libsndfile major format and subtype ("WAV 16-bit PCM").
    static func describe(majorFormat: Int32, subtype: Int32) -> String {
        let major: String
        switch majorFormat {
        case Int32(SF_FORMAT_WAV): major = "WAV"
        case Int32(SF_FORMAT_WAVEX): major = "WAVE_FORMAT_EXTENSIBLE"
        case Int32(SF_FORMAT_FLAC): major = "FLAC"
        case Int32(SF_FORMAT_OGG): major = "Ogg"
        case Int32(SF_FORMAT_AIFF): major = "AIFF"
        default: major = "format 0x\(String(majorFormat, radix: 16))"
        }
        let sub: String
        switch subtype {
        case Int32(SF_FORMAT_PCM_U8), Int32(SF_FORMAT_PCM_S8): sub = "8-bit PCM"
        case Int32(SF_FORMAT_PCM_16): sub = "16-bit PCM"
        case Int32(SF_FORMAT_PCM_24): sub = "24-bit PCM"
        case Int32(SF_FORMAT_PCM_32): sub = "32-bit PCM"
        case Int32(SF_FORMAT_FLOAT): sub = "32-bit float"
        case Int32(SF_FORMAT_DOUBLE): sub = "64-bit float"
        case Int32(SF_FORMAT_VORBIS): sub = "Vorbis"
        case Int32(SF_FORMAT_OPUS): sub = "Opus"
        default: sub = "subtype 0x\(String(subtype, radix: 16))"
        }
        return "\(major) \(sub)"
    }

    /// Whether the major format is a WAV variant (whose data length the header declares).
    static func isWAV(_ majorFormat: Int32) -> Bool {
        majorFormat == Int32(SF_FORMAT_WAV) || majorFormat == Int32(SF_FORMAT_WAVEX)
    }
}

/// libsndfile's reason a file could not be read or written.
struct SoundFileFailure: Error {
    var message: String
}
