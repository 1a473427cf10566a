import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts the ledger's own threads under a name the operating system shows (`top -H`, `perf`,
/// `/proc/<pid>/task/*/comm`), so an operator can tell the writer from the flusher; Foundation's
/// `Thread.name` alone does not reach the kernel on Linux.
enum LedgerThread {
    /// Starts `body` on a new thread named `name` (at most 15 bytes reach the kernel).
    static func start(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            setCurrentName(name)
            body()
        }
        thread.name = name
        thread.start()
    }

    /// Linux: writes `/proc/thread-self/comm` (what `pthread_setname_np` does; glibc keeps that
    /// function out of Swift's view). Elsewhere a no-op.
    private static func setCurrentName(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #endif
    }
}
