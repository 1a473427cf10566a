import Logging
import NIOPosix
import Policy
import ServiceLifecycle

/// Deletes expired sessions and stale idempotency records every `interval` while the edge runs,
/// on NIO's blocking thread pool (never on an event loop); stops at graceful shutdown.
struct LedgerMaintenanceService: Service {
    let ledger: Ledger
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                do {
                    let summary = try await NIOThreadPool.singleton.runIfActive { [ledger] in try ledger.purgeExpired() }
                    if summary.sessions + summary.idempotencyRecords > 0 {
                        logger.info("ledger maintenance", metadata: [
                            "expired_sessions_deleted": "\(summary.sessions)",
                            "idempotency_records_deleted": "\(summary.idempotencyRecords)"])
                    }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.error("ledger maintenance failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
