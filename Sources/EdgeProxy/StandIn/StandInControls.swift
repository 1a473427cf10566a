internal import NIOHTTP1

/// The `X-StandIn-*` request headers by which a test steers one answer of the stand-in.
///
/// - `X-StandIn-Status: NNN` — answer NNN after consuming the body: 3xx/4xx/5xx with a Recraft-style
///   JSON error, 2xx with the route's normal body (204/304 with none).
/// - `X-StandIn-Delay-Ms: N` — wait N ms (after the body) before writing the response head.
/// - `X-StandIn-Reset: 1` — close the connection, answering nothing, as soon as the head arrives.
/// - `X-StandIn-Body-Delay-Ms: N` — trickle the body: wait N ms before each piece (the first included).
/// - `X-StandIn-Body-Piece-Bytes: N` — piece size while trickling (default 16) or streaming (default 64 KiB).
/// - `X-StandIn-Close: 1` — answer normally with `Connection: close`, then close.
/// - `X-StandIn-Response-Header: Name: value` (repeatable) — add this header to the answer.
struct StandInControls {
    /// Status forced by `X-StandIn-Status`.
    var status: Int?
    /// Milliseconds to wait before the response head.
    var headDelayMilliseconds = 0
    /// Milliseconds to wait before each body piece; `nil` streams the body as fast as the socket takes it.
    var bodyDelayMilliseconds: Int?
    /// Explicit piece size for the body.
    var pieceBytes: Int?
    /// Close without answering once the head arrives.
    var reset = false
    /// Close after answering.
    var close = false
    /// Extra response headers asked for with `X-StandIn-Response-Header`.
    var responseHeaders: [(String, String)] = []
    /// Why a control header was refused (→ 400), if one was.
    var problem: String?

    /// Longest delay a control header may ask for (10 minutes).
    static let maximumDelayMilliseconds = 600_000

    init(headers: HTTPHeaders) {
        guard headers.contains(where: { Self.isControlName($0.name) }) else { return }
        if let value = headers.first(name: "x-standin-status") {
            if let code = Int(value.trimmed), (200...599).contains(code) {
                status = code
            } else {
                problem = "X-StandIn-Status must be a status code from 200 to 599, got '\(value)'"
            }
        }
        if let value = headers.first(name: "x-standin-delay-ms") {
            headDelayMilliseconds = parseDelay(value, name: "X-StandIn-Delay-Ms") ?? 0
        }
        if let value = headers.first(name: "x-standin-body-delay-ms") {
            bodyDelayMilliseconds = parseDelay(value, name: "X-StandIn-Body-Delay-Ms")
        }
        if let value = headers.first(name: "x-standin-body-piece-bytes") {
            if let bytes = Int(value.trimmed), bytes > 0 {
                pieceBytes = min(bytes, 1 << 20)
            } else {
                problem = "X-StandIn-Body-Piece-Bytes must be a positive integer, got '\(value)'"
            }
        }
        for value in headers[canonicalForm: "x-standin-response-header"] {
            let parts = value.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                problem = "X-StandIn-Response-Header must be 'Name: value', got '\(value)'"
                continue
            }
            responseHeaders.append((String(parts[0]), String(String(parts[1]).trimmed)))
        }
        reset = Self.isSet(headers.first(name: "x-standin-reset"))
        close = Self.isSet(headers.first(name: "x-standin-close"))
    }

    private mutating func parseDelay(_ value: String, name: String) -> Int? {
        guard let milliseconds = Int(value.trimmed), (0...Self.maximumDelayMilliseconds).contains(milliseconds) else {
            problem = "\(name) must be milliseconds from 0 to \(Self.maximumDelayMilliseconds), got '\(value)'"
            return nil
        }
        return milliseconds
    }

    /// Whether `name` starts with `x-standin-`, ignoring ASCII case, without allocating.
    private static func isControlName(_ name: String) -> Bool {
        var characters = name.utf8.makeIterator()
        for expected in "x-standin-".utf8 {
            guard let byte = characters.next(), byte | 0x20 == expected else { return false }
        }
        return true
    }

    private static func isSet(_ value: String?) -> Bool {
        guard let value = value?.trimmed.lowercased() else { return false }
        return value == "1" || value == "true" || value == "yes"
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate var trimmed: Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
