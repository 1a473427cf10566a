internal import CLMDB
import Foundation

/// A named database handle inside an `LMDBEnvironment` (an `MDB_dbi`), valid for the environment's lifetime.
struct LMDBDatabase: Sendable, Hashable {
    let dbi: UInt32
}

/// An open LMDB environment: owns one `MDB_env*`, closed in `deinit`.
///
/// `@unchecked Sendable` is sound because:
/// - the handle is set once in `init` and closed only in `deinit`, when no reference (and so no
///   transaction, reader or writer) can exist any more — `LedgerReader` and the writer both retain it;
/// - the environment is opened with `MDB_NOTLS`, so read transactions are not bound to the thread that
///   began them and may be reset/renewed by whichever event loop owns the `LedgerReader`;
/// - write transactions are begun, used and committed on one thread (the ledger's writer thread, or the
///   opening/closing thread while the writer is not running); LMDB serialises them across threads and
///   processes with its own lock-file mutex;
/// - `mdb_env_sync`, `mdb_env_set_flags` and `mdb_reader_check` are documented as safe alongside transactions.
final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    let path: String

    /// Opens (creating if needed) the environment in `directory`, which must exist.
    init(directory: String, mapSize: Int, maxReaders: UInt32, maxDatabases: UInt32, flags: LMDBEnvironmentFlags) throws(LedgerError) {
        let key = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        try OpenEnvironments.shared.claim(key)
        var env: OpaquePointer?
        let created = mdb_env_create(&env)
        guard created == LMDBStatus.success, let env else {
            OpenEnvironments.shared.release(key)
            throw LMDBEnvironment.error(created, "mdb_env_create")
        }
        do {
            try LMDBEnvironment.check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            try LMDBEnvironment.check(mdb_env_set_maxreaders(env, maxReaders), "mdb_env_set_maxreaders")
            try LMDBEnvironment.check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
            try LMDBEnvironment.check(mdb_env_open(env, directory, flags.rawValue, 0o600), "mdb_env_open")
        } catch {
            mdb_env_close(env)
            OpenEnvironments.shared.release(key)
            throw error
        }
        self.handle = env
        self.path = key
    }

    deinit {
        mdb_env_close(handle)
        OpenEnvironments.shared.release(path)
    }

    /// Opens (or creates) a named database inside `txn`; the handle outlives the transaction once it commits.
    func openDatabase(_ name: String, flags: LMDBDatabaseFlags, in txn: borrowing LMDBTransaction) throws(LedgerError) -> LMDBDatabase {
        var dbi: MDB_dbi = 0
        try LMDBEnvironment.check(mdb_dbi_open(txn.handle, name, flags.rawValue, &dbi), "mdb_dbi_open(\(name))")
        return LMDBDatabase(dbi: dbi)
    }

    /// Runs `body` in a read-only transaction, aborted when `body` returns or throws. Values must be
    /// copied out inside `body`: map memory is not valid afterwards.
    func read<Result>(_ body: (borrowing LMDBTransaction) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        let txn = try begin(readOnly: true)
        defer { mdb_txn_abort(txn) }
        return try body(LMDBTransaction(handle: txn))
    }

    /// Runs `body` in a write transaction: committed when `body` returns, aborted when it throws.
    /// Blocks while another thread or process holds the write lock. Never call on an event loop.
    func write<Result>(_ body: (borrowing LMDBTransaction) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        let txn = try begin(readOnly: false)
        let result: Result
        do {
            result = try body(LMDBTransaction(handle: txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try LMDBEnvironment.check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }

    /// Begins a raw transaction; the caller must commit or abort it. Only for `write`, `read`, the
    /// group-commit writer's batch transaction and `LedgerReader`'s reusable read transaction.
    func begin(readOnly: Bool) throws(LedgerError) -> OpaquePointer {
        var txn: OpaquePointer?
        let flags: UInt32 = readOnly ? LMDBEnvironmentFlags.readOnly.rawValue : 0
        try LMDBEnvironment.check(mdb_txn_begin(handle, nil, flags, &txn), "mdb_txn_begin")
        guard let txn else { throw LedgerError(code: .storage, operation: "mdb_txn_begin", message: "no transaction") }
        return txn
    }

    /// Commits a raw transaction from `begin(readOnly:)` (the handle is freed either way).
    func commit(_ txn: OpaquePointer) throws(LedgerError) {
        try LMDBEnvironment.check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    /// Aborts a raw transaction from `begin(readOnly:)`.
    func abort(_ txn: OpaquePointer) { mdb_txn_abort(txn) }

    /// A raw transaction's id: for a write transaction, the snapshot its commit will create.
    func transactionId(_ txn: OpaquePointer) -> UInt64 { UInt64(mdb_txn_id(txn)) }

    /// Flushes committed data to disk (`mdb_env_sync(force: 1)`); commits skip fsync (see `Checkpointer`).
    func sync() throws(LedgerError) {
        try LMDBEnvironment.check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }

    /// Starts writing committed pages to disk without waiting (`sync_file_range`), so the next
    /// `sync()` has little left and the disk sees a steady stream instead of a burst.
    func startWriteback() {
        var fd: Int32 = -1
        guard mdb_env_get_fd(handle, &fd) == LMDBStatus.success, fd >= 0 else { return }
        _ = clmdb_start_writeback(fd)
    }

    /// Releases reader slots left by dead processes; returns how many were cleared.
    @discardableResult
    func clearStaleReaders() throws(LedgerError) -> Int {
        var dead: Int32 = 0
        try LMDBEnvironment.check(mdb_reader_check(handle, &dead), "mdb_reader_check")
        return Int(dead)
    }

    /// Throws a `LedgerError` for any status but `MDB_SUCCESS`.
    @inline(__always)
    static func check(_ status: Int32, _ operation: @autoclosure () -> String) throws(LedgerError) {
        if status != LMDBStatus.success { throw error(status, operation()) }
    }

    /// Maps an LMDB (or errno) status to a `LedgerError` carrying `mdb_strerror`'s text.
    static func error(_ status: Int32, _ operation: String) -> LedgerError {
        let code: LedgerError.Code
        switch status {
        case LMDBStatus.mapFull: code = .mapFull
        case LMDBStatus.mapResized: code = .mapResized
        case LMDBStatus.corrupted, LMDBStatus.panic, LMDBStatus.invalid: code = .corrupted
        case LMDBStatus.readersFull: code = .readersFull
        case LMDBStatus.versionMismatch: code = .versionMismatch
        case 1...: code = .io
        default: code = .storage
        }
        let message = mdb_strerror(status).map { String(cString: $0) } ?? "LMDB status \(status)"
        return LedgerError(code: code, operation: operation, message: message, lmdbStatus: status)
    }
}

extension LMDBEnvironment {
    /// Releases a read transaction's snapshot but keeps its reader slot (`mdb_txn_reset`).
    func reset(_ txn: OpaquePointer) { mdb_txn_reset(txn) }

    /// Takes a fresh snapshot for a reset read transaction (`mdb_txn_renew`).
    func renew(_ txn: OpaquePointer) throws(LedgerError) {
        try LMDBEnvironment.check(mdb_txn_renew(txn), "mdb_txn_renew")
    }
}

/// The data directories with an open environment in this process.
///
/// LMDB forbids opening one environment twice in a process: its locks are per process, so a second
/// open could reset the reader table under the first, and closing either drops the other's locks.
/// `claim` refuses that, after waiting briefly for an environment that is being released (a closed
/// ledger's writer thread lets go of it a moment after `close()` returns).
///
/// `@unchecked Sendable`: `paths` is only touched with `condition` locked.
final class OpenEnvironments: @unchecked Sendable {
    static let shared = OpenEnvironments()

    private let condition = NSCondition()
    private var paths: Set<String> = []

    func claim(_ path: String, waitSeconds: Double = 5) throws(LedgerError) {
        let deadline = Date(timeIntervalSinceNow: waitSeconds)
        condition.lock()
        defer { condition.unlock() }
        while paths.contains(path) {
            guard condition.wait(until: deadline) else {
                throw LedgerError(code: .unavailable, operation: "open ledger",
                                  message: "the ledger in \(path) is already open in this process; use that Ledger (one per process)")
            }
        }
        paths.insert(path)
    }

    func release(_ path: String) {
        condition.lock()
        paths.remove(path)
        condition.broadcast()
        condition.unlock()
    }
}
