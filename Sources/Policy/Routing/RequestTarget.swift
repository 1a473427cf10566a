/// Checks a request target (origin-form) before it is routed or forwarded: the path must be in
/// normal form so that what the edge routes on is exactly what the upstream will see.
public enum RequestTarget {
    /// Why a target was refused.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case notOriginForm
        case dotSegment
        case emptySegment
        case encodedSeparator
        case badPercentEncoding
        case backslash
        case fragment

        public var description: String {
            switch self {
            case .notOriginForm: return "the request target must be an absolute path (origin-form)"
            case .dotSegment: return "the path contains a '.' or '..' segment"
            case .emptySegment: return "the path contains an empty segment ('//')"
            case .encodedSeparator: return "the path contains an encoded '/', '\\' or '.'"
            case .badPercentEncoding: return "the path contains an invalid percent-encoding"
            case .backslash: return "the path contains a backslash"
            case .fragment: return "the request target contains a fragment"
            }
        }
    }

    /// Validates `target` and returns the length of its path part (before `?`), or the problem.
    public static func validate(_ target: UnsafeRawBufferPointer) -> Result<Int, Problem> {
        guard let first = target.first, first == UInt8(ascii: "/") else { return .failure(.notOriginForm) }
        var pathEnd = target.count
        var i = 0
        var segmentStart = 1
        func checkSegment(_ start: Int, _ end: Int) -> Problem? {
            let length = end - start
            if length == 0 { return end == pathEnd ? nil : .emptySegment }
            if length == 1 && target[start] == UInt8(ascii: ".") { return .dotSegment }
            if length == 2 && target[start] == UInt8(ascii: ".") && target[start + 1] == UInt8(ascii: ".") { return .dotSegment }
            return nil
        }
        while i < target.count {
            let byte = target[i]
            switch byte {
            case UInt8(ascii: "?"):
                pathEnd = i
                if let problem = checkSegment(segmentStart, i) { return .failure(problem) }
                // The query is opaque to routing; only a fragment is refused there.
                for q in (i + 1)..<max(i + 1, target.count) where target[q] == UInt8(ascii: "#") {
                    return .failure(.fragment)
                }
                return .success(pathEnd)
            case UInt8(ascii: "#"):
                return .failure(.fragment)
            case UInt8(ascii: "\\"):
                return .failure(.backslash)
            case UInt8(ascii: "/") where i > 0:
                if let problem = checkSegment(segmentStart, i) { return .failure(problem) }
                segmentStart = i + 1
            case UInt8(ascii: "%"):
                guard i + 2 < target.count, let hi = hexValue(target[i + 1]), let lo = hexValue(target[i + 2]) else {
                    return .failure(.badPercentEncoding)
                }
                let decoded = hi << 4 | lo
                if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") || decoded == UInt8(ascii: ".") || decoded == 0 {
                    return .failure(.encodedSeparator)
                }
                i += 2
            default:
                break
            }
            i += 1
        }
        if let problem = checkSegment(segmentStart, target.count) { return .failure(problem) }
        return .success(pathEnd)
    }

    @inlinable
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Convenience for tests and tools.
    public static func validate(_ target: String) -> Result<Int, Problem> {
        var t = target
        return t.withUTF8 { validate(UnsafeRawBufferPointer($0)) }
    }
}
