internal import COpenSSL
import Foundation

/// scrypt password hashing with libcrypto (`EVP_PBE_scrypt`), a per-password random salt and the
/// parameters stored beside the hash, verified in constant time (`CRYPTO_memcmp`).
///
/// Hashing is deliberately slow (≈0.1 s and 32 MiB at the default cost): call it on a thread pool,
/// never on an event loop. Stored form: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>`.
public struct PasswordHasher: Sendable {
    /// scrypt cost parameters.
    public struct Parameters: Sendable, Equatable {
        /// log2 of N, the CPU/memory cost.
        public var logN: Int
        /// Block size.
        public var r: Int
        /// Parallelism.
        public var p: Int

        public init(logN: Int, r: Int, p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB and roughly 0.1 s per hash.
        public static let standard = Parameters(logN: 15, r: 8, p: 1)

        /// Parameters accepted from a stored hash; anything larger is refused rather than computed, so a
        /// damaged record cannot make verification allocate gigabytes.
        var isAcceptable: Bool { (1...20).contains(logN) && (1...32).contains(r) && (1...16).contains(p) }

        var memoryBytes: UInt64 { 128 * UInt64(r) * (UInt64(1) << UInt64(logN)) * UInt64(p) + 128 * UInt64(r) * UInt64(p) + (1 << 20) }
    }

    /// The cost used for new hashes.
    public var parameters: Parameters

    public init(parameters: Parameters = .standard) { self.parameters = parameters }

    static let saltLength = 16
    static let hashLength = 32

    /// Hashes `password` with a fresh random salt. Slow by design; never call on an event loop.
    @available(*, noasync, message: "scrypt blocks for tens of milliseconds; run it on a thread pool")
    public func hash(password: String) throws(LedgerError) -> String {
        let salt = try SecureRandom.bytes(Self.saltLength)
        let derived = try Self.derive(password: password, salt: salt, parameters: parameters)
        let p = parameters
        return "$scrypt$ln=\(p.logN),r=\(p.r),p=\(p.p)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `password` matches `stored` (a string from `hash(password:)`); false for malformed hashes.
    /// Runs in time independent of where the digests differ.
    @available(*, noasync, message: "scrypt blocks for tens of milliseconds; run it on a thread pool")
    public static func verify(password: String, against stored: String) -> Bool {
        guard let parsed = parse(stored),
              let derived = try? derive(password: password, salt: parsed.salt, parameters: parsed.parameters),
              derived.count == parsed.hash.count
        else { return false }
        return derived.withUnsafeBytes { a in
            parsed.hash.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// A syntactically valid hash of a random password, for spending the same time on unknown users.
    static let decoy = "$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    static func parse(_ stored: String) -> (parameters: Parameters, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [Substring: Int] = [:]
        for item in parts[2].split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let number = Int(kv[1]) else { return nil }
            values[kv[0]] = number
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"] else { return nil }
        let parameters = Parameters(logN: logN, r: r, p: p)
        guard parameters.isAcceptable,
              let salt = Data(base64Encoded: String(parts[3])), let hash = Data(base64Encoded: String(parts[4])),
              !salt.isEmpty, hash.count == hashLength
        else { return nil }
        return (parameters, Array(salt), Array(hash))
    }

    static func derive(password: String, salt: [UInt8], parameters: Parameters) throws(LedgerError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: hashLength)
        var pass = Array(password.utf8)
        defer { for i in pass.indices { pass[i] = 0 } }
        let status = pass.withUnsafeBufferPointer { passBytes in
            salt.withUnsafeBufferPointer { saltBytes in
                out.withUnsafeMutableBufferPointer { outBytes in
                    passBytes.withMemoryRebound(to: CChar.self) { passChars in
                        EVP_PBE_scrypt(passChars.baseAddress, passChars.count, saltBytes.baseAddress, saltBytes.count,
                                       UInt64(1) << UInt64(parameters.logN), UInt64(parameters.r), UInt64(parameters.p),
                                       parameters.memoryBytes, outBytes.baseAddress, outBytes.count)
                    }
                }
            }
        }
        guard status == 1 else { throw LedgerError(code: .crypto, operation: "EVP_PBE_scrypt", message: "scrypt failed") }
        return out
    }
}
