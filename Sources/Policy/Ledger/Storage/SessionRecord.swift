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
