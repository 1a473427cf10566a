import Foundation
import Testing
@testable import Policy

/// Holds, charges and releases against a real LMDB ledger in a temporary directory.
@Suite struct LedgerHoldTests {
    @Test func holdChargeReleaseMoveTheBalance() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "Ada@Example.com", hasher: cheapHasher)
        #expect(user.email == "ada@example.com")
        #expect(try ledger.balance(userId: user.id)?.balance == 200)

        let first = try ledger.hold(userId: user.id, amount: 80, requestId: "r1", actor: "key:test")
        #expect(first.available == 120)
        #expect(try ledger.balance(userId: user.id)?.held == 80)
        let charged = try ledger.charge(holdId: first.holdId, operation: "generative_upscale")
        #expect(charged.charged == 80 && charged.balance == 120 && charged.available == 120)

        let second = try ledger.hold(userId: user.id, amount: 8, requestId: "r2")
        let partial = try ledger.charge(holdId: second.holdId, operation: "vector_generation", amount: 4)
        #expect(partial.balance == 116 && partial.available == 116)

        let third = try ledger.hold(userId: user.id, amount: 50, requestId: "r3")
        let released = try ledger.release(holdId: third.holdId)
        #expect(released.released == 50 && released.available == 116)

        let history = try ledger.history(userId: user.id, limit: 10)
        #expect(history.map(\.kind) == [.charge, .charge, .renewal])
        #expect(history[0].requestId == "r2" && history[0].delta == -4 && history[0].balanceAfter == 116)
        #expect(history[1].actor == "key:test" && history[1].holdId == first.holdId)
        #expect(try ledger.history(userId: user.id, limit: 10, before: history[0].sequence).count == 2)
        #expect(try ledger.verify().isConsistent)
    }

    /// Durable mode flushes once per commit and tells nobody of a charge before it is durable: a
    /// hold never touches the durable environment (one commit to the volatile hold store), a charge
    /// completes only after a flush (the next commit's, or an explicit one when nothing else is queued).
    @Test func chargesCompleteOnlyOnceFlushedHoldsNeverWaitForTheDisk() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "flush@example.com", hasher: cheapHasher)
        let beforeHold = ledger.writerStatistics
        let holdCommitsBefore = ledger.holdWriterStatistics.commits
        let hold = try ledger.hold(userId: user.id, amount: 8, requestId: "r1")
        let afterHold = ledger.writerStatistics
        #expect(afterHold == beforeHold, "a hold makes no durable commit and no flush")
        #expect(ledger.holdWriterStatistics.commits == holdCommitsBefore + 1)
        _ = try ledger.charge(holdId: hold.holdId, operation: "vector_generation")
        let afterCharge = ledger.writerStatistics
        #expect(afterCharge.commits == afterHold.commits + 1)
        #expect(afterCharge.syncs == afterHold.syncs + 1, "an idle writer flushes before telling a charge")

        let lazy = TemporaryDirectory()
        let fast = try openLedger(lazy, durable: false)
        defer { fast.close() }
        let other = try fast.createUser(email: "lazy@example.com", hasher: cheapHasher)
        let start = fast.writerStatistics
        _ = try fast.charge(holdId: try fast.hold(userId: other.id, amount: 4, requestId: "r").holdId, operation: "raster_generation")
        #expect(fast.writerStatistics.syncs == start.syncs, "durable: false never waits for a flush")
    }

    @Test func insufficientCarriesRequiredAndAvailable() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "poor@example.com", hasher: cheapHasher)
        _ = try ledger.hold(userId: user.id, amount: 150, requestId: "a")
        let error = #expect(throws: LedgerError.self) { try ledger.hold(userId: user.id, amount: 80, requestId: "b") }
        #expect(error?.code == .insufficientTokens)
        #expect(error?.insufficient == .init(required: 80, available: 50))
        #expect(throws: LedgerError.self) { try ledger.hold(userId: user.id, amount: 0, requestId: "zero") }
        #expect(throws: LedgerError.self) { try ledger.hold(userId: UserID(rawValue: 999), amount: 1, requestId: "ghost") }
    }

    @Test func aHoldSettlesExactlyOnce() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "once@example.com", hasher: cheapHasher)
        let charged = try ledger.hold(userId: user.id, amount: 10, requestId: "c")
        _ = try ledger.charge(holdId: charged.holdId, operation: "vectorization")
        let released = try ledger.hold(userId: user.id, amount: 10, requestId: "r")
        _ = try ledger.release(holdId: released.holdId)

        for (holdId, charge) in [(charged.holdId, true), (charged.holdId, false), (released.holdId, true), (released.holdId, false)] {
            do {
                if charge {
                    _ = try ledger.charge(holdId: holdId, operation: "vectorization")
                } else {
                    _ = try ledger.release(holdId: holdId)
                }
                Issue.record("a settled hold was settled again")
            } catch {
                #expect(error.code == .holdAlreadySettled)
            }
        }
        do {
            _ = try ledger.charge(holdId: HoldID(rawValue: 1_000_000), operation: "x")
            Issue.record("an unknown hold was charged")
        } catch {
            #expect(error.code == .unknownHold)
        }
        #expect(try ledger.balance(userId: user.id)?.balance == 190)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func sixtyFourThreadsNeverOverspend() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "race@example.com", hasher: cheapHasher)
        _ = try ledger.grant(userId: user.id, amount: 1_000 - 200, reason: "race", actor: "test")  // balance 1000

        let charged = Counter(), refused = Counter(), failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 64) { thread in
            for attempt in 0..<20 {
                do {
                    let hold = try ledger.hold(userId: user.id, amount: 3, requestId: "t\(thread)-\(attempt)")
                    // Settle half right away; keep the rest open a little to overlap with other holds.
                    if attempt % 2 == 1 { Thread.sleep(forTimeInterval: 0.0005) }
                    charged.add(try ledger.charge(holdId: hold.holdId, operation: "raster_generation").charged)
                } catch let error as LedgerError where error.code == .insufficientTokens {
                    refused.add(1)
                } catch {
                    failures.add(1)
                }
            }
        }
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(failures.value == 0)
        // 64 × 20 × 3 = 3840 tokens were asked for; exactly 333 holds of 3 fit in 1000.
        #expect(charged.value == 999)
        #expect(balance.balance == 1)
        #expect(balance.held == 0)
        #expect(refused.value == 64 * 20 - 333)
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }

    @Test func callbacksRunAfterCommitAndEachMutationStandsAlone() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let rich = try ledger.createUser(email: "rich@example.com", hasher: cheapHasher)
        let poor = try ledger.createUser(email: "poor2@example.com", plan: "free", hasher: cheapHasher)
        _ = try ledger.hold(userId: poor.id, amount: 200, requestId: "drain")

        // Queue many mutations without waiting so they share batches: good and bad mixed.
        let results = ResultLog()
        let done = DispatchGroup()
        for index in 0..<200 {
            done.enter()
            let user = index % 4 == 0 ? poor.id : rich.id
            ledger.hold(userId: user, amount: 1, requestId: "q\(index)") { result in
                results.append(index, result.map(\.holdId))
                done.leave()
            }
        }
        done.wait()
        let log = results.entries
        #expect(log.count == 200)
        for (index, result) in log {
            if index % 4 == 0 {
                #expect((try? result.get()) == nil, "hold \(index) on an empty balance succeeded")
            } else {
                #expect((try? result.get()) != nil, "hold \(index) failed: \(result)")
            }
        }
        #expect(try ledger.balance(userId: rich.id)?.held == 150)
        let stats = ledger.holdWriterStatistics
        #expect(stats.mutations >= 200 && stats.commits < stats.mutations, "no batching: \(stats)")
        #expect(try ledger.verify().isConsistent)
    }

    @Test func verifyNoticesABrokenHistory() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "chain@example.com", hasher: cheapHasher)
        for index in 0..<3 {
            let hold = try ledger.hold(userId: user.id, amount: 2, requestId: "c\(index)")
            _ = try ledger.charge(holdId: hold.holdId, operation: "x")
        }
        #expect(try ledger.verify().isConsistent)
        #expect(try ledger.history(userId: user.id, limit: 10).map(\.sequence) == [4, 3, 2, 1])
        // Remove the middle charge behind the ledger's back (transaction ids: 1 renewal, 2…4 charges).
        try ledger.environment.write { (txn) throws(LedgerError) in _ = try txn.delete(ledger.schema.transactions, UInt64(3)) }
        let report = try ledger.verify()
        #expect(!report.isConsistent)
        #expect(report.violations.contains { $0.contains("gap or reorder") }, "\(report.violations)")
        #expect(report.violations.contains { $0.contains("but transactions sum to") }, "\(report.violations)")
        let broken = #expect(throws: LedgerError.self) { try ledger.history(userId: user.id, limit: 10) }
        #expect(broken?.code == .corrupted)
    }

    /// `afterBatch` runs once per round of completions: after each committed batch, and after each
    /// flush that released results waiting to be durable (the user's creation here).
    @Test func afterBatchRunsOncePerCommittedBatch() throws {
        let directory = TemporaryDirectory()
        let batches = Counter()
        let ledger = try openLedger(directory, options: LedgerOptions(afterBatch: { batches.add(1) }))
        defer { ledger.close() }
        let user = try ledger.createUser(email: "batches@example.com", hasher: cheapHasher)
        let done = DispatchGroup()
        for _ in 0..<100 {
            done.enter()
            ledger.hold(userId: user.id, amount: 1, requestId: "") { _ in done.leave() }
        }
        done.wait()
        let deadline = Date().addingTimeInterval(5)
        func rounds() -> Int64 {
            Int64(ledger.writerStatistics.commits + ledger.writerStatistics.syncs + ledger.holdWriterStatistics.commits)
        }
        while batches.value != rounds(), Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        #expect(batches.value == rounds())
        #expect(batches.value < 102)
    }

    /// `wakeLater` queues without waking the writers: a burst waits for `wakeDeferred()` and is then
    /// applied as one batch per writer (what an event loop does once per tick).
    @Test func deferredWakesApplyABurstAsOneBatch() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "burst@example.com", hasher: cheapHasher)
        let holdCommits = ledger.holdWriterStatistics.commits
        let holds = ResultLog()
        let held = DispatchGroup()
        for index in 0..<20 {
            held.enter()
            ledger.hold(userId: user.id, amount: 2, requestId: "r\(index)", wakeLater: true) { result in
                holds.append(index, result.map(\.holdId))
                held.leave()
            }
        }
        #expect(held.wait(timeout: .now() + 0.3) == .timedOut, "nothing woke the hold writer yet")
        #expect(holds.entries.isEmpty)
        ledger.wakeDeferred()
        #expect(held.wait(timeout: .now() + 10) == .success)
        #expect(ledger.holdWriterStatistics.commits == holdCommits + 1, "one batch for the burst")

        let commits = ledger.writerStatistics.commits
        let charged = DispatchGroup()
        for (_, result) in holds.entries {
            charged.enter()
            ledger.charge(holdId: try result.get(), operation: "raster_generation", wakeLater: true) { _ in charged.leave() }
        }
        #expect(charged.wait(timeout: .now() + 0.3) == .timedOut, "nothing woke the writer yet")
        ledger.wakeDeferred()
        #expect(charged.wait(timeout: .now() + 10) == .success)
        #expect(ledger.writerStatistics.commits == commits + 1)
        #expect(try ledger.balance(userId: user.id)?.balance == 160)
        #expect(try ledger.verify().isConsistent)
    }

    /// A caller that asks for an immediate wake is never left waiting behind work another caller
    /// queued quietly (whose deferred wake might never come, e.g. from a loop that shut down).
    @Test func aWakingSubmissionIsNotHeldUpByQuietlyQueuedWork() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "mixed@example.com", hasher: cheapHasher)
        let holds = ResultLog()
        let held = DispatchGroup()
        held.enter()
        ledger.hold(userId: user.id, amount: 3, requestId: "quiet", wakeLater: true) { result in
            holds.append(0, result.map(\.holdId))
            held.leave()
        }
        held.enter()
        ledger.hold(userId: user.id, amount: 5, requestId: "prompt") { result in
            holds.append(1, result.map(\.holdId))
            held.leave()
        }
        #expect(held.wait(timeout: .now() + 10) == .success, "the prompt hold woke the writer, and the quiet one rode along")
        try #require(holds.entries.count == 2)

        let charges = DispatchGroup()
        charges.enter()
        ledger.charge(holdId: try holds.entries[0].1.get(), operation: "raster_generation", wakeLater: true) { _ in charges.leave() }
        charges.enter()
        ledger.grant(userId: user.id, amount: 10, reason: "prompt", actor: "test") { _ in charges.leave() }
        #expect(charges.wait(timeout: .now() + 10) == .success)
        #expect(try ledger.balance(userId: user.id)?.balance == 207)
    }

    @Test func oneTransactionPerMutationModeStillWorks() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory, durable: false, options: LedgerOptions(maxBatchSize: 1))
        defer { ledger.close() }
        let user = try ledger.createUser(email: "single@example.com", hasher: cheapHasher)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<5 {
                if let hold = try? ledger.hold(userId: user.id, amount: 1, requestId: "") {
                    _ = try? ledger.charge(holdId: hold.holdId, operation: "x")
                }
            }
        }
        #expect(try ledger.balance(userId: user.id)?.balance == 160)
        let stats = ledger.writerStatistics, holdStats = ledger.holdWriterStatistics
        #expect(stats.commits == stats.mutations && holdStats.commits == holdStats.mutations)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func closingReleasesThisProcesssHoldsAndRefusesLaterWork() throws {
        let directory = TemporaryDirectory()
        let user: UserAccount
        do {
            let first = try openLedger(directory)
            user = try first.createUser(email: "close@example.com", hasher: cheapHasher)
            _ = try first.hold(userId: user.id, amount: 30, requestId: "open")
            first.close()
            let late = #expect(throws: LedgerError.self) { try first.hold(userId: user.id, amount: 1, requestId: "late") }
            #expect(late?.code == .unavailable)
        }
        // Reopening in the same process waits for the first environment to be released.
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        #expect(try ledger.balance(userId: user.id)?.held == 0)
        #expect(try ledger.verify().isConsistent)
    }
}

/// A thread-safe running total.
///
/// `@unchecked Sendable`: `total` is only touched with `lock` held.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total: Int64 = 0

    func add(_ amount: Int64) {
        lock.lock()
        total += amount
        lock.unlock()
    }

    var value: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}

/// Results of callbacks, by request index.
///
/// `@unchecked Sendable`: `log` is only touched with `lock` held.
final class ResultLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [(Int, Result<HoldID, LedgerError>)] = []

    func append(_ index: Int, _ result: Result<HoldID, LedgerError>) {
        lock.lock()
        log.append((index, result))
        lock.unlock()
    }

    var entries: [(Int, Result<HoldID, LedgerError>)] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }
}
