internal import COpenSSL

/// Cryptographically secure random bytes and tokens from libcrypto's `RAND_bytes`.
public enum SecureRandom {
    /// The 62 characters secrets are spelled with: no punctuation, so a token survives copy-paste,
    /// shells, headers and cookies unquoted.
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` random bytes.
    public static func bytes(_ count: Int) throws(LedgerError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBytes { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32($0.count)) }
        guard status == 1 else { throw LedgerError(code: .crypto, operation: "RAND_bytes", message: "the random generator failed") }
        return out
    }

    /// A random string of `length` characters from the base-62 alphabet (≈5.95 bits each), drawn by
    /// rejection sampling so every character is uniform.
    public static func token(length: Int) throws(LedgerError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while out.count < length {
            for byte in try bytes(length + 8) where byte < 248 && out.count < length {
                out.append(alphabet[Int(byte % 62)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` random bytes as lowercase hexadecimal.
    public static func hex(bytes count: Int) throws(LedgerError) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in try bytes(count) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
