/// A user as stored, keyed by the big-endian user id. Variable length (written with `ByteWriter`):
/// `layout u8 (1), id u64, created ms i64, role u8, flags u8 (1: e-mail verified, 2: has name),
/// email, password hash, plan, name` — strings with 16-bit length prefixes.
struct UserRecord: Equatable {
    static let layoutVersion: UInt8 = 1
    static let maxNameBytes = 200

    var id: UInt64
    var createdMs: Int64
    var role: UserRole
    var emailVerified: Bool
    var email: String
    /// PHC-style scrypt string from `PasswordHasher`, or empty when no password is set.
    var passwordHash: String
    var plan: String
    var name: String?

    init(id: UInt64, createdMs: Int64, role: UserRole, emailVerified: Bool, email: String, passwordHash: String, plan: String, name: String?) {
        self.id = id
        self.createdMs = createdMs
        self.role = role
        self.emailVerified = emailVerified
        self.email = email
        self.passwordHash = passwordHash
        self.plan = plan
        self.name = name
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        var reader = ByteReader(bytes, record: "user")
        guard try reader.u8() == Self.layoutVersion else {
            throw LedgerError(code: .corrupted, operation: "decode user", message: "unknown user record layout")
        }
        id = try reader.u64()
        createdMs = try reader.i64()
        role = try reader.u8() == 1 ? .admin : .user
        let flags = try reader.u8()
        emailVerified = flags & 1 != 0
        email = try reader.string16()
        passwordHash = try reader.string16()
        plan = try reader.string16()
        let storedName = try reader.string16()
        name = flags & 2 != 0 ? storedName : nil
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + email.utf8.count + passwordHash.utf8.count)
        writer.u8(Self.layoutVersion)
        writer.u64(id)
        writer.i64(createdMs)
        writer.u8(role == .admin ? 1 : 0)
        writer.u8((emailVerified ? 1 : 0) | (name != nil ? 2 : 0))
        writer.string16(email)
        writer.string16(passwordHash)
        writer.string16(plan)
        writer.string16(name ?? "")
        return writer.bytes
    }

    var account: UserAccount {
        UserAccount(id: UserID(rawValue: id), email: email, name: name, plan: plan, role: role,
                    createdAt: .init(ledgerMilliseconds: createdMs), emailVerified: emailVerified, hasPassword: !passwordHash.isEmpty)
    }
}

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

/// A process that has the ledger open, keyed by its instance number (big-endian).
///
/// `0 pid u32  4 reserved  8 process start time (clock ticks since boot) u64  16 opened ms  24 boot id
/// length u8  25 boot id (≤ 39 bytes)`. A record whose process is gone (different boot, no such pid, or
/// a pid reused by a process that started at another time) is dead: its holds are released.
struct ProcessRecord: Equatable {
    static let size = 64

    var pid: Int32
    var startTicks: UInt64
    var openedMs: Int64
    var bootId: String

    init(pid: Int32, startTicks: UInt64, openedMs: Int64, bootId: String) {
        self.pid = pid
        self.startTicks = startTicks
        self.openedMs = openedMs
        self.bootId = bootId
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count == Self.size, bytes[24] <= 39 else {
            throw LedgerError(code: .corrupted, operation: "decode process", message: "unexpected process record layout")
        }
        pid = Int32(bitPattern: bytes.uint32(at: 0))
        startTicks = bytes.uint64(at: 8)
        openedMs = bytes.int64(at: 16)
        bootId = bytes.string(at: 25, count: Int(bytes[24]))
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0)
        out.setUInt32(UInt32(bitPattern: pid), at: 0)
        out.setUInt64(startTicks, at: 8)
        out.setInt64(openedMs, at: 16)
        out[24] = UInt8(out.setString(bootId, at: 25, limit: 39))
    }
}
