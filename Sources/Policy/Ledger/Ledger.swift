public import Foundation

/// The token ledger on an embedded LMDB environment: accounts, sessions, API keys, balances, holds and
/// transactions. One `Ledger` per process and data directory; several processes may share a directory.
///
/// Threading:
/// - **Reads** on the hot path go through a `LedgerReader` (one per event loop, not `Sendable`).
/// - **Holds and releases** go to the hold writer, which group-commits them to the volatile
///   `HoldStore` (no fsync: a crash releases holds anyway); completions run on its thread.
/// - **Every other write** (charges, grants, accounts, sessions, keys) goes to the group-commit writer
///   of the durable environment; completions run once the change is durable — a charge's on the flusher
///   thread after its journal write, any other's on the checkpoint thread (see docs/ledger.md, "Durability").
/// - The callback APIs never block: hop to your event loop from a completion and do nothing slow inside.
/// - The remaining APIs block the calling thread until the writer has committed (or read directly).
///   They are for the CLI and off-loop portal handlers: never call them on an event loop, and never from
///   a completion (on a ledger thread they fail with `unavailable` rather than deadlock).
public final class Ledger: Sendable {
    /// The data directory.
    public let directory: String
    /// The plan catalog renewals are computed with.
    public let plans: PlanCatalog
    /// Whether commits are fsynced (`ledger.durable`).
    public let durable: Bool
    /// Holds released at open because the processes that made them had died.
    public let recoveredAtOpen: RecoveredHolds
    /// Charges applied again at open from the journals, after a power loss undid their commits.
    public let chargesReplayedAtOpen: Int

    let environment: LMDBEnvironment
    let schema: LedgerSchema
    let clock: LedgerClock
    let options: LedgerOptions
    let instance: UInt64
    let writer: LedgerWriter
    let holdStore: HoldStore
    let holdWriter: HoldWriter
    let openHolds: OpenHoldTable

    private init(directory: String, plans: PlanCatalog, durable: Bool, recovered: RecoveredHolds, replayed: Int, environment: LMDBEnvironment,
                 schema: LedgerSchema, clock: LedgerClock, options: LedgerOptions, instance: UInt64, writer: LedgerWriter,
                 holdStore: HoldStore, holdWriter: HoldWriter, openHolds: OpenHoldTable) {
        self.holdStore = holdStore
        self.holdWriter = holdWriter
        self.openHolds = openHolds
        self.directory = directory
        self.plans = plans
        self.durable = durable
        self.recoveredAtOpen = recovered
        self.chargesReplayedAtOpen = replayed
        self.environment = environment
        self.schema = schema
        self.clock = clock
        self.options = options
        self.instance = instance
        self.writer = writer
    }

