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
        Self.writeHex(high, into: &buffer)
        Self.writeHex(low, into: &buffer)
    }

    private static func writeHex(_ word: UInt64, into buffer: inout ByteBuffer) {
        let digits: StaticString = "0123456789abcdef"
        var shift: UInt64 = 60
        while true {
            buffer.writeInteger(digits.utf8Start[Int((word >> shift) & 0xF)])
            if shift == 0 { break }
            shift -= 4
        }
    }

    /// The id as text, for logs and the ledger.
    var description: String {
        var buffer = ByteBuffer()
        write(into: &buffer)
        return String(buffer: buffer)
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
