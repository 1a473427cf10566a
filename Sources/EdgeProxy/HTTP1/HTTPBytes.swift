/// Byte classes of RFC 9110/9112 used by the strict head parser, as 256-entry lookup tables.
enum HTTPBytes {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    static let isTokenTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for c in "!#$%&'*+-.^_`|~".utf8 { table[Int(c)] = true }
        return table
    }()

    /// field-vchar / SP / HTAB (obs-text allowed); excludes every other control character and DEL.
    static let isFieldValueTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in 0x21...0x7E { table[b] = true }
        for b in 0x80...0xFF { table[b] = true }
        table[Int(sp)] = true
        table[Int(htab)] = true
        return table
    }()

    /// Visible ASCII allowed in a request target (RFC 3986 characters; no spaces, controls or non-ASCII).
    static let isTargetTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in 0x21...0x7E { table[b] = true }
        for c in "\"<>\\^`{|}".utf8 { table[Int(c)] = false }
        return table
    }()

    /// reg-name / IPv4 characters plus ':' for a port (bracketed IPv6 is checked separately).
    static let isHostTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for c in "-._~!$&'()*+,;=%".utf8 { table[Int(c)] = true }
        return table
    }()

    @inline(__always) static func isToken(_ b: UInt8) -> Bool { isTokenTable[Int(b)] }
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool { isFieldValueTable[Int(b)] }

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
