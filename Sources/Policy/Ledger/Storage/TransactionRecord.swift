/// One entry of the transaction log, keyed by a global, ever-increasing transaction id (u64 BE).
///
/// The log is append-only in id order (`MDB_APPEND`), so a batch of mutations for many users dirties a
/// few pages at the end of one B-tree instead of one page per user; each user's history is a chain
/// backwards through `previousId`, starting at `BalanceRecord.lastTransactionId`.
///
/// ```
///  0 kind u8  1 layout u8 (1)  2 operation length u8  3 requestId length u8  4 actor length u8
///  5 reserved  6 memo length u16  8 delta i64  16 balance after i64  24 time ms  32 hold id u64 (0: none)
/// 40 user id u64  48 the user's sequence u64 (from 1)  56 the user's previous transaction id (0: first)
/// 64 operation, requestId, actor, memo bytes
/// ```
struct TransactionRecord: Equatable {
    static let headerSize = 64
    static let layoutVersion: UInt8 = 1
    static let maxShortText = 255
    static let maxMemo = 1024

    var kind: TransactionKind
    /// Set by `LedgerBatch` when the entry is appended.
    var userId: UInt64 = 0
    var sequence: UInt64 = 0
    var previousId: UInt64 = 0
    var delta: Int64
    var balanceAfter: Int64
    var timeMs: Int64
    var holdId: UInt64
    var operation: String
    var requestId: String
    var actor: String
    var memo: String

    init(kind: TransactionKind, delta: Int64, balanceAfter: Int64, timeMs: Int64, holdId: UInt64, operation: String, requestId: String, actor: String, memo: String) {
        self.kind = kind
        self.delta = delta
        self.balanceAfter = balanceAfter
        self.timeMs = timeMs
        self.holdId = holdId
        self.operation = operation
        self.requestId = requestId
        self.actor = actor
        self.memo = memo
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        let header = try Self.header(bytes)
        kind = header.kind
        delta = header.delta
        balanceAfter = header.balanceAfter
        timeMs = header.timeMs
        holdId = header.holdId
        userId = header.userId
        sequence = header.sequence
        previousId = header.previousId
        var offset = Self.headerSize
        let lengths = [Int(bytes[2]), Int(bytes[3]), Int(bytes[4]), Int(bytes.uint16(at: 6))]
        var texts: [String] = []
        for length in lengths {
            texts.append(bytes.string(at: offset, count: length))
            offset += length
        }
        operation = texts[0]
        requestId = texts[1]
        actor = texts[2]
        memo = texts[3]
    }

    /// The numeric fields of an encoded record, without decoding its strings.
    struct Header {
        var kind: TransactionKind
        var delta: Int64
        var balanceAfter: Int64
        var timeMs: Int64
        var holdId: UInt64
        var userId: UInt64
        var sequence: UInt64
        var previousId: UInt64
    }

    static func header(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) -> Header {
        guard bytes.count >= headerSize, bytes[1] == layoutVersion, let kind = TransactionKind(rawValue: bytes[0]),
              bytes.count == headerSize + Int(bytes[2]) + Int(bytes[3]) + Int(bytes[4]) + Int(bytes.uint16(at: 6)) else {
            throw LedgerError(code: .corrupted, operation: "decode transaction", message: "unexpected transaction record layout")
        }
        return Header(kind: kind, delta: bytes.int64(at: 8), balanceAfter: bytes.int64(at: 16), timeMs: bytes.int64(at: 24),
                      holdId: bytes.uint64(at: 32), userId: bytes.uint64(at: 40), sequence: bytes.uint64(at: 48), previousId: bytes.uint64(at: 56))
    }

    /// The operation name of an encoded record.
    static func operation(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.string(at: headerSize, count: Int(bytes[2]))
    }

    var encodedSize: Int {
        Self.headerSize + min(operation.utf8.count, Self.maxShortText) + min(requestId.utf8.count, Self.maxShortText)
            + min(actor.utf8.count, Self.maxShortText) + min(memo.utf8.count, Self.maxMemo)
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: out[0..<Self.headerSize]).initializeMemory(as: UInt8.self, repeating: 0)
        out[0] = kind.rawValue
        out[1] = Self.layoutVersion
        out.setInt64(delta, at: 8)
        out.setInt64(balanceAfter, at: 16)
        out.setInt64(timeMs, at: 24)
        out.setUInt64(holdId, at: 32)
        out.setUInt64(userId, at: 40)
        out.setUInt64(sequence, at: 48)
        out.setUInt64(previousId, at: 56)
        var offset = Self.headerSize
        let op = out.setString(operation, at: offset, limit: Self.maxShortText)
        offset += op
        let request = out.setString(requestId, at: offset, limit: Self.maxShortText)
        offset += request
        let who = out.setString(actor, at: offset, limit: Self.maxShortText)
        offset += who
        let memoLength = out.setString(memo, at: offset, limit: Self.maxMemo)
        out[2] = UInt8(op)
        out[3] = UInt8(request)
        out[4] = UInt8(who)
        out.setUInt16(UInt16(memoLength), at: 6)
    }

    func view() -> LedgerTransaction {
        LedgerTransaction(userId: UserID(rawValue: userId), sequence: sequence, kind: kind, operation: operation, delta: delta,
                          balanceAfter: balanceAfter, time: .init(ledgerMilliseconds: timeMs), requestId: requestId,
                          actor: actor, memo: memo, holdId: holdId == 0 ? nil : HoldID(rawValue: holdId))
    }
}
