import Foundation

/// Whether the other ranks' processes on this machine are still alive: how a rank waiting
/// for a collective learns that a peer has died (Open MPI 4 without ULFM never fails the
/// collective; it waits until mpirun ends the job).
enum ProcessLiveness {
    /// This process's id.
    static var processID: Int32 { getpid() }

    /// Names this machine (host name and boot id), so that only ranks on the same machine
    /// check each other's process ids.
    static var machine: String {
        var name = [CChar](repeating: 0, count: 256)
        _ = gethostname(&name, name.count)
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? ""
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + " " + boot.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether process `pid` of this machine has ended: gone, or a zombie not yet reaped.
    static func hasEnded(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state == "Z" || state == "X"
    }
}
