import Foundation
import Synchronization
import Testing
@testable import Policy

/// The ledger's timing hooks (`LedgerOptions.onCommit`, `onJournalWrite`, `onCheckpoint`), which feed the
/// edge's `/metrics`: each fires for the work it names, before the results that waited for that work are
/// reported, on a real durable LMDB ledger.
@Suite struct LedgerObserverTests {
    /// What the hooks saw: calls and summed nanoseconds per hook.
    final class Seen: Sendable {
        let commits = Mutex<(calls: Int, mutations: Int)>((0, 0))
        let journalWrites = Mutex<[Int64]>([])
        let checkpoints = Mutex<[Int64]>([])

        var options: LedgerOptions {
            LedgerOptions(onCommit: { mutations, _ in self.commits.withLock { $0.calls += 1; $0.mutations += mutations } },
                          onJournalWrite: { nanoseconds in self.journalWrites.withLock { $0.append(nanoseconds) } },
                          onCheckpoint: { nanoseconds in self.checkpoints.withLock { $0.append(nanoseconds) } })
        }
    }

    @Test func aChargeIsReportedAfterItsJournalWriteIsTimedAndAGrantAfterItsCheckpoint() throws {
        let directory = TemporaryDirectory()
        let seen = Seen()
        let ledger = try openLedger(directory, options: seen.options)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "observed@example.com", hasher: cheapHasher)
        // Account writes are jobs: durable only through a checkpoint, which is timed before they complete.
        let checkpointsAfterCreate = seen.checkpoints.withLock { $0.count }
        #expect(checkpointsAfterCreate >= 1)
        #expect(seen.journalWrites.withLock { $0.isEmpty })

        let hold = try ledger.hold(userId: user.id, amount: 8, requestId: "r1")
        _ = try ledger.charge(holdId: hold.holdId, operation: "vector_generation")
        // The charge was reported only once durable: its journal write was timed by then.
        let writes = seen.journalWrites.withLock { $0 }
        #expect(writes.count == 1)
        #expect(writes.allSatisfy { $0 > 0 && $0 < 60_000_000_000 })

        _ = try ledger.grant(userId: user.id, amount: 100, reason: "observed", actor: "test")
        #expect(seen.checkpoints.withLock { $0.count } > checkpointsAfterCreate)
        #expect(seen.checkpoints.withLock { $0 }.allSatisfy { $0 > 0 })
        // Commits: the account, the charge and the grant at least (holds go to the hold store, not here).
        let commits = seen.commits.withLock { $0 }
        #expect(commits.calls >= 3 && commits.mutations >= commits.calls)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func withoutDurabilityNoJournalIsWritten() throws {
        let directory = TemporaryDirectory()
        let seen = Seen()
        let ledger = try openLedger(directory, durable: false, options: seen.options)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "fast@example.com", hasher: cheapHasher)
        for index in 0..<5 {
            let hold = try ledger.hold(userId: user.id, amount: 4, requestId: "r\(index)")
            _ = try ledger.charge(holdId: hold.holdId, operation: "raster_generation")
        }
        #expect(seen.journalWrites.withLock { $0.isEmpty })
        #expect(seen.commits.withLock { $0.calls } >= 6)
    }
}
