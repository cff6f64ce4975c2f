#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import SequentTensor

/// SIGINT (Ctrl-C) and SIGTERM turned into a request to stop, while a `Trainer.fit` runs.
///
/// `watch(_:)` installs a handler for both signals (saving the actions in place), runs the
/// body, and restores the saved actions when the last overlapping `watch` ends. The handler
/// only records the signal number in an atomic (all it may safely do); the training loop
/// polls `received(since:)` between steps. A second signal while the first is pending
/// restores the default action and re-raises it, so pressing Ctrl-C twice quits at once.
///
/// A signal is process-wide: every `fit` running at that moment sees it. The state here is
/// private to this file and exists only while some `fit` watches; nothing else reads it.
///
/// The signals are blocked on the threads that compute (the caller and the OpenMP team) and
/// taken by a thread that only waits for them: a signal frame pushed onto a thread running
/// oneDNN's JIT sgemm corrupts the heap (see `Parallelism.withSignalsBlocked`). A program
/// that already blocks them on the calling thread (one that takes them with `sigwait`, as
/// `sequent lab` does) keeps them: `watch` then installs nothing and never reports a signal.
enum StopSignals {
    /// The signals that ask a run to stop.
    static let watched: [Int32] = [SIGINT, SIGTERM]

    /// How many signals arrived since the handlers were installed (their count, so that
    /// each watcher can compare with the count it started from).
    private static let count = Atomic<Int>(0)
    /// The number of the last signal received, 0 for none.
    private static let lastSignal = Atomic<Int32>(0)

    /// The actions the handlers replaced, and how many `watch` calls are running.
    private struct Installation {
        var depth = 0
        var previous: [Int32: sigaction] = [:]
    }

    private static let installation = Mutex(Installation())

    /// Runs `body` with the handlers installed; `body` gets a function telling whether a
    /// stop signal arrived since `body` started, and which.
    static func watch<R>(_ body: (_ received: () -> Int32?) throws -> R) rethrows -> R {
        // Blocked while no watch runs: the program takes the signals itself. (Inside a
        // running watch they are blocked by that watch, and a nested one still reports them.)
        let watching = installation.withLock { $0.depth > 0 }
        guard watching || !blockedOnCallingThread() else { return try body { nil } }
        let start = install()
        defer { uninstall() }
        return try Parallelism.withSignalsBlocked(watched) {
            try body {
                count.load(ordering: .acquiring) > start ? lastSignal.load(ordering: .relaxed) : nil
            }
        }
    }

    /// How many signals the handler has taken so far (tests wait on it).
    static var receivedCount: Int { count.load(ordering: .acquiring) }

    /// Whether the calling thread blocks one of the watched signals.
    private static func blockedOnCallingThread() -> Bool {
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        return watched.contains { sigismember(&mask, $0) == 1 }
    }

    /// The thread that takes the signals while the computing threads block them: it waits
    /// in `pause()` for ever, the handler running on it. Started on the first `watch`.
    private static let receiver: Void = {
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { _ in
            var signals = sigset_t()
            sigemptyset(&signals)
            for signal in StopSignals.watched { sigaddset(&signals, signal) }
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            while true { pause() }
        }, nil)
        if started == 0 { pthread_detach(thread) }
    }()

    /// Installs the handlers if no watch is running; returns the signal count now.
    private static func install() -> Int {
        installation.withLock { state in
            if state.depth == 0 {
                _ = receiver
                lastSignal.store(0, ordering: .relaxed)
                for signal in watched {
                    var action = sigaction()
                    #if canImport(Glibc)
                    action.__sigaction_handler.sa_handler = stopSignalHandler
                    #else
                    action.__sigaction_u.__sa_handler = stopSignalHandler
                    #endif
                    sigemptyset(&action.sa_mask)
                    action.sa_flags = SA_RESTART
                    var previous = sigaction()
                    sigaction(signal, &action, &previous)
                    state.previous[signal] = previous
                }
            }
            state.depth += 1
            return count.load(ordering: .acquiring)
        }
    }

    /// Restores the saved actions when the last watch ends.
    private static func uninstall() {
        installation.withLock { state in
            state.depth -= 1
            guard state.depth == 0 else { return }
            for (signal, var previous) in state.previous {
                sigaction(signal, &previous, nil)
            }
            state.previous = [:]
        }
    }

    /// Called by the handler: counts the signal, or on a second one ends the process as the
    /// signal's default action would.
    fileprivate static func record(_ number: Int32) {
        if lastSignal.exchange(number, ordering: .relaxed) != 0 {
            signal(number, SIG_DFL)
            raise(number)
            return
        }
        count.add(1, ordering: .releasing)
    }
}

/// The C signal handler: only atomics, which are async-signal-safe.
private func stopSignalHandler(_ signal: Int32) {
    StopSignals.record(signal)
}
