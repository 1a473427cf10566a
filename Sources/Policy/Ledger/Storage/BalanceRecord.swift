/// A user's balance as stored: a fixed 128-byte little-endian layout, read in place from the map.
///
/// ```
///  0 balance i64     8 held i64       16 periodStart ms   24 periodEnd ms   32 anchor ms
/// 40 periodIndex u32 44 layout u8 (1) 45 plan length u8   48 nextSequence u64  56 lastTransactionId u64
/// 64 plan name (≤ 64 bytes of UTF-8, zero padded)
/// ```
/// The anchor is the instant the account started; period *i* runs from anchor + *i* months to
/// anchor + *i*+1 months (see `PlanCalendar`). `nextSequence` numbers the user's transactions;
/// `lastTransactionId` is the newest, where the user's history chain starts (0: none yet).
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
    var lastTransactionId: UInt64 = 0
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
        lastTransactionId = bytes.uint64(at: 56)
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
        out.setUInt64(lastTransactionId, at: 56)
    }

    /// Public view of the record.
    func view(userId: UInt64) -> LedgerBalance {
        LedgerBalance(userId: UserID(rawValue: userId), balance: balance, held: held, plan: plan,
                      periodStart: .init(ledgerMilliseconds: periodStartMs), periodEnd: .init(ledgerMilliseconds: periodEndMs))
    }
}
