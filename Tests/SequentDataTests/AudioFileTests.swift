import Foundation
import SequentData
import SequentTensor
import XCTest

/// `AudioFile`: files the test writes through libsndfile in every encoding, read back; mono
/// mix-down, resampling or its refusal; and broken files, each an error naming the file.
final class AudioFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("AudioFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// 0.25 s of a 440 Hz tone at half scale plus a quieter 1 kHz tone.
    private func tone(rate: Int, seconds: Double = 0.25) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { n in
            let t = Double(n) / Double(rate)
            return Float(0.5 * sin(2 * .pi * 440 * t) + 0.2 * sin(2 * .pi * 1000 * t))
        }
    }

    func testEveryEncodingReadsBackWhatWasWritten() throws {
        let samples = tone(rate: 8000)
        // The largest difference each encoding may make: the quantisation step, or Vorbis's loss.
        let tolerance: [AudioEncoding: Float] = [
            .wavPCM8: 1.0 / 127, .wavPCM16: 1.0 / 32_767, .wavPCM24: 1.0 / 8_388_607, .wavPCM32: 1e-6,
            .wavFloat: 0, .flac16: 1.0 / 32_767,
        ]
        for encoding in AudioEncoding.allCases {
            let url = folder.appendingPathComponent("tone-\(encoding.rawValue).\(encoding.fileExtension)")
            try AudioFile.write(samples, sampleRate: 8000, to: url, encoding: encoding)
            let clip = try AudioFile.read(url)
            XCTAssertEqual(clip.sampleRate, 8000, "\(encoding)")
            if encoding == .oggVorbis {
                // Lossy: the same length within a block, and a small error relative to the signal.
                XCTAssertEqual(Double(clip.samples.count), Double(samples.count), accuracy: 64, "\(encoding)")
                let n = min(clip.samples.count, samples.count)
                let error = (0..<n).reduce(0.0) { $0 + Double((clip.samples[$1] - samples[$1]) * (clip.samples[$1] - samples[$1])) }
                let power = (0..<n).reduce(0.0) { $0 + Double(samples[$1] * samples[$1]) }
                XCTAssertLessThan(error / power, 0.01, "Vorbis round trip: relative error \(error / power)")
                continue
            }
            XCTAssertEqual(clip.samples.count, samples.count, "\(encoding)")
            let worst = zip(clip.samples, samples).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, tolerance[encoding]! * 1.0001, "\(encoding): largest difference \(worst)")
            XCTAssertTrue(try AudioFile.describe(url).contains(encoding == .flac16 ? "FLAC" : "WAV"))
        }
    }

    func testStereoIsMixedDownToTheMeanOfItsChannels() throws {
        let left = tone(rate: 8000)
        let interleaved = left.flatMap { [$0, -0.5 * $0] }
        let url = folder.appendingPathComponent("stereo.wav")
        try AudioFile.write(interleaved, channels: 2, sampleRate: 8000, to: url, encoding: .wavFloat)
        let clip = try AudioFile.read(url)
        XCTAssertEqual(clip.samples.count, left.count)
        for (m, l) in zip(clip.samples, left) { XCTAssertEqual(m, 0.25 * l, accuracy: 1e-6) }
    }

    func testAnotherRateIsResampledOrRefusedByName() throws {
        let url = folder.appendingPathComponent("16k.wav")
        try AudioFile.write(tone(rate: 16_000), sampleRate: 16_000, to: url, encoding: .wavFloat)
        let clip = try AudioFile.read(url, sampleRate: 8000)
        XCTAssertEqual(clip.sampleRate, 8000)
        XCTAssertEqual(Double(clip.samples.count), 2000, accuracy: 2)
        // The 440 Hz and 1 kHz tones are below the new Nyquist frequency: the signal is kept.
        let expected = tone(rate: 8000)
        let middle = 200..<1800
        let worst = middle.map { abs(clip.samples[$0] - expected[$0]) }.max() ?? 1
        XCTAssertLessThan(worst, 0.01)
        XCTAssertThrowsError(try AudioFile.read(url, sampleRate: 8000, resampling: .refuse)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("16k.wav") && message.contains("16000 Hz") && message.contains("8000 Hz"), message)
        }
    }

    func testANonAudioFileIsAnErrorNamingIt() throws {
        let url = folder.appendingPathComponent("notes.wav")
        try Data("this is text, not a RIFF file\n".utf8).write(to: url)
        XCTAssertThrowsError(try AudioFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("notes.wav") && "\(error)".contains("not a readable audio file"), "\(error)")
        }
    }

    func testATruncatedFileIsAnErrorNamingIt() throws {
        let url = folder.appendingPathComponent("cut.wav")
        try AudioFile.write(tone(rate: 8000), sampleRate: 8000, to: url, encoding: .wavPCM16)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        XCTAssertThrowsError(try AudioFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("cut.wav") && "\(error)".contains("frames"), "\(error)")
        }
    }

    func testAHeaderThatClaimsMoreDataThanTheFileHoldsIsAnError() throws {
        let url = folder.appendingPathComponent("liar.wav")
        try AudioFile.write(tone(rate: 8000), sampleRate: 8000, to: url, encoding: .wavPCM16)
        var bytes = [UInt8](try Data(contentsOf: url))
        // The "data" chunk's length field, doubled (the RIFF size left as it was).
        let data = Array("data".utf8)
        let at = (0..<(bytes.count - 8)).first { Array(bytes[$0..<($0 + 4)]) == data }!
        let length = UInt32(bytes[at + 4]) | UInt32(bytes[at + 5]) << 8 | UInt32(bytes[at + 6]) << 16 | UInt32(bytes[at + 7]) << 24
        let lie = length * 2
        for k in 0..<4 { bytes[at + 4 + k] = UInt8((lie >> (8 * UInt32(k))) & 0xFF) }
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try AudioFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("liar.wav") && "\(error)".contains("header"), "\(error)")
        }
    }

    func testAnEmptyRecordingIsAnError() throws {
        let url = folder.appendingPathComponent("empty.wav")
        try AudioFile.write([], sampleRate: 8000, to: url, encoding: .wavPCM16)
        XCTAssertThrowsError(try AudioFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains("empty.wav") && "\(error)".contains("no audio samples"), "\(error)")
        }
    }

    func testAFolderWithoutAudioIsAnError() throws {
        try Data("x".utf8).write(to: folder.appendingPathComponent("readme.txt"))
        XCTAssertThrowsError(try AudioFile.files(in: folder)) { error in
            XCTAssertTrue("\(error)".contains("holds no audio files"), "\(error)")
        }
        XCTAssertThrowsError(try AudioFile.files(in: folder.appendingPathComponent("missing"))) { error in
            XCTAssertTrue("\(error)".contains("no such folder"), "\(error)")
        }
    }
}
