import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The volatile half of the ledger: open holds and each user's held total, in a second LMDB
/// environment (`<data>/holds/`) that is never fsynced.
///
/// Why a second environment: a hold must be visible to every process sharing the data directory (so
/// they cannot overspend together) but need not survive a power loss — a crash releases every hold
/// anyway. In the durable environment a result waits for the disk (a journal write or a checkpoint);
/// here a commit is a few page writes into a shared memory map (`MDB_WRITEMAP | MDB_NOSYNC`) that
/// nothing ever waits to flush, so a hold costs microseconds and only charges wait for the disk.
///
/// Crash rules:
/// - a process crash loses nothing (the map is in the page cache); the dead process's holds are
///   released by the next process that opens the ledger;
/// - a power loss or kernel crash may leave this environment torn (no fsync, no write ordering), so it
///   is thrown away when the machine has rebooted since it was created: `boot-id` records
///   `/proc/sys/kernel/random/boot_id`, compared under an exclusive `flock` on open. After a reboot no
///   process can still hold anything, so an empty store is exactly right.
///
/// | database | key | value |
/// |---|---|---|
/// | `meta` | `next.hold` | u64 little-endian |
/// | `holds` | hold id (u64 BE) | `HoldRecord` (owner = the process instance) |
/// | `held` | user id (u64 BE) | i64 little-endian: the sum of the user's open holds (absent: 0) |
///
/// `@unchecked Sendable`: immutable after `init`; the environment serialises its own transactions.
final class HoldStore: @unchecked Sendable {
    let environment: LMDBEnvironment
    let meta: LMDBDatabase
    let holds: LMDBDatabase
    let held: LMDBDatabase
    /// Whether `open` found no usable store and made a new one (first open, or first since a reboot).
    let createdFresh: Bool

    static let mapSize = 256 << 20

    private init(environment: LMDBEnvironment, meta: LMDBDatabase, holds: LMDBDatabase, held: LMDBDatabase, createdFresh: Bool) {
        self.environment = environment
        self.meta = meta
        self.holds = holds
        self.held = held
        self.createdFresh = createdFresh
    }

    /// Opens the store under `dataDirectory`, discarding one left from an earlier boot. `anyProcessLive`
    /// is asked before discarding a store that has files: a live process means the boot check is wrong
    /// (someone removed `boot-id`), and two stores would let two processes spend the same tokens, so
    /// opening fails instead.
    static func open(dataDirectory: String, maxReaders: UInt32, anyProcessLive: () -> Bool = { false }) throws(LedgerError) -> HoldStore {
        let directory = (dataDirectory as NSString).appendingPathComponent("holds")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError(code: .io, operation: "open hold store", message: "cannot create \(directory): \(error.localizedDescription)")
        }
        let lockPath = (dataDirectory as NSString).appendingPathComponent("holds.lock")
        let lockFD = openLockFile(lockPath)
        guard lockFD >= 0 else { throw LedgerError(code: .io, operation: "open hold store", message: "cannot open \(lockPath): errno \(errno)") }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw LedgerError(code: .io, operation: "open hold store", message: "cannot lock \(lockPath): errno \(errno)") }
        }
        defer { flock(lockFD, LOCK_UN) }

        let bootPath = (directory as NSString).appendingPathComponent("boot-id")
        let currentBoot = Self.bootIdentifier()
        let storedBoot = (try? String(contentsOfFile: bootPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let fresh = storedBoot == nil || storedBoot != currentBoot
        let dataPath = (directory as NSString).appendingPathComponent("data.mdb")
        if fresh && FileManager.default.fileExists(atPath: dataPath) && anyProcessLive() {
            throw LedgerError(code: .unavailable, operation: "open hold store",
                              message: "\(bootPath) does not match this boot, yet a process using this data directory is running; refusing to discard its holds (restore boot-id or stop that process)")
        }
        if fresh {
            for name in ["data.mdb", "lock.mdb"] {
                let path = (directory as NSString).appendingPathComponent(name)
                if unlink(path) != 0 && errno != ENOENT {
                    throw LedgerError(code: .io, operation: "open hold store", message: "cannot remove the stale \(path): errno \(errno)")
                }
            }
        }
        let environment = try LMDBEnvironment(directory: directory, mapSize: mapSize, maxReaders: maxReaders, maxDatabases: 3,
                                              flags: [.noTLS, .noReadAhead, .noSync, .writeMap])
        let (meta, holds, held) = try environment.write { (txn) throws(LedgerError) in
            (try environment.openDatabase("meta", flags: .create, in: txn),
             try environment.openDatabase("holds", flags: .create, in: txn),
             try environment.openDatabase("held", flags: .create, in: txn))
        }
        if fresh {
            do {
                try (currentBoot + "\n").write(toFile: bootPath, atomically: true, encoding: .utf8)
            } catch {
                throw LedgerError(code: .io, operation: "open hold store", message: "cannot write \(bootPath): \(error.localizedDescription)")
            }
        }
        return HoldStore(environment: environment, meta: meta, holds: holds, held: held, createdFresh: fresh)
    }

    /// This boot's identity: Linux's random boot id, else the boot time (never empty).
    static func bootIdentifier() -> String {
        if let id = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) {
            let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        // Elsewhere: the boot instant, from uptime (stable to the second within one boot).
        let booted = Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime
        return "boot-at-\(Int(booted.rounded()))"
    }

    // MARK: Access inside a transaction

    /// The user's held total (0 when nothing is held).
    func held(of userId: UInt64, in txn: borrowing LMDBTransaction) throws(LedgerError) -> Int64 {
        try txn.get(held, userId) { bytes in bytes.count == 8 ? bytes.int64(at: 0) : 0 } ?? 0
    }

    /// Stores the user's held total (deleting the entry at 0, so the database only lists users with holds).
    func setHeld(_ value: Int64, of userId: UInt64, in txn: borrowing LMDBTransaction) throws(LedgerError) {
        if value == 0 {
            _ = try txn.delete(held, userId)
        } else {
            _ = try withUnsafeBytes(of: value.littleEndian) { (bytes) throws(LedgerError) in try txn.put(held, userId, bytes) }
        }
    }

    /// The next hold id to issue (0 before the store was seeded).
    func nextHoldId(in txn: borrowing LMDBTransaction) throws(LedgerError) -> UInt64 {
        try txn.get(meta, MetaKey.nextHold) { bytes in bytes.count == 8 ? bytes.uint64(at: 0) : 0 } ?? 0
    }

    func setNextHoldId(_ value: UInt64, in txn: borrowing LMDBTransaction) throws(LedgerError) {
        _ = try withUnsafeBytes(of: value.littleEndian) { (bytes) throws(LedgerError) in try txn.put(meta, MetaKey.nextHold, bytes) }
    }

    /// Deletes holds (charged, or left by dead processes) and lowers their users' held totals; holds
    /// already gone are skipped. Returns how many were deleted and the tokens they held.
    @discardableResult
    func drop(_ dropped: [(id: UInt64, userId: UInt64, amount: Int64)], in txn: borrowing LMDBTransaction) throws(LedgerError) -> (holds: Int, tokens: Int64) {
        var totals: [UInt64: Int64] = [:]
        var count = 0, tokens: Int64 = 0
        for hold in dropped where try txn.delete(holds, hold.id) {
            totals[hold.userId, default: 0] += hold.amount
            count += 1
            tokens += hold.amount
        }
        for (userId, amount) in totals {
            try setHeld(max(0, try held(of: userId, in: txn) - amount), of: userId, in: txn)
        }
        return (count, tokens)
    }

    /// Deletes the holds whose owner `isReleased` says to release, adjusting the held totals.
    func releaseHolds(in txn: borrowing LMDBTransaction, where isReleased: (UInt64) -> Bool) throws(LedgerError) -> (holds: Int, tokens: Int64) {
        var orphans: [(id: UInt64, userId: UInt64, amount: Int64)] = []
        try txn.scan(holds, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let hold = try HoldRecord.peek(value)
            if isReleased(hold.owner), let id = key.bigEndianUInt64 { orphans.append((id, hold.userId, hold.amount)) }
            return true
        }
        return try drop(orphans, in: txn)
    }
}

