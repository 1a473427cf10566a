import Foundation
import Testing
@testable import Policy

/// The volatile hold store (`<data>/holds`): thrown away after a reboot, ids never reused, format-1
/// ledgers migrated, and the balance-lowering writes that must take its lock.
@Suite struct LedgerHoldStoreTests {
    /// A reboot (another boot id) discards every hold — no process can still own one — and the next
    /// store issues ids above every id issued before, so charges in the log never name one hold twice.
    @Test func aRebootDiscardsHoldsAndIdsNeverRepeat() throws {
        let directory = TemporaryDirectory("reboot")
        let user: UserAccount
        let charged: HoldID
        do {
            let ledger = try openLedger(directory)
            user = try ledger.createUser(email: "reboot@example.com", hasher: cheapHasher)
            charged = try ledger.hold(userId: user.id, amount: 10, requestId: "a").holdId
            _ = try ledger.charge(holdId: charged, operation: "vectorization")
            ledger.close()
        }
        do {
            // Leave a hold behind as a process that died in a power loss would (owned by a live-looking
            // instance, so only the reboot rule can drop it).
            let store = try HoldStore.open(dataDirectory: directory.path, maxReaders: 8)
            #expect(!store.createdFresh)
            try store.environment.write { (txn) throws(LedgerError) in
                let hold = HoldRecord(userId: user.id.rawValue, amount: 30, createdMs: 0, owner: 1, requestId: "left open", actor: "")
                try txn.putReserving(store.holds, charged.rawValue + 1, count: hold.encodedSize) { hold.encode(into: $0) }
                try store.setHeld(30, of: user.id.rawValue, in: txn)
            }
        }
        // Pretend the machine rebooted: the stored boot id no longer matches this boot.
        try "an-earlier-boot\n".write(toFile: directory.file("holds/boot-id"), atomically: true, encoding: .utf8)
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        #expect(ledger.holdStore.createdFresh)
        #expect(try ledger.balance(userId: user.id)?.held == 0)
        let next = try ledger.hold(userId: user.id, amount: 5, requestId: "after reboot")
        #expect(next.holdId.rawValue > charged.rawValue + LedgerBatch.holdIdReservation - 1, "hold ids restart above the reserved range")
        _ = try ledger.charge(holdId: next.holdId, operation: "vectorization")
        // An id from before the reboot is settled (or lost with the reboot), never unknown or chargeable.
        let old = #expect(throws: LedgerError.self) { try ledger.charge(holdId: charged, operation: "vectorization") }
        #expect(old?.code == .holdAlreadySettled)
        #expect(try ledger.balance(userId: user.id)?.balance == 185)
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }

    /// Reopening in the same boot keeps the store and its id counter (no new reservation).
    @Test func theSameBootKeepsTheStore() throws {
        let directory = TemporaryDirectory("sameboot")
        let user: UserAccount
        let first: HoldID
        do {
            let ledger = try openLedger(directory)
            user = try ledger.createUser(email: "keep@example.com", hasher: cheapHasher)
            first = try ledger.hold(userId: user.id, amount: 70, requestId: "open").holdId
            ledger.close()
        }
        #expect(try String(contentsOfFile: directory.file("holds/boot-id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                == HoldStore.bootIdentifier())
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        #expect(!ledger.holdStore.createdFresh)
        #expect(try ledger.hold(userId: user.id, amount: 1, requestId: "next").holdId.rawValue == first.rawValue + 1)
    }

    /// If `boot-id` goes missing while a process uses the store, another process refuses to open rather
    /// than discard the live holds (two stores would let two processes spend the same tokens).
    @Test func aStaleLookingStoreInUseIsNeverDiscarded() throws {
        let directory = TemporaryDirectory("inuse")
        let ledger = try Ledger.open(directory: directory.path, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "inuse@example.com", hasher: cheapHasher)
        _ = try ledger.hold(userId: user.id, amount: 70, requestId: "in flight")
        try FileManager.default.removeItem(atPath: directory.file("holds/boot-id"))
        let other = try runEdgeproxy(["ledger", "verify"], dataDir: directory.path)
        #expect(other.status != 0)
        #expect(other.stderr.contains("refusing to discard its holds"), "\(other.stderr)")
        #expect(try ledger.balance(userId: user.id)?.held == 70)
    }

