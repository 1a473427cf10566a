/// An API key as stored, keyed by the SHA-256 of the key.
///
/// `0 userId u64  8 created ms  16 revoked ms (0: active)  24 key id length u8  25 prefix length u8
/// 26 name length u16  28 key id, visible prefix, name bytes`
struct APIKeyRecord: Equatable {
    static let headerSize = 28
    static let maxNameBytes = 200

    var userId: UInt64
    var createdMs: Int64
    var revokedMs: Int64
    var keyId: String
    var visiblePrefix: String
    var name: String

    init(userId: UInt64, createdMs: Int64, revokedMs: Int64, keyId: String, visiblePrefix: String, name: String) {
        self.userId = userId
        self.createdMs = createdMs
        self.revokedMs = revokedMs
        self.keyId = keyId
        self.visiblePrefix = visiblePrefix
        self.name = name
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count >= Self.headerSize,
              bytes.count == Self.headerSize + Int(bytes[24]) + Int(bytes[25]) + Int(bytes.uint16(at: 26)) else {
            throw LedgerError(code: .corrupted, operation: "decode api key", message: "unexpected API key record layout")
        }
        userId = bytes.uint64(at: 0)
        createdMs = bytes.int64(at: 8)
        revokedMs = bytes.int64(at: 16)
        let keyIdLength = Int(bytes[24]), prefixLength = Int(bytes[25])
        keyId = bytes.string(at: Self.headerSize, count: keyIdLength)
        visiblePrefix = bytes.string(at: Self.headerSize + keyIdLength, count: prefixLength)
        name = bytes.string(at: Self.headerSize + keyIdLength + prefixLength, count: Int(bytes.uint16(at: 26)))
    }

    /// The fields authentication needs, read in place without decoding the name.
    static func peek(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) -> (userId: UInt64, revoked: Bool, keyId: String) {
        guard bytes.count >= headerSize, bytes.count >= headerSize + Int(bytes[24]) else {
            throw LedgerError(code: .corrupted, operation: "decode api key", message: "unexpected API key record layout")
        }
        return (bytes.uint64(at: 0), bytes.int64(at: 16) != 0, bytes.string(at: headerSize, count: Int(bytes[24])))
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.headerSize + 64)
        writer.u64(userId)
        writer.i64(createdMs)
        writer.i64(revokedMs)
        let keyIdBytes = Array(keyId.utf8.prefix(255)), prefixBytes = Array(visiblePrefix.utf8.prefix(255))
        let nameBytes = Array(name.utf8.prefix(Self.maxNameBytes))
        writer.u8(UInt8(keyIdBytes.count))
        writer.u8(UInt8(prefixBytes.count))
        writer.u16(UInt16(nameBytes.count))
        var bytes = writer.bytes
        bytes += keyIdBytes
        bytes += prefixBytes
        bytes += nameBytes
        return bytes
    }

    func info() -> APIKeyInfo {
        APIKeyInfo(keyId: keyId, userId: UserID(rawValue: userId), name: name, visiblePrefix: visiblePrefix,
                   createdAt: .init(ledgerMilliseconds: createdMs), revokedAt: revokedMs == 0 ? nil : .init(ledgerMilliseconds: revokedMs))
    }
}