/// A renewable read snapshot of the hold store plus, when exactness is needed, its write lock — what
/// the durable writer's batch consults for a user's held total.
///
/// The batch reads held totals from a snapshot: a hold added after it only makes the batch's view
/// smaller than the truth, which matters only where a batch *lowers* what is available (a renewal, a
/// negative adjustment, a plan change). Those call `lockExact()` first: it takes the store's write lock
/// (held until the batch ends), so no hold can be added in any process until the durable commit is done.
///
/// Not thread-safe: one per writer thread.
final class HeldView {
    let store: HoldStore
    private var readTransaction: OpaquePointer?
    private var readActive = false
    private var exactTransaction: OpaquePointer?

    init(store: HoldStore) { self.store = store }

    deinit {
        if let exactTransaction { store.environment.abort(exactTransaction) }
        if let readTransaction { store.environment.abort(readTransaction) }
    }

    /// The user's held total as this batch sees it.
    func held(of userId: UInt64) throws(LedgerError) -> Int64 {
        if let exactTransaction { return try store.held(of: userId, in: LMDBTransaction(handle: exactTransaction)) }
        if !readActive {
            if let readTransaction {
                try store.environment.renew(readTransaction)
            } else {
                readTransaction = try store.environment.begin(readOnly: true)
            }
            readActive = true
        }
        return try store.held(of: userId, in: LMDBTransaction(handle: readTransaction!))
    }

    /// Takes the hold store's write lock until `end(commit:)`: held totals read from now on are exact
    /// and stay so. Blocks while another thread or process writes the store (microseconds).
    func lockExact() throws(LedgerError) {
        guard exactTransaction == nil else { return }
        exactTransaction = try store.environment.begin(readOnly: false)
    }

    /// Writes to the store inside the batch (releasing dead processes' holds): takes the write lock.
    func write<Result>(_ body: (borrowing LMDBTransaction) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        try lockExact()
        return try body(LMDBTransaction(handle: exactTransaction!))
    }

    /// Ends the batch's view: drops the snapshot and the write lock, committing what `write` changed
    /// when `commit` (call after the durable commit succeeded) or discarding it.
    func end(commit: Bool) throws(LedgerError) {
        if readActive, let readTransaction {
            store.environment.reset(readTransaction)
            readActive = false
        }
        if let exactTransaction {
            self.exactTransaction = nil
            if commit {
                try store.environment.commit(exactTransaction)
            } else {
                store.environment.abort(exactTransaction)
            }
        }
    }
}

/// `open(2)` for the hold store's lock file (outside `HoldStore`, whose own `open` would shadow it).
private func openLockFile(_ path: String) -> Int32 {
    open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
}
