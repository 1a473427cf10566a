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

extension UserRecord {
    /// E-mail, plan and role, read without decoding the password hash.
    static func principalFields(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) -> (email: String, plan: String, role: UserRole) {
        var reader = ByteReader(bytes, record: "user")
        guard try reader.u8() == layoutVersion else {
            throw LedgerError(code: .corrupted, operation: "decode user", message: "unknown user record layout")
        }
        _ = try reader.u64()
        _ = try reader.i64()
        let role: UserRole = try reader.u8() == 1 ? .admin : .user
        _ = try reader.u8()
        let email = try reader.string16()
        try reader.skipString16()
        let plan = try reader.string16()
        return (email, plan, role)
    }
}
