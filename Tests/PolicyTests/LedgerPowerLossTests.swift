import Foundation
import Testing
@testable import Policy

/// Durability without an fsync per commit: charges are durable once journaled, and after a power loss
/// (simulated: the machine "rebooted" and the data file's meta pages point at pages that never reached
/// the disk) the file reopens at the last checkpoint and the journal brings back every charge a caller
/// was told about — once, even across repeated recoveries.
@Suite struct LedgerPowerLossTests {
    /// No checkpoints on a timer during a test: charges after the grant live in the journal until the
    /// flusher asks for a checkpoint (every quarter of its 64-block starting ring).
    let options = LedgerOptions(lazySyncInterval: 3600)

    /// A user granted 1,000 tokens (on top of the free plan's), then `charges` acknowledged 5-token
    /// charges, then a crash. Returns the user and the balance before the charges.
    private func chargeThenCrash(_ directory: TemporaryDirectory, charges: Int) throws -> (UserAccount, Int64) {
        let ledger = try openLedger(directory, options: options)
        let user = try ledger.createUser(email: "power@example.com", hasher: cheapHasher)
        let granted = try ledger.grant(userId: user.id, amount: 1_000, reason: "test", actor: "admin").balanceAfter
        for index in 0..<charges {
            let hold = try ledger.hold(userId: user.id, amount: 5, requestId: "req-\(index)", actor: "key:1")
            _ = try ledger.charge(holdId: hold.holdId, operation: "raster_generation")
        }
        ledger.closeAsIfKilled()
        return (user, granted)
    }

    @Test func everyJournaledChargeSurvivesAPowerLossOnce() throws {
        let directory = TemporaryDirectory("power")
        let (user, granted) = try chargeThenCrash(directory, charges: 40)
        try simulatePowerLoss(dataDirectory: directory.path)
        do {
            let ledger = try openLedger(directory, options: options)
            // Checkpoints taken along the way cover the first charges; the journal brings back the rest.
            #expect(ledger.chargesReplayedAtOpen > 0 && ledger.chargesReplayedAtOpen <= 40)
            let balance = try #require(try ledger.balance(userId: user.id))
            #expect(balance.balance == granted - 40 * 5 && balance.held == 0, "every charge a caller was told of is back")
            let history = try ledger.history(userId: user.id, limit: 100)
            #expect(history.filter { $0.kind == .charge }.count == 40)
            #expect(Set(history.filter { $0.kind == .charge }.map(\.requestId)) == Set((0..<40).map { "req-\($0)" }))
            let report = try ledger.verify()
            #expect(report.isConsistent, "\(report.violations)")
            // The ledger works on: a new charge lands on top.
            _ = try ledger.charge(holdId: try ledger.hold(userId: user.id, amount: 5, requestId: "after").holdId, operation: "raster_generation")
            ledger.closeAsIfKilled()
        }
        // A second power loss right after: the old journal entries belong to the old epoch and are never
        // applied again; the charge made after the recovery is.
        try simulatePowerLoss(dataDirectory: directory.path)
        let ledger = try openLedger(directory, options: options)
        defer { ledger.close() }
        #expect(ledger.chargesReplayedAtOpen == 1)
        #expect(try ledger.balance(userId: user.id)?.balance == granted - 41 * 5)
        #expect(try ledger.verify().isConsistent)
    }

    /// A process crash without a power loss leaves everything in the page cache: nothing is restored
    /// or replayed, and nothing is charged twice.
    @Test func aCrashWithoutPowerLossReplaysNothing() throws {
        let directory = TemporaryDirectory("crash")
        let (user, granted) = try chargeThenCrash(directory, charges: 12)
        let ledger = try openLedger(directory, options: options)
        defer { ledger.close() }
        #expect(ledger.chargesReplayedAtOpen == 0)
        #expect(try ledger.balance(userId: user.id)?.balance == granted - 12 * 5)
        #expect(ChargeJournal.survey(in: directory.path).count == 1, "the dead process's journal is deleted, this one's remains")
        #expect(try ledger.verify().isConsistent)
    }

