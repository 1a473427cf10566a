/// A user's balance as stored: a fixed 128-byte little-endian layout, read in place from the map.
///
/// ```
///  0 balance i64     8 held i64       16 periodStart ms   24 periodEnd ms   32 anchor ms
/// 40 periodIndex u32 44 layout u8 (1) 45 plan length u8   48 nextSequence u64  56 reserved
/// 64 plan name (≤ 64 bytes of UTF-8, zero padded)
/// ```
/// The anchor is the instant the account started; period *i* runs from anchor + *i* months to
/// anchor + *i*+1 months (see `PlanCalendar`). `nextSequence` numbers the user's transactions.
struct BalanceRecord: Equatable {
    static let size = 128
    static let layoutVersion: UInt8 = 1
    static let maxPlanBytes = 64

    var balance: Int64
    var held: Int64
    var periodStartMs: Int64
    var periodEndMs: Int64
    var anchorMs: Int64
    var periodIndex: UInt32
    var nextSequence: UInt64
    var plan: String

    init(balance: Int64, held: Int64, periodStartMs: Int64, periodEndMs: Int64, anchorMs: Int64, periodIndex: UInt32, nextSequence: UInt64, plan: String) {
        self.balance = balance
        self.held = held
        self.periodStartMs = periodStartMs
        self.periodEndMs = periodEndMs
        self.anchorMs = anchorMs
        self.periodIndex = periodIndex
        self.nextSequence = nextSequence
        self.plan = plan
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count == Self.size, bytes[44] == Self.layoutVersion, Int(bytes[45]) <= Self.maxPlanBytes else {
            throw LedgerError(code: .corrupted, operation: "decode balance", message: "unexpected balance record layout")
        }
        balance = bytes.int64(at: 0)
        held = bytes.int64(at: 8)
        periodStartMs = bytes.int64(at: 16)
        periodEndMs = bytes.int64(at: 24)
        anchorMs = bytes.int64(at: 32)
        periodIndex = bytes.uint32(at: 40)
        nextSequence = bytes.uint64(at: 48)
        plan = bytes.string(at: 64, count: Int(bytes[45]))
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0)
        out.setInt64(balance, at: 0)
        out.setInt64(held, at: 8)
        out.setInt64(periodStartMs, at: 16)
        out.setInt64(periodEndMs, at: 24)
        out.setInt64(anchorMs, at: 32)
        out.setUInt32(periodIndex, at: 40)
        out[44] = Self.layoutVersion
        out[45] = UInt8(out.setString(plan, at: 64, limit: Self.maxPlanBytes))
        out.setUInt64(nextSequence, at: 48)
    }

    /// Public view of the record.
    func view(userId: UInt64) -> LedgerBalance {
        LedgerBalance(userId: UserID(rawValue: userId), balance: balance, held: held, plan: plan,
                      periodStart: .init(ledgerMilliseconds: periodStartMs), periodEnd: .init(ledgerMilliseconds: periodEndMs))
    }
}

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

/// A session, keyed by the SHA-256 of its token: fixed 40 bytes.
///
/// `0 userId u64  8 created ms  16 last seen ms  24 expires ms  32 lifetime ms` — each use that is
/// `sessionRefreshDue` slides `expires` to last seen + lifetime.
struct SessionRecord: Equatable {
    static let size = 40

    var userId: UInt64
    var createdMs: Int64
    var lastSeenMs: Int64
    var expiresMs: Int64
    var lifetimeMs: Int64

    init(userId: UInt64, createdMs: Int64, lastSeenMs: Int64, expiresMs: Int64, lifetimeMs: Int64) {
        self.userId = userId
        self.createdMs = createdMs
        self.lastSeenMs = lastSeenMs
        self.expiresMs = expiresMs
        self.lifetimeMs = lifetimeMs
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count == Self.size else {
            throw LedgerError(code: .corrupted, operation: "decode session", message: "unexpected session record layout")
        }
        userId = bytes.uint64(at: 0)
        createdMs = bytes.int64(at: 8)
        lastSeenMs = bytes.int64(at: 16)
        expiresMs = bytes.int64(at: 24)
        lifetimeMs = bytes.int64(at: 32)
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.setUInt64(userId, at: 0)
        out.setInt64(createdMs, at: 8)
        out.setInt64(lastSeenMs, at: 16)
        out.setInt64(expiresMs, at: 24)
        out.setInt64(lifetimeMs, at: 32)
    }
}
