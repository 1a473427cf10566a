/// A SHA-256 digest held inline (32 bytes, no heap allocation); `Hashable`, so it can key per-loop caches.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    // Four words rather than [UInt8] keep the value on the stack and make hashing/equality cheap.
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// Reads a digest from exactly 32 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        self.words = words
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    /// Lowercase hexadecimal, 64 characters.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        withUnsafeBytes(of: words) { raw in
            for byte in raw {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Only the first 8 hex digits: digests of secrets are not secrets, but there is no need to print them whole.
    public var description: String { "sha256:" + hex.prefix(8) + "…" }

    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension SHA256Digest: LMDBKey {
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        try withUnsafeBytes(of: words) { (bytes) throws(LedgerError) -> Result in try body(bytes) }
    }
}