    /// Opens (creating if needed) the ledger in `directory`, registers this process, releases the holds
    /// of processes that died, and starts the writer thread.
    ///
    /// - Parameters:
    ///   - directory: The data directory (created with mode 0700 when missing).
    ///   - settings: Map size and durability from the policy's `ledger` section. Durable (the default): a
    ///     result is reported once its charge is in the journal or a checkpoint covers its commit. With
    ///     `durable: false` results are reported at commit and a checkpoint follows every
    ///     `options.lazySyncInterval` seconds: a process crash loses nothing, a power loss or kernel crash
    ///     loses the commits since the last checkpoint (the file reopens at it, intact).
    ///   - plans: The plan catalog.
    ///   - clock: The time source (tests inject one).
    ///   - options: Batch size and session tuning.
    @available(*, noasync, message: "opening blocks on disk I/O and LMDB's write lock")
    public static func open(directory: String, settings: LedgerSettings, plans: PlanCatalog, clock: LedgerClock = .system,
                            options: LedgerOptions = .standard) throws(LedgerError) -> Ledger {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError(code: .io, operation: "create data directory", message: "cannot create \(directory): \(error.localizedDescription)")
        }
        // Opening is serialised across processes: recovery, the journal epoch, the first checkpoint and
        // the clean-up of dead processes' journals must not interleave.
        let openLock = try CheckpointLock(directory: directory)
        let bootId = HoldStore.bootIdentifier()
        let recovery = try LedgerRecovery.prepare(directory: directory, bootId: bootId)
        // Commits never fsync: durability comes from the journal and checkpoints (see `Checkpointer`).
        // (`MDB_WRITEMAP` measured no faster here, and without it a stray write cannot reach the file.)
        let flags: LMDBEnvironmentFlags = [.noTLS, .noReadAhead, .noSync]
        let environment = try LMDBEnvironment(directory: directory, mapSize: settings.mapSizeMiB << 20, maxReaders: UInt32(options.maxReaders),
                                              maxDatabases: LedgerSchema.databaseCount, flags: flags)
        let holdStore = try HoldStore.open(dataDirectory: directory, maxReaders: UInt32(options.maxReaders)) {
            (try? LedgerSchema.anyRegisteredProcessAlive(in: environment)) ?? true
        }
        let nowMs = clock.now().ledgerMilliseconds
        let heldView = HeldView(store: holdStore)
        let (schema, instance, recovered, replayed): (LedgerSchema, UInt64, RecoveredHolds, Int)
        do {
            (schema, instance, recovered, replayed) = try environment.write { (txn) throws(LedgerError) in
                let schema = try LedgerSchema(environment: environment, txn: txn)
                try schema.checkFormat(in: txn)
                var replayed = 0
                for entry in recovery.replay {
                    var batch = LedgerBatch(rawTransaction: txn.handle, schema: schema, plans: plans, nowMs: entry.nowMs, instance: 0, heldView: heldView)
                    for charge in try entry.charges() where try batch.replay(charge) { replayed += 1 }
                    try batch.flush()
                }
                var batch = LedgerBatch(rawTransaction: txn.handle, schema: schema, plans: plans, nowMs: nowMs, instance: 0, heldView: heldView)
                let instance = try batch.registerProcess(ProcessIdentity.current(nowMs: nowMs))
                let recovered = try batch.releaseHolds(ofDeadProcessesAnd: nil)
                try batch.seedHoldIds(in: holdStore)
                try batch.flush()
                return (schema, instance, recovered, replayed)
            }
        } catch {
            try? heldView.end(commit: false)
            throw error
        }
        try heldView.end(commit: true)
        let journal = try ChargeJournal(dataDirectory: directory, epoch: recovery.epoch, bytes: settings.durable ? options.journalBytes : 0)
        let checkpointer = Checkpointer(environment: environment, journal: journal, bootId: bootId)
        try checkpointer.checkpoint()
        // Every commit so far is durable now: dead processes' journals, and their stale reader slots
        // (which pinned their checkpoints), can go.
        ChargeJournal.removeAbandoned(in: directory, keeping: journal.path)
        _ = consume openLock
        try environment.clearStaleReaders()
        try holdStore.environment.clearStaleReaders()
        let openHolds = OpenHoldTable()
        let holdWriter = HoldWriter(store: holdStore, environment: environment, schema: schema, plans: plans, clock: clock, instance: instance,
                                    table: openHolds, maxBatchSize: options.maxBatchSize, afterBatch: options.afterBatch)
        let writer = LedgerWriter(environment: environment, schema: schema, plans: plans, clock: clock, instance: instance,
                                  maxBatchSize: options.maxBatchSize, durable: settings.durable, lazySyncInterval: options.lazySyncInterval,
                                  checkpointer: checkpointer, afterBatch: options.afterBatch, onCommit: options.onCommit,
                                  onJournalWrite: options.onJournalWrite, onCheckpoint: options.onCheckpoint,
                                  holdStore: holdStore, table: openHolds)
        holdWriter.start()
        writer.start()
        return Ledger(directory: directory, plans: plans, durable: settings.durable, recovered: recovered, replayed: replayed, environment: environment,
                      schema: schema, clock: clock, options: options, instance: instance, writer: writer,
                      holdStore: holdStore, holdWriter: holdWriter, openHolds: openHolds)
    }

    /// Stops the writers after they finished the queued work, releases this process's open holds and
    /// deregisters the process. Idempotent; `deinit` calls it. Mutations submitted afterwards fail with
    /// `unavailable`. Readers keep working until they are released.
    public func close() {
        holdWriter.stop()
        writer.stop()
    }

    /// Closes as a process killed at this instant would leave the directory: no holds released, no
    /// deregistration, no last checkpoint; the journal stays behind, unlocked (crash-recovery tests).
    func closeAsIfKilled() {
        writer.stopsAsIfKilled = true
        close()
    }

    /// False once `close()` began: the writer takes no more work (readiness checks read this).
    public var isOpen: Bool { writer.isAcceptingWork }

    /// Why commits are not being made durable right now — the latest failure of the charge journal's
    /// writes or of checkpoints, until that kind of write next succeeds — or nil. Results that waited
    /// for a failed write fail with `notDurable` (readiness checks read this).
    public var durabilityFault: LedgerError? { writer.checkpoints.health.fault }

    deinit { close() }

    /// A reader for one thread (an event loop): reuses one LMDB read transaction per store (reset/renew).
    public func makeReader() throws(LedgerError) -> LedgerReader {
        try LedgerReader(environment: environment, schema: schema, plans: plans, clock: clock, holdStore: holdStore,
                         refreshIntervalMs: Int64(options.sessionRefreshInterval * 1000))
    }

    // MARK: Hot-path writes (callbacks on a ledger thread)

    /// Reserves `amount` tokens if the user's available balance covers them.
    ///
    /// - Parameters:
    ///   - userId: Whose tokens.
    ///   - amount: Tokens to reserve (> 0).
    ///   - requestId: Recorded with the charge (truncated to 255 bytes).
    ///   - actor: Who spends, e.g. `key:<id>` or `session`; recorded with the charge.
    ///   - wakeLater: Queue without waking the ledger's threads: the caller calls `wakeDeferred()` soon
    ///     (an event loop, at the end of its tick — see `wakeDeferred()`).
    ///   - completion: On the hold writer's thread, after its commit (no fsync: holds are volatile, see
    ///     `HoldStore`): the receipt, or `insufficientTokens` (with `error.insufficient` carrying `required`
    ///     and `available`), `unknownUser`, `invalidAmount`, or a storage fault.
    public func hold(userId: UserID, amount: Int64, requestId: String, actor: String = "", wakeLater: Bool = false,
                     completion: @escaping @Sendable (Result<HoldReceipt, LedgerError>) -> Void) {
        holdWriter.submit(.hold(userId: userId.rawValue, amount: amount, requestId: requestId, actor: actor, completion: completion), wake: !wakeLater)
    }

    /// Wakes the ledger's threads for holds, charges and releases queued with `wakeLater: true`.
    ///
    /// Why: an event loop that submits each request's hold or charge as it goes wakes a sleeping ledger
    /// thread per submission (a futex call on the loop, a context switch on two cores), although one
    /// wake per burst would do. Queuing a tick's submissions quietly and waking once at its end gives
    /// the writers the whole burst as one batch. Costs no system call when no thread sleeps.
    public func wakeDeferred() {
        holdWriter.wake()
        writer.wake()
    }

    /// Charges a hold for `operation`: `amount` tokens (default: all held; the rest is released).
    /// The completion runs on a ledger thread once the charge is durable. A hold is settled once:
    /// a second charge or release fails with `holdAlreadySettled` — at once, on the calling thread, as
    /// do `unknownHold` and a hold of another process. A charge that fails leaves the hold open.
    /// `wakeLater`: as for `hold`.
    public func charge(holdId: HoldID, operation: String, amount: Int64? = nil, wakeLater: Bool = false,
                       completion: @escaping @Sendable (Result<ChargeReceipt, LedgerError>) -> Void) {
        switch openHolds.claim(holdId.rawValue) {
        case .claimed(let hold):
            writer.submit(.charge(holdId: holdId.rawValue, hold: hold, operation: operation, amount: amount, completion: completion), wake: !wakeLater)
        case .alreadySettling:
            completion(.failure(.refusal(.holdAlreadySettled, "charge", "hold \(holdId.rawValue) was already settled")))
        case .notHere:
            completion(.failure(unclaimable(holdId.rawValue, "charge")))
        }
    }

    /// Releases a hold unspent (on the hold writer's thread, no fsync). Fails with `holdAlreadySettled`
    /// when it was charged or released before (at once, on the calling thread). `wakeLater`: as for `hold`.
    public func release(holdId: HoldID, wakeLater: Bool = false, completion: @escaping @Sendable (Result<ReleaseReceipt, LedgerError>) -> Void) {
        switch openHolds.claim(holdId.rawValue) {
        case .claimed(let hold):
            holdWriter.submit(.release(holdId: holdId.rawValue, hold: hold, completion: completion), wake: !wakeLater)
        case .alreadySettling:
            completion(.failure(.refusal(.holdAlreadySettled, "release", "hold \(holdId.rawValue) was already settled")))
        case .notHere:
            completion(.failure(unclaimable(holdId.rawValue, "release")))
        }
    }

    /// Why a hold not in this process's table cannot be settled: settled before (or dropped by a crash or
    /// reboot), owned by another process, or never issued.
    private func unclaimable(_ holdId: UInt64, _ operation: String) -> LedgerError {
        let state = try? holdStore.environment.read { (txn) throws(LedgerError) -> (owner: UInt64?, next: UInt64) in
            (try txn.get(holdStore.holds, holdId) { (bytes) throws(LedgerError) in try HoldRecord.peek(bytes).owner },
             try holdStore.nextHoldId(in: txn))
        }
        if let owner = state?.owner, owner != instance {
            return .refusal(.unknownHold, operation, "hold \(holdId) belongs to another process; only the process that made a hold settles it")
        }
        if state?.owner != nil || (holdId > 0 && holdId < (state?.next ?? 0)) {
            return .refusal(.holdAlreadySettled, operation, "hold \(holdId) was already settled")
        }
        return .refusal(.unknownHold, operation, "no hold with id \(holdId)")
    }

    /// Adds `amount` (> 0) tokens to a balance, recorded as a `grant` with `reason` and `actor`.
    public func grant(userId: UserID, amount: Int64, reason: String, actor: String,
                      completion: @escaping @Sendable (Result<LedgerTransaction, LedgerError>) -> Void) {
        submit(completion: completion) { (batch) throws(LedgerError) in
            try batch.credit(userId: userId.rawValue, delta: amount, kind: .grant, reason: reason, actor: actor)
        }
    }

    /// Slides a session's expiry (call when `Principal.sessionRefreshDue`); the result is the new
    /// expiry, or nil when the session is gone or expired.
    public func touchSession(tokenHash: SHA256Digest, completion: @escaping @Sendable (Result<Date?, LedgerError>) -> Void) {
        submit(completion: completion) { (batch) throws(LedgerError) in
            try batch.touchSession(tokenHash: tokenHash).map { Date(ledgerMilliseconds: $0) }
        }
    }

    /// Queues `body` for the writer; `completion` runs on a ledger thread once the commit is durable.
    func submit<Value: Sendable>(completion: @escaping @Sendable (Result<Value, LedgerError>) -> Void,
                                 _ body: @escaping @Sendable (inout LedgerBatch) throws(LedgerError) -> Value) {
        writer.submit(.job(ClosureJob(body, completion: completion)))
    }

    /// Runs `body` on the writer and blocks until its batch committed.
    @available(*, noasync)
    func perform<Value: Sendable>(_ body: @escaping @Sendable (inout LedgerBatch) throws(LedgerError) -> Value) throws(LedgerError) -> Value {
        guard !isLedgerThread else {
            throw LedgerError(code: .unavailable, operation: "perform", message: "a blocking ledger call was made on a ledger thread")
        }
        let box = BlockingResult<Value>()
        submit(completion: { box.set($0) }, body)
        return try box.wait().get()
    }

    /// Blocks until `start` delivers a result through its callback.
    @available(*, noasync)
    func waitFor<Value: Sendable>(_ start: (@escaping @Sendable (Result<Value, LedgerError>) -> Void) -> Void) throws(LedgerError) -> Value {
        guard !isLedgerThread else {
            throw LedgerError(code: .unavailable, operation: "wait", message: "a blocking ledger call was made on a ledger thread")
        }
        let box = BlockingResult<Value>()
        start { box.set($0) }
        return try box.wait().get()
    }

    /// Whether the calling thread is one of the ledger's own (where blocking on the ledger would deadlock).
    var isLedgerThread: Bool { writer.isCurrentThread || holdWriter.isCurrentThread }

    /// Commits and mutations the writer has applied so far (mutations ÷ commits is the mean batch size).
    public var writerStatistics: LedgerWriterStatistics { writer.currentStatistics }

    /// Commits and operations of the hold writer (holds, releases, and drops of charged holds).
    public var holdWriterStatistics: LedgerWriterStatistics { holdWriter.currentStatistics }

    /// How long a new session lives after its last use (seconds): the session cookie's Max-Age.
    public var sessionLifetime: Double { options.sessionLifetime }

    /// The current time in storage units.
    var nowMs: Int64 { clock.now().ledgerMilliseconds }
}

/// A one-shot result a blocked thread waits for.
///
/// `@unchecked Sendable`: `result` is only read and written with `condition` locked.
final class BlockingResult<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, LedgerError>?

    func set(_ value: Result<Value, LedgerError>) {
        condition.lock()
        result = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Result<Value, LedgerError> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
