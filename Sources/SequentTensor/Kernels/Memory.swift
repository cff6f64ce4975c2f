import CDNNL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide memory settings that a program chooses once, at start-up, and the
/// measurement of how much memory a piece of work needs.
public enum Memory {
    /// Keeps freed memory in the process for reuse instead of returning it to the system.
    ///
    /// glibc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh
    /// mapping and unmaps it on free, so a training step that allocates the same large
    /// activations every time takes a page fault on each of their 4 KiB pages (about a
    /// third of the time of a 6400 x 2048 matrix product). After this call large blocks come
    /// from the heap and stay there: the resident size stays at the peak of the program.
    /// The `sequent` and `sequent-bench` executables call it first; libraries never do.
    public static func keepFreedMemoryForReuse() {
        _ = mallopt(SEQUENT_M_MMAP_MAX, 0)
        _ = mallopt(SEQUENT_M_TRIM_THRESHOLD, Int32.max)
    }

    /// The growth of the peak resident size while `body` runs, in bytes, or nil where the
    /// peak cannot be reset (not Linux, or /proc/self/clear_refs not writable).
    ///
    /// First `malloc_trim(0)` hands the free heap pages back to the system (memory kept for
    /// reuse included); then writing "5" to /proc/self/clear_refs resets the peak resident
    /// size VmHWM to the current VmRSS, the baseline (what exists before the call). After
    /// `body`, the result is VmHWM - baseline: its activations, saved tensors, gradients and
    /// workspaces, at page granularity.
    public static func peakResidentGrowth(during body: () throws -> Void) rethrows -> Int? {
        _ = malloc_trim(0)
        guard resetPeakResidentSize(), let baseline = residentKilobytes("VmRSS") else {
            try body()
            return nil
        }
        try body()
        guard let peak = residentKilobytes("VmHWM") else { return nil }
        return max(0, peak - baseline) * 1024
    }

    /// Writes "5" to /proc/self/clear_refs, which sets VmHWM to the current VmRSS (Linux 4.0+).
    private static func resetPeakResidentSize() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// A "Vm...: N kB" field of /proc/self/status, in kB.
    private static func residentKilobytes(_ field: String) -> Int? {
        // Read to the end: /proc files report a size of 0, so readers that trust stat see nothing.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/status") else { return nil }
        defer { try? handle.close() }
        let status = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}
