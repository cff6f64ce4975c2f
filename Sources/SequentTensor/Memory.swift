import CDNNL

/// Process-wide memory settings that a program chooses once, at start-up.
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
}
