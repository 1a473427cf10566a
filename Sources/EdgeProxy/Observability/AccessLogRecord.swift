public import Foundation
import Policy

/// One access-log line: what happened to one exchange, with only fields that are safe to retain.
///
/// There is deliberately no field for request or response headers, cookies, `Authorization`, API keys,
/// passwords, bodies or the query string (queries can carry secrets): `path` is cut at the first `?` (or `#`)
/// by the initializer. `jsonLine()` writes every member, in declaration order, `null` when absent, so the
/// schema is the same on every line.
public struct AccessLogRecord: Sendable, Equatable {
    /// How the exchange ended, as the `outcome` member. Extensible: new values need no new cases.
    public struct Outcome: RawRepresentable, Sendable, Hashable {
        /// The `outcome` member's text (snake_case).
        public var rawValue: String

        /// An outcome with the given text; prefer the named values below.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The upstream answered and its response was relayed.
        public static let forwarded = Outcome(rawValue: "forwarded")
        /// The edge answered itself (auth, billing, rate limit, CORS preflight, errors it detected).
        public static let local = Outcome(rawValue: "local")
        /// The upstream could not be reached or failed mid-exchange (502/504).
        public static let upstreamFailed = Outcome(rawValue: "upstream_failed")
        /// The client went away before the response was complete.
        public static let clientGone = Outcome(rawValue: "client_gone")
    }

    /// When the exchange finished (written as RFC 3339 UTC with milliseconds).
    public let time: Date
    /// The exchange's request id (also sent as `X-Request-Id`).
    public let requestId: String
    /// The request method as received.
    public let method: String
    /// The matched route's id from the policy; nil when no route matched.
    public let route: String?
    /// The request path without query string or fragment.
    public let path: String
    /// The status the client received (0 if none was sent).
    public let status: Int
    /// Request body bytes received from the client.
    public let bytesIn: Int64
    /// Response body bytes written to the client.
    public let bytesOut: Int64
    /// Milliseconds from the request head to the end of the exchange.
    public let edgeMs: Double
    /// Milliseconds from sending the request upstream to the upstream response's end; nil if not forwarded.
    public let upstreamMs: Double?
    /// The authenticated user's id; nil for anonymous requests.
    public let userId: String?
    /// Tokens charged for the exchange; nil when it was not metered.
    public let tokensCharged: Int64?
    /// The priced operation; nil when it was not metered.
    public let operation: String?
    /// The client's IP address.
    public let client: String
    /// How the exchange ended.
    public let outcome: Outcome

    /// - Parameters:
    ///   - path: The request target or path; everything from the first `?` or `#` is dropped.
    ///   - time: Defaults to now.
    public init(
        time: Date = Date(), requestId: String, method: String, route: String?, path: String, status: Int,
        bytesIn: Int64, bytesOut: Int64, edgeMs: Double, upstreamMs: Double? = nil, userId: String? = nil,
        tokensCharged: Int64? = nil, operation: String? = nil, client: String, outcome: Outcome
    ) {
        self.time = time
        self.requestId = requestId
        self.method = method
        self.route = route
        self.path = Self.pathWithoutQuery(path)
        self.status = status
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.edgeMs = edgeMs
        self.upstreamMs = upstreamMs
        self.userId = userId
        self.tokensCharged = tokensCharged
        self.operation = operation
        self.client = client
        self.outcome = outcome
    }

    /// `target` up to (not including) its first `?` or `#`.
    public static func pathWithoutQuery(_ target: String) -> String {
        guard let cut = target.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else {
            return target
        }
        return String(target[..<cut])
    }

    /// The record as one compact JSON object (no trailing newline), members in a fixed order:
    /// `time, requestId, method, route, path, status, bytesIn, bytesOut, edgeMs, upstreamMs, userId,
    /// tokensCharged, operation, client, outcome`.
    public func jsonLine() -> String {
        var json = JSONObjectWriter(capacity: 384)
        json.raw("time") { bytes in
            bytes.append(UInt8(ascii: "\""))
            Self.appendTimestamp(time, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        json.string("requestId", requestId)
        json.string("method", method)
        json.string("route", route)
        json.string("path", path)
        json.integer("status", Int64(status))
        json.integer("bytesIn", bytesIn)
        json.integer("bytesOut", bytesOut)
        json.fixed3("edgeMs", edgeMs)
        json.fixed3("upstreamMs", upstreamMs)
        json.string("userId", userId)
        json.integer("tokensCharged", tokensCharged)
        json.string("operation", operation)
        json.string("client", client)
        json.string("outcome", outcome.rawValue)
        return json.finish()
    }

    /// Appends `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated) without a `DateFormatter`.
    static func appendTimestamp(_ date: Date, to bytes: inout [UInt8]) {
        let seconds = date.timeIntervalSince1970
        // Years 0001...9999 keep the four-digit form RFC 3339 requires.
        let clamped = seconds.isFinite ? min(max(seconds, -62_135_596_800), 253_402_300_799.999) : 0
        // Round to the microsecond first, so a value like 1.001 stored as 1.000999… still reads .001.
        let microseconds = Int64((clamped * 1_000_000).rounded())
        let milliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let millisecondOfDay = milliseconds - days * 86_400_000
        let (year, month, day) = PlanCalendar.civil(fromDays: days)

        appendDigits(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(millisecondOfDay / 3_600_000, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 60_000 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 1000 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millisecondOfDay % 1000, width: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Appends the decimal digits of a non-negative `value`, zero-padded to `width`.
    private static func appendDigits(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        var count = 1
        while divisor <= value / 10 {
            divisor *= 10
            count += 1
        }
        if count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - count)) }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
