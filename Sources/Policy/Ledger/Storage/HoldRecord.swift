/// An open hold, keyed by its id (big-endian). Deleted when charged or released, so a second
/// settlement finds nothing.
///
/// ```
///  0 userId u64  8 amount i64  16 created ms  24 owner instance u64  32 requestId length u8
/// 33 actor length u8  34 requestId bytes, then actor bytes
/// ```
/// `owner` is the `ProcessRecord` instance that created it; holds of dead instances are released on open.
struct HoldRecord: Equatable {
    static let headerSize = 34
    static let maxTextBytes = 255

    var userId: UInt64
    var amount: Int64
    var createdMs: Int64
    var owner: UInt64
    var requestId: String
    var actor: String

    init(userId: UInt64, amount: Int64, createdMs: Int64, owner: UInt64, requestId: String, actor: String) {
        self.userId = userId
        self.amount = amount
        self.createdMs = createdMs
        self.owner = owner
        self.requestId = requestId
        self.actor = actor
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count >= Self.headerSize, bytes.count == Self.headerSize + Int(bytes[32]) + Int(bytes[33]) else {
            throw LedgerError(code: .corrupted, operation: "decode hold", message: "unexpected hold record layout")
        }
        userId = bytes.uint64(at: 0)
        amount = bytes.int64(at: 8)
        createdMs = bytes.int64(at: 16)
        owner = bytes.uint64(at: 24)
        requestId = bytes.string(at: Self.headerSize, count: Int(bytes[32]))
        actor = bytes.string(at: Self.headerSize + Int(bytes[32]), count: Int(bytes[33]))
    }

    /// Reads only the fields settlement needs, without decoding strings.
    static func peek(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) -> (userId: UInt64, amount: Int64, owner: UInt64) {
        guard bytes.count >= headerSize else {
            throw LedgerError(code: .corrupted, operation: "decode hold", message: "unexpected hold record layout")
        }
        return (bytes.uint64(at: 0), bytes.int64(at: 8), bytes.uint64(at: 24))
    }

    var encodedSize: Int {
        Self.headerSize + min(requestId.utf8.count, Self.maxTextBytes) + min(actor.utf8.count, Self.maxTextBytes)
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.setUInt64(userId, at: 0)
        out.setInt64(amount, at: 8)
        out.setInt64(createdMs, at: 16)
        out.setUInt64(owner, at: 24)
        let requestLength = out.setString(requestId, at: Self.headerSize, limit: Self.maxTextBytes)
        let actorLength = out.setString(actor, at: Self.headerSize + requestLength, limit: Self.maxTextBytes)
        out[32] = UInt8(requestLength)
        out[33] = UInt8(actorLength)
    }
}