    /// A journal entry torn by the power loss (its last write never completed, so nobody was told) is
    /// skipped; the entries before it are replayed.
    @Test func aTornJournalEntryIsSkipped() throws {
        let directory = TemporaryDirectory("torn")
        let (user, granted) = try chargeThenCrash(directory, charges: 6)
        let journal = try #require(ChargeJournal.survey(in: directory.path).first)
        let epoch = try #require(journal.checkpoint).epoch
        let entries = ChargeJournal.entries(in: directory.path, epoch: epoch, after: 0)
        let last = try #require(entries.last)
        // Flip a payload byte of the block holding the newest entry.
        let data = try #require(FileManager.default.contents(atPath: journal.path))
        let blockSize = ChargeJournal.blockSize
        let block = try #require(Array(stride(from: blockSize, to: data.count, by: blockSize)).last { offset in
            data.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + blockSize)]).uint64(at: 16) == last.transactionId }
        })
        let handle = try #require(FileHandle(forUpdatingAtPath: journal.path))
        try handle.seek(toOffset: UInt64(block + ChargeJournal.headerSize + 3))
        try handle.write(contentsOf: [0xEE])
        try handle.close()
        try simulatePowerLoss(dataDirectory: directory.path)
        let ledger = try openLedger(directory, options: options)
        defer { ledger.close() }
        #expect(ledger.chargesReplayedAtOpen == 5, "the torn entry is not replayed")
        #expect(try ledger.balance(userId: user.id)?.balance == granted - 5 * 5)
        #expect(try ledger.verify().isConsistent)
    }

    /// A real process, killed with SIGKILL while 16 threads churn holds and charges, then a power loss:
    /// every charge the child printed as completed is in the recovered ledger, none twice, the dead
    /// process's open holds are gone with the rebooted hold store, and `verify` accepts the result.
    @Test func aKilledProcesssToldChargesSurviveAPowerLoss() throws {
        let directory = TemporaryDirectory("kill-power")
        let dataDir = directory.file("data")
        do {
            let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
            _ = try ledger.createUser(email: "victim@example.com", plan: "professional", hasher: cheapHasher)
            ledger.close()
        }
        let (child, collected) = try startChurningChild(email: "victim@example.com", threads: 16, dataDir: dataDir)
        Thread.sleep(forTimeInterval: 0.3)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        let told = Set(collected.linesToEnd().compactMap { $0.hasPrefix("charged ") ? String($0.dropFirst(8)) : nil })
        #expect(told.count > 100)

        try simulatePowerLoss(dataDirectory: dataDir)
        try "a-boot-before-the-power-loss\n".write(toFile: (dataDir as NSString).appendingPathComponent("holds/boot-id"), atomically: true, encoding: .utf8)
        let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        #expect(ledger.holdStore.createdFresh)
        let user = try #require(try ledger.user(email: "victim@example.com"))
        let charges = try ledger.history(userId: user.id, limit: 1_000_000).filter { $0.kind == .charge }
        let recovered = charges.map(\.requestId)
        #expect(Set(recovered).count == recovered.count, "no charge applied twice")
        #expect(told.isSubset(of: Set(recovered)), "\(told.subtracting(recovered).count) told charges lost")
        #expect(recovered.count - told.count <= 16, "only charges in flight at the kill may be recorded untold")
        let balance = try #require(try ledger.balance(userId: user.id))
        #expect(balance.held == 0 && balance.balance == 10_000 - Int64(charges.count))
        let report = try ledger.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }

    /// Two processes charge the same user at once — this one and a child that joins its journal epoch —
    /// then the child is killed, this one "crashes", and the power fails: the charges both were told of
    /// come back from both journals, in commit order, none twice.
    @Test func twoProcessesJournalsAreReplayedTogether() throws {
        let directory = TemporaryDirectory("two-power")
        let dataDir = directory.file("data")
        var told = Set<String>()
        let userId: UserID
        do {
            let ledger = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans, options: options)
            let user = try ledger.createUser(email: "shared@example.com", plan: "professional", hasher: cheapHasher)
            userId = user.id
            for index in 0..<20 {
                _ = try ledger.charge(holdId: try ledger.hold(userId: user.id, amount: 1, requestId: "parent-\(index)").holdId, operation: "raster_generation")
                told.insert("parent-\(index)")
            }
            let (child, collected) = try startChurningChild(email: "shared@example.com", threads: 8, dataDir: dataDir)
            for index in 20..<60 {
                _ = try ledger.charge(holdId: try ledger.hold(userId: user.id, amount: 1, requestId: "parent-\(index)").holdId, operation: "raster_generation")
                told.insert("parent-\(index)")
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            told.formUnion(collected.linesToEnd().compactMap { $0.hasPrefix("charged ") ? String($0.dropFirst(8)) : nil })
            let epochs = Set(ChargeJournal.survey(in: dataDir).compactMap { $0.checkpoint?.epoch })
            #expect(epochs.count == 1, "the child joined the running process's journal epoch")
            ledger.closeAsIfKilled()
        }

        try simulatePowerLoss(dataDirectory: dataDir)
        let reopened = try Ledger.open(directory: dataDir, settings: .standard, plans: testPlans, options: options)
        defer { reopened.close() }
        let charges = try reopened.history(userId: userId, limit: 1_000_000).filter { $0.kind == .charge }
        let recovered = charges.map(\.requestId)
        #expect(Set(recovered).count == recovered.count, "no charge applied twice")
        #expect(told.isSubset(of: Set(recovered)), "\(told.subtracting(recovered).sorted().prefix(5)) told charges lost")
        #expect(try reopened.balance(userId: userId)?.balance == 10_000 - Int64(charges.count))
        let report = try reopened.verify()
        #expect(report.isConsistent, "\(report.violations)")
    }
}

