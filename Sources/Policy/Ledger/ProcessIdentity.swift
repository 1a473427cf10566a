import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who a process is, in a form that survives pid reuse: pid, the process's start time (clock ticks after
/// boot, from `/proc/<pid>/stat`) and the kernel's boot id. Used to tell whether the owner of a hold is
/// still alive: holds of a dead owner are released, holds of a live one never are.
///
/// Processes sharing a data directory must share a pid namespace (LMDB's locks already require one host).
enum ProcessIdentity {
    /// This process's record.
    static func current(nowMs: Int64) -> ProcessRecord {
        let pid = getpid()
        return ProcessRecord(pid: pid, startTicks: startTicks(of: pid) ?? 0, openedMs: nowMs, bootId: bootId)
    }

    /// The running kernel's boot id (empty where unknown).
    static let bootId: String = {
        #if os(Linux)
        return (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        #else
        return ""
        #endif
    }()

    /// Whether the process described by `record` still runs.
    static func isAlive(_ record: ProcessRecord) -> Bool {
        guard record.bootId == bootId else { return false }
        guard record.pid > 0, kill(record.pid, 0) == 0 || errno == EPERM else { return false }
        #if os(Linux)
        guard let ticks = startTicks(of: record.pid) else { return false }
        return ticks == record.startTicks
        #else
        return true
        #endif
    }

    /// Field 22 (`starttime`) of `/proc/<pid>/stat`, or nil when there is no such process.
    static func startTicks(of pid: Int32) -> UInt64? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)" come fields 3…; starttime is field 22, i.e. the 20th after the parenthesis.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 20 else { return nil }
        return UInt64(fields[19])
        #else
        return 0
        #endif
    }
}
