internal import CLMDB

/// Something usable as an LMDB key: it lends its bytes for the duration of a call.
protocol LMDBKey {
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result
}

/// A transaction lent to a scoped closure (`LMDBEnvironment.read`/`write`, the writer's batch, a
/// `LedgerReader` lookup). It is `~Copyable` and only ever passed `borrowing`, so it cannot outlive the
/// scope that owns the underlying `MDB_txn*`; it never commits or aborts by itself.
///
/// Buffers handed to closures point into the memory map (or LMDB's dirty pages) and are valid only
/// inside the closure: copy what you need into Swift values before returning.
struct LMDBTransaction: ~Copyable {
    let handle: OpaquePointer

    /// Looks `key` up and lends the value's bytes to `body`; `nil` when the key is absent.
    func get<Result>(_ db: LMDBDatabase, _ key: some LMDBKey, _ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result? {
        try key.withKeyBytes { (keyBytes) throws(LedgerError) -> Result? in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            let status = mdb_get(handle, db.dbi, &k, &v)
            if status == LMDBStatus.notFound { return nil }
            try LMDBEnvironment.check(status, "mdb_get")
            return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    /// Whether `key` is present.
    func contains(_ db: LMDBDatabase, _ key: some LMDBKey) throws(LedgerError) -> Bool {
        try get(db, key) { _ in () } != nil
    }

    /// Stores `value` under `key`. With `.noOverwrite`, returns false (and changes nothing) when the key exists.
    @discardableResult
    func put(_ db: LMDBDatabase, _ key: some LMDBKey, _ value: UnsafeRawBufferPointer, flags: LMDBWriteFlags = []) throws(LedgerError) -> Bool {
        try key.withKeyBytes { (keyBytes) throws(LedgerError) -> Bool in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            let status = mdb_put(handle, db.dbi, &k, &v, flags.rawValue)
            if status == LMDBStatus.keyExists && flags.contains(.noOverwrite) { return false }
            try LMDBEnvironment.check(status, "mdb_put")
            return true
        }
    }

    /// Stores `bytes` under `key`.
    @discardableResult
    func put(_ db: LMDBDatabase, _ key: some LMDBKey, bytes: [UInt8], flags: LMDBWriteFlags = []) throws(LedgerError) -> Bool {
        try bytes.withKeyBytes { (buffer) throws(LedgerError) -> Bool in try put(db, key, buffer, flags: flags) }
    }

    /// Reserves `count` bytes for `key` and lets `fill` write the value in place (`MDB_RESERVE`): no copy.
    func putReserving(_ db: LMDBDatabase, _ key: some LMDBKey, count: Int, flags: LMDBWriteFlags = [], _ fill: (UnsafeMutableRawBufferPointer) -> Void) throws(LedgerError) {
        try key.withKeyBytes { (keyBytes) throws(LedgerError) in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val(mv_size: count, mv_data: nil)
            try LMDBEnvironment.check(mdb_put(handle, db.dbi, &k, &v, flags.union(.reserve).rawValue), "mdb_put(reserve)")
            fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: count))
        }
    }

    /// Deletes `key`; returns false when it was absent.
    @discardableResult
    func delete(_ db: LMDBDatabase, _ key: some LMDBKey) throws(LedgerError) -> Bool {
        try key.withKeyBytes { (keyBytes) throws(LedgerError) -> Bool in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let status = mdb_del(handle, db.dbi, &k, nil)
            if status == LMDBStatus.notFound { return false }
            try LMDBEnvironment.check(status, "mdb_del")
            return true
        }
    }

    /// Opens a cursor on `db` for the duration of `body`.
    func withCursor<Result>(_ db: LMDBDatabase, _ body: (inout LMDBCursor) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        var cursor: OpaquePointer?
        try LMDBEnvironment.check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open")
        guard let cursor else { throw LedgerError(code: .storage, operation: "mdb_cursor_open", message: "no cursor") }
        defer { mdb_cursor_close(cursor) }
        var wrapper = LMDBCursor(handle: cursor)
        return try body(&wrapper)
    }

    /// Visits the entries whose keys start with `prefix`, in key order (or reverse order), until `body`
    /// returns false. Key and value buffers are valid only during each call.
    /// A forward scan may start at `start` (the first key ≥ it) instead of at the prefix.
    func scan(_ db: LMDBDatabase, prefix: [UInt8], from start: [UInt8]? = nil, reverse: Bool = false, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(LedgerError) -> Bool) throws(LedgerError) {
        try withCursor(db) { (cursor) throws(LedgerError) in
            var positioned: Bool
            if reverse {
                // Seek just past the prefix range, then step back into it.
                if let upper = LMDBCursor.successor(of: prefix) {
                    positioned = try cursor.seek(atLeast: upper) ? try cursor.previous() : try cursor.last()
                } else {
                    positioned = try cursor.last()
                }
            } else {
                if let start, start.lexicographicallyPrecedes(prefix) == false {
                    positioned = try cursor.seek(atLeast: start)
                } else {
                    positioned = prefix.isEmpty ? try cursor.first() : try cursor.seek(atLeast: prefix)
                }
            }
            while positioned {
                let key = cursor.key
                guard key.count >= prefix.count, key.prefix(prefix.count).elementsEqual(prefix) else { return }
                guard try body(key, cursor.value) else { return }
                positioned = reverse ? try cursor.previous() : try cursor.next()
            }
        }
    }
}

/// A cursor lent to `LMDBTransaction.withCursor`. `key` and `value` describe the current entry and are
/// valid until the next move or the end of the transaction.
struct LMDBCursor: ~Copyable {
    let handle: OpaquePointer
    private var currentKey = MDB_val()
    private var currentValue = MDB_val()

    init(handle: OpaquePointer) { self.handle = handle }

    var key: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: currentKey.mv_data, count: currentKey.mv_size) }
    var value: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: currentValue.mv_data, count: currentValue.mv_size) }

    mutating func first() throws(LedgerError) -> Bool { try move(MDB_FIRST) }
    mutating func last() throws(LedgerError) -> Bool { try move(MDB_LAST) }
    mutating func next() throws(LedgerError) -> Bool { try move(MDB_NEXT) }
    mutating func previous() throws(LedgerError) -> Bool { try move(MDB_PREV) }

    /// Positions at the first key ≥ `key` (`MDB_SET_RANGE`).
    mutating func seek(atLeast key: [UInt8]) throws(LedgerError) -> Bool {
        try key.withKeyBytes { (bytes) throws(LedgerError) -> Bool in
            currentKey = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            return try move(MDB_SET_RANGE)
        }
    }

    private mutating func move(_ op: MDB_cursor_op) throws(LedgerError) -> Bool {
        let status = mdb_cursor_get(handle, &currentKey, &currentValue, op)
        if status == LMDBStatus.notFound { return false }
        try LMDBEnvironment.check(status, "mdb_cursor_get")
        return true
    }

    /// The smallest byte string greater than every string starting with `prefix`, or nil if none exists.
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF { bytes[bytes.count - 1] = last + 1; return bytes }
            bytes.removeLast()
        }
        return nil
    }
}
