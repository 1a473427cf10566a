/// A stored idempotent result, keyed by user id (u64 BE) + SHA-256 of `scope \n key`.
///
/// `0 created ms i64  8 fingerprint (32 bytes)  40 payload (JSON of the result)`.
struct IdempotencyRecord: Equatable {
    var createdMs: Int64
    var fingerprint: SHA256Digest
    var payload: [UInt8]

    init(createdMs: Int64, fingerprint: SHA256Digest, payload: [UInt8]) {
        self.createdMs = createdMs
        self.fingerprint = fingerprint
        self.payload = payload
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count >= 40, let digest = SHA256Digest(bytes: bytes[8..<40]) else {
            throw LedgerError(code: .corrupted, operation: "decode idempotency record", message: "unexpected idempotency record layout")
        }
        createdMs = bytes.int64(at: 0)
        fingerprint = digest
        payload = Array(bytes[40...])
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40 + payload.count)
        withUnsafeBytes(of: createdMs.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: fingerprint.words) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload)
        return bytes
    }

    static func storageKey(userId: UInt64, _ key: IdempotencyKey) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        withUnsafeBytes(of: userId.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: SecretHash.sha256(key.scope + "\n" + key.key).words) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