/// Makes a data directory look as it would after a power loss: the machine rebooted (every journal's
/// checkpoint names another boot) and the newest meta page of the data file names a snapshot whose root
/// page never reached the disk. (In-process tests leave the hold store alone: there the crashed
/// instance still looks alive, so a rebooted store would refuse to open.)
func simulatePowerLoss(dataDirectory: String) throws {
    let journals = ChargeJournal.survey(in: dataDirectory)
    #expect(!journals.isEmpty && journals.allSatisfy { !$0.live })
    for journal in journals {
        guard var record = journal.checkpoint else { continue }
        record.bootId = "a-boot-before-the-power-loss"
        record.sequence += 1
        let handle = try #require(FileHandle(forUpdatingAtPath: journal.path))
        try handle.seek(toOffset: UInt64(CheckpointSlots.offset(of: record)))
        try handle.write(contentsOf: CheckpointSlots.encode(record))
        try handle.close()
    }
    let dataPath = (dataDirectory as NSString).appendingPathComponent("data.mdb")
    let newest = try #require(LMDBMetaPage.read(dataPath: dataPath).compactMap { $0 }.max { $0.transactionId < $1.transactionId })
    let handle = try #require(FileHandle(forUpdatingAtPath: dataPath))
    for slot in 0..<2 {
        var page = newest.placed(inSlot: UInt64(slot))
        page.withUnsafeMutableBytes { raw in
            raw.setUInt64(newest.transactionId + 5, at: 144)  // a later snapshot ...
            raw.setUInt64(0x7FFF_FFFF, at: 128)  // ... whose main tree's root never reached the disk
        }
        try handle.seek(toOffset: UInt64(slot * newest.pageSize))
        try handle.write(contentsOf: page)
    }
    try handle.close()
}

/// Starts `edgeproxy ledger stress --churn --print-charges` for `email` on `dataDir` and waits until it
/// is busy: the child prints every charge it was told of, for the caller to collect after killing it.
func startChurningChild(email: String, threads: Int, dataDir: String) throws -> (Process, OutputCollector) {
    let child = try makeEdgeproxy(["ledger", "stress", "--email", email, "--threads", "\(threads)", "--churn", "--print-charges"], dataDir: dataDir)
    let output = Pipe()
    child.standardOutput = output
    let collected = OutputCollector(output.fileHandleForReading)
    try child.run()
    #expect(collected.waitForLine("ready", timeout: 30))
    return (child, collected)
}

/// Reads a child's standard output on its own thread (so the child never blocks on a full pipe).
///
/// `@unchecked Sendable`: `text` and `finished` are only touched with `condition` locked.
final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var text = ""
    private var finished = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty { finished = true } else { text += String(decoding: chunk, as: UTF8.self) }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
    }

    /// Waits until a whole line equal to `line` arrived.
    func waitForLine(_ line: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !text.split(separator: "\n").contains(Substring(line)) {
            if finished || !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Every complete line, once the output ended.
    func linesToEnd() -> [String] {
        condition.lock()
        defer { condition.unlock() }
        while !finished { condition.wait() }
        return text.split(separator: "\n").map(String.init)
    }
}
