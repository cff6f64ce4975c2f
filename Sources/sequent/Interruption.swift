import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C and SIGTERM for a long command that can save what it has finished: the command
/// reports each finished piece to `update`; a signal then makes a watcher thread save the
/// latest piece (`save`), print what it did, and exit with 128 + the signal's number.
///
/// The signals are blocked in every thread (threads started later inherit the mask) and
/// taken by the watcher with `sigwait`, so saving runs as ordinary code, not in a handler.
/// A signal while `finish` writes the final result waits for it to be written.
final class Interruption<Partial: Sendable>: Sendable {
    private let latest = Mutex<Partial?>(nil)
    /// Whether the final result is written; locked while it is being written.
    private let finished = Mutex<Bool>(false)

    /// Starts watching SIGINT and SIGTERM. `save` writes a partial result (nil: none yet)
    /// and returns the line to print.
    init(save: @escaping @Sendable (_ signal: Int32, _ partial: Partial?) throws -> String) {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let watched = signals
        let thread = Thread { [self] in
            var set = watched, received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { return }
            let message: String
            if finished.withLock({ $0 }) {
                message = "interrupted by signal \(received) after the final result was written"
            } else {
                let partial = latest.withLock { $0 }
                do {
                    message = try save(received, partial)
                } catch {
                    message = "interrupted by signal \(received); saving what was finished failed: \(error)"
                }
            }
            FileHandle.standardError.write(Data("sequent: \(message)\n".utf8))
            // _exit, not exit: the other threads are still computing, and exit's handlers
            // (oneDNN's and OpenMP's teardown) would run under them.
            _exit(128 + received)
        }
        thread.start()
    }

    /// Records the latest finished piece.
    func update(_ partial: Partial) {
        latest.withLock { $0 = partial }
    }

    /// Runs `body` (writing the final result); a signal meanwhile waits for it to end, and
    /// after it no partial result is saved.
    func finish(_ body: () throws -> Void) throws {
        try finished.withLock { (done: inout Bool) throws -> Void in
            try body()
            done = true
        }
    }
}
