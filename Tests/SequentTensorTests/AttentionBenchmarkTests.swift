#if !DEBUG
import Foundation
import SequentTensor
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The resident size of the process in bytes (/proc/self/statm). Blocks above glibc's mmap
/// threshold are mapped on allocation and unmapped on free, so large buffers show here.
private func heapBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = read(fd, &buffer, 127)
    guard n > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Samples `heapBytes()` (the resident size) on a background thread while `body` runs; returns the peak above
/// the level at the start.
private func peakExtraHeap(_ body: () -> Void) -> Int {
    final class Sampler: @unchecked Sendable {
        var peak = 0
        var running = true
        let lock = NSLock()
    }
    let sampler = Sampler()
    let baseline = heapBytes()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        while sampler.lock.withLock({ sampler.running }) {
            let now = heapBytes()
            sampler.lock.withLock { sampler.peak = max(sampler.peak, now) }
            usleep(50)
        }
        done.signal()
    }
    thread.start()
    body()
    let final = heapBytes()
    sampler.lock.withLock { sampler.running = false; sampler.peak = max(sampler.peak, final) }
    done.wait()
    return max(0, sampler.peak - baseline)
}

/// Seconds per call: the best of `repeats` after one warm-up.
private func bestTime(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

/// Timings of the fused attention kernel against the plain path (release builds only; prints,
/// asserts nothing about speed). Run with
/// `swift test -c release -Xswiftc -enable-testing --filter AttentionBenchmarkTests`.
final class AttentionBenchmarkTests: XCTestCase {
    private func measure(b: Int, h: Int, t: Int, d: Int, causal: Bool, repeats: Int) {
        let q = randomTensor([b, h, t, d], seed: 1), k = randomTensor([b, h, t, d], seed: 2)
        let v = randomTensor([b, h, t, d], seed: 3), dy = randomTensor([b, h, t, d], seed: 4)
        var line = "B=\(b) h=\(h) T=\(t) d=\(d)\(causal ? " causal" : "")"
        for path in [AttentionImplementation.fused, .plain] {
            let forward = {
                _ = withoutGradients { Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: causal, implementation: path) }
            }
            let training = {
                let leaves = [q, k, v].map { $0.requiringGrad() }
                let y = Tensor.scaledDotProductAttention(query: leaves[0], key: leaves[1], value: leaves[2], causal: causal, implementation: path)
                y.backward(gradient: dy)
            }
            let forwardTime = bestTime(repeats: repeats, forward)
            let trainingTime = bestTime(repeats: repeats, training)
            let forwardMemory = peakExtraHeap(forward), trainingMemory = peakExtraHeap(training)
            line += String(format: " | %@: fwd %.2f ms (peak +%.1f MiB), fwd+bwd %.2f ms (peak +%.1f MiB)",
                           "\(path)", forwardTime * 1e3, Double(forwardMemory) / 1048576,
                           trainingTime * 1e3, Double(trainingMemory) / 1048576)
        }
        print(line)
    }

    func testFusedAgainstPlainLongSequences() {
        print("threads: \(Parallelism.threadCount)")
        for t in [256, 512, 1024, 2048, 4096] {
            measure(b: 1, h: 4, t: t, d: 64, causal: false, repeats: t >= 2048 ? 2 : 5)
        }
        for t in [1024, 4096] {
            measure(b: 1, h: 4, t: t, d: 64, causal: true, repeats: 2)
        }
    }

    func testGPTShapes() {
        // gpt-4x256: B=32, h=4, T=128, d=64 (E=256), causal.
        measure(b: 32, h: 4, t: 128, d: 64, causal: true, repeats: 10)
        measure(b: 32, h: 4, t: 128, d: 64, causal: false, repeats: 10)
    }
}
#endif
