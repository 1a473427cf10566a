/// Byte classes of RFC 9110/9112 used by the strict head parser.
enum HTTPBytes {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    // Byte classes as 128-bit masks over ASCII (bit b of `low` for b < 64, bit b−64 of `high`):
    // constants, so a lookup is a shift and a test — no lazily initialised global, no array.
    // HTTPBytesTests checks each against its definition.

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    @inline(__always) static func isToken(_ b: UInt8) -> Bool { inMask(b, 0x03FF_6CFA_0000_0000, 0x57FF_FFFF_C7FF_FFFE) }

    /// field-vchar / SP / HTAB (obs-text allowed); excludes every other control character and DEL.
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool { (b >= 0x21 && b != 0x7F) || b == sp || b == htab }

    /// Visible ASCII allowed in a request target (RFC 3986 characters; no spaces, controls or non-ASCII):
    /// 0x21...0x7E except `"<>\^`{|}`.
    @inline(__always) static func isTarget(_ b: UInt8) -> Bool { inMask(b, 0xAFFF_FFFA_0000_0000, 0x47FF_FFFE_AFFF_FFFF) }

    /// reg-name / IPv4 characters plus ':' for a port (bracketed IPv6 is checked separately):
    /// ALPHA / DIGIT / "-._~!$&'()*+,;=%".
    @inline(__always) static func isHost(_ b: UInt8) -> Bool { inMask(b, 0x2BFF_7FF2_0000_0000, 0x47FF_FFFE_87FF_FFFE) }

    @inline(__always) private static func inMask(_ b: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
        if b < 64 { return (low >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (high >> UInt64(b &- 64)) & 1 != 0 }
        return false
    }

    /// ASCII case-insensitive comparison of `bytes[range]` with a lower-case literal.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ literal: StaticString) -> Bool {
        let count = end - start
        guard count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        var i = 0
        while i < count {
            if bytes[start + i] | 0x20 != lit[i] | 0x20 { return false }
            // `| 0x20` folds letters; make sure it didn't fold a non-letter into a match.
            if bytes[start + i] != lit[i] && !isLetter(lit[i]) { return false }
            i += 1
        }
        return true
    }

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }

    /// True when `bytes[start..<end]` starts with the lower-case `prefix`, ignoring ASCII case.
    @inline(__always)
    static func hasLowercasePrefix(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard end - start >= n else { return false }
        return equalsLowercase(bytes, start, start + n, prefix)
    }

    /// Parses a non-empty run of ASCII digits as a non-negative Int64; nil on any other byte or overflow.
    static func parseDecimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int64? {
        guard end > start, end - start <= 18 else { return nil }
        var value: Int64 = 0
        for i in start..<end {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            value = value * 10 + Int64(d)
        }
        return value
    }
}