    /// A ledger written by format 1 (holds in the durable environment, held in the balance record) is
    /// migrated on open: its holds are released, held is zeroed, and the result verifies.
    @Test func aFormat1LedgerIsMigratedOnOpen() throws {
        let directory = TemporaryDirectory("format1")
        let user: UserAccount
        do {
            let ledger = try openLedger(directory)
            user = try ledger.createUser(email: "old@example.com", hasher: cheapHasher)
            // Rewrite it as format 1 would have left it with one open hold of 25 tokens.
            try ledger.environment.write { (txn) throws(LedgerError) in
                _ = try withUnsafeBytes(of: UInt32(1).littleEndian) { (bytes) throws(LedgerError) in
                    try txn.put(ledger.schema.meta, MetaKey.format, bytes)
                }
                let hold = HoldRecord(userId: user.id.rawValue, amount: 25, createdMs: 0, owner: 999, requestId: "old", actor: "")
                try txn.putReserving(ledger.schema.holds, UInt64(7), count: hold.encodedSize) { hold.encode(into: $0) }
                guard var record = try txn.get(ledger.schema.balances, user.id.rawValue, { (bytes) throws(LedgerError) in try BalanceRecord(bytes) }) else {
                    throw LedgerError(code: .unknownUser, operation: "test", message: "no balance")
                }
                record.held = 25
                try txn.putReserving(ledger.schema.balances, user.id.rawValue, count: BalanceRecord.size) { record.encode(into: $0) }
            }
            ledger.close()
        }
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.balance == 200 && balance.held == 0)
        let format = try ledger.environment.read { (txn) throws(LedgerError) in
            try txn.get(ledger.schema.meta, MetaKey.format) { $0.uint32(at: 0) }
        }
        #expect(format == LedgerSchema.formatVersion)
        #expect(try ledger.environment.read { (txn) throws(LedgerError) in try txn.contains(ledger.schema.holds, UInt64(7)) } == false)
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }

    /// Lowering a balance below what is held is refused even while holds race in: a negative adjustment
    /// and the portal's direct spend decide under the hold store's lock.
    @Test func balanceLoweringWritesSeeEveryHold() throws {
        let directory = TemporaryDirectory("lowering")
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "lower@example.com", hasher: cheapHasher)
        _ = try ledger.hold(userId: user.id, amount: 150, requestId: "big")
        let adjust = #expect(throws: LedgerError.self) {
            try ledger.adjust(userId: user.id, delta: -60, reason: "too much", actor: "admin")
        }
        #expect(adjust?.code == .invalidAmount)
        let spent = BlockingBox<Result<IdempotentOutcome<SpendReceipt>, LedgerError>>()
        ledger.spend(userId: user.id, operation: "vectorization", amount: 60, requestId: "s", actor: "portal", idempotency: nil) { spent.set($0) }
        guard case .failure(let error) = spent.wait() else {
            Issue.record("a spend beyond balance − held succeeded")
            return
        }
        #expect(error.code == .insufficientTokens && error.insufficient?.available == 50)
        #expect(try ledger.balance(userId: user.id)?.balance == 200)

        // Holds and balance-lowering writes racing: the end state never has available < 0.
        let done = DispatchGroup()
        for index in 0..<40 {
            done.enter()
            if index % 2 == 0 {
                ledger.hold(userId: user.id, amount: 3, requestId: "h\(index)") { _ in done.leave() }
            } else {
                ledger.spend(userId: user.id, operation: "vectorization", amount: 2, requestId: "s\(index)", actor: "portal", idempotency: nil) { _ in done.leave() }
            }
        }
        done.wait()
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.available >= 0 && balance.held <= balance.balance, "\(balance)")
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }
}

/// A one-shot value a test thread waits for.
///
/// `@unchecked Sendable`: `value` is only touched with `condition` locked.
final class BlockingBox<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value?

    func set(_ newValue: Value) {
        condition.lock()
        value = newValue
        condition.signal()
        condition.unlock()
    }

    func wait() -> Value {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
