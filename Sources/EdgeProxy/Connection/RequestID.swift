import NIOCore

/// The exchange's `X-Request-Id`: the client's own when it is sane, else 128 random bits in hex.
struct RequestID {
    /// A client-supplied id: 1…128 bytes of [A-Za-z0-9._:-], kept as a slice of the head.
    private var clientSupplied: ByteBuffer?
    private var high: UInt64 = 0
    private var low: UInt64 = 0

    init() {}

    init(generatedWith generator: inout RequestIDGenerator) {
        (high, low) = generator.next()
    }

    /// Uses the client's id if it is sane, else generates one.
    init(clientValue: ByteBuffer?, generator: inout RequestIDGenerator) {
        if let value = clientValue, Self.isSane(value) {
            clientSupplied = value
        } else {
            (high, low) = generator.next()
        }
    }

    static func isSane(_ value: ByteBuffer) -> Bool {
        let count = value.readableBytes
        guard count >= 1, count <= 128 else { return false }
        return value.withUnsafeReadableBytes { b in
            b.allSatisfy { c in
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: ":")
            }
        }
    }

    /// Appends the id's text to `buffer`.
    func write(into buffer: inout ByteBuffer) {
        if var supplied = clientSupplied {
            buffer.writeBuffer(&supplied)
            return
        }
        withGeneratedText { (text) -> Void in buffer.writeBytes(text) }
    }

    /// Calls `body` with the 32 hex digits of a generated id, formatted on the stack (one write
    /// into the caller's buffer instead of one per digit).
    private func withGeneratedText<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &text) { out in
            Self.writeHex(high, into: out, at: 0)
            Self.writeHex(low, into: out, at: 16)
            return body(UnsafeRawBufferPointer(out))
        }
    }

    private static func writeHex(_ word: UInt64, into out: UnsafeMutableRawBufferPointer, at offset: Int) {
        var rest = word
        for i in stride(from: offset + 15, through: offset, by: -1) {
            let digit = UInt8(truncatingIfNeeded: rest & 0xF)
            out[i] = digit < 10 ? digit &+ UInt8(ascii: "0") : digit &+ (UInt8(ascii: "a") &- 10)
            rest >>= 4
        }
    }

    /// The id as text, for logs and the ledger.
    var description: String {
        if let supplied = clientSupplied { return String(buffer: supplied) }
        return withGeneratedText { String(decoding: $0, as: UTF8.self) }
    }
}

/// A fast per-connection generator for request ids (xoshiro256**, seeded from the system RNG).
/// Ids must be unique, not secret, so a non-cryptographic generator is enough.
struct RequestIDGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        s0 = system.next(); s1 = system.next(); s2 = system.next(); s3 = system.next() | 1
    }

    mutating func next() -> (UInt64, UInt64) { (nextWord(), nextWord()) }

    private mutating func nextWord() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
