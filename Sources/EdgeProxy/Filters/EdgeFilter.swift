public import NIOCore
import Policy

/// One step of a route's filter chain (Pingora's phases, Envoy's continue/stop contract).
///
/// Hooks run on the exchange's event loop and must not block: request hooks in chain order,
/// `responseHead` in reverse order, `exchangeCompleted` exactly once at the end. Every hook has a
/// default that continues, so a filter implements only the phases it cares about. Routes name their
/// filters in the policy (`filters: [authenticate, meter]`); `FilterRegistry` maps names to filters.
public protocol EdgeFilter: Sendable {
    /// Once per exchange, after the head is parsed and routed, before any upstream work.
    /// Return `.holdBody(maxBytes:)` to see the whole (small) body in `requestBody` first.
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision
    /// Once, with the whole request body, only when some filter asked to hold it.
    func requestBody(_ body: ByteBuffer, _ exchange: inout ExchangeContext) -> FilterDecision
    /// Once, when the upstream's final response head arrives (in reverse chain order). Headers
    /// added to `exchange.responseHeaders` are sent to the client. Suspending here delays the whole
    /// response (head and body; upstream reads pause) until the future resolves: nothing reaches the
    /// client before it does. `.respond` replaces the upstream's answer.
    func responseHead(status: Int, _ exchange: inout ExchangeContext) -> FilterDecision
    /// Exactly once and last, whatever happened: success, local reply, upstream failure, client gone.
    func exchangeCompleted(_ outcome: ExchangeOutcome, _ exchange: inout ExchangeContext)
}

extension EdgeFilter {
    public func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision { .continue }
    public func requestBody(_ body: ByteBuffer, _ exchange: inout ExchangeContext) -> FilterDecision { .continue }
    public func responseHead(status: Int, _ exchange: inout ExchangeContext) -> FilterDecision { .continue }
    public func exchangeCompleted(_ outcome: ExchangeOutcome, _ exchange: inout ExchangeContext) {}
}

/// What a hook tells the runner to do next.
public enum FilterDecision {
    /// Hand over to the next filter (or, after the last, to the upstream).
    case `continue`
    /// Stop the chain and answer locally; nothing is forwarded (or the upstream answer is replaced).
    /// The reply also carries every line filters added to `exchange.responseHeaders` so far, so
    /// filters that decorate responses (cors, rate_limit, security_headers) run before the ones
    /// that may answer, and their headers reach local replies too.
    case respond(EdgeReply)
    /// Stop reading from the client (nothing is buffered) and resume exactly once when the future
    /// completes on this event loop. The runner owns the resumption: a filter can neither forget
    /// to resume nor resume twice. Closing the connection does not cancel the future; its result
    /// still reaches `exchangeCompleted`'s bookkeeping.
    case suspend(EventLoopFuture<FilterResolution>)
    /// `requestHead` only: hold the whole request body (up to `maxBytes`; beyond → 413) and call
    /// `requestBody` with it before anything is forwarded. Holding is for small bodies that decide
    /// the exchange (a generation's JSON); uploads must stream.
    case holdBody(maxBytes: Int)
}

/// The outcome of a suspended hook.
public enum FilterResolution: Sendable {
    case `continue`
    /// Continue after applying `update` to the exchange, on its event loop (e.g. record a hold).
    case continueAfter(@Sendable (inout ExchangeContext) -> Void)
    case respond(EdgeReply)
}

/// A reply the edge writes itself: the JSON error shape SDKs parse, with optional details.
public struct EdgeReply: Sendable {
    public var status: Int
    public var code: String
    public var message: String
    /// Extra members of `error` (e.g. `required`, `balance`).
    public var details: [(String, EdgeReplyDetail)]
    public var headers: [(String, String)]

    public init(status: Int, code: String, message: String, details: [(String, EdgeReplyDetail)] = [], headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }
}

/// A number or string detail of an `EdgeReply`.
public enum EdgeReplyDetail: Sendable {
    case int(Int64)
    case string(String)
}

/// Complete `Name: value\r\n` lines a response filter adds to the client's response head.
public struct ResponseHeaderLines {
    var buffer: ByteBuffer?
    /// One bit per added name (`nameBit`): a name whose bit is clear is not among the lines, so
    /// the response rewriter skips scanning them for it.
    private(set) var names: UInt64 = 0

    /// The summary bit of a header name, from its first byte (letter case folded) and its length.
    @inline(__always) static func nameBit(first: UInt8, count: Int) -> UInt64 {
        1 << UInt64((Int(first | 0x20) &+ count) & 63)
    }

    /// Room for the usual lines (Vary, CORS, RateLimit-*, X-Tokens-*) without growing.
    static let initialCapacity = 512

    init() {}

    /// Appends one header. Names and values must not contain CR or LF (they are dropped if they do).
    public mutating func add(_ name: String, _ value: String) {
        guard !name.utf8.contains(where: { $0 == 13 || $0 == 10 }), !value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return }
        if buffer == nil { buffer = ByteBufferAllocator().buffer(capacity: Self.initialCapacity) }
        names |= Self.nameBit(first: name.utf8.first ?? 0, count: name.utf8.count)
        buffer!.writeString(name)
        buffer!.writeStaticString(": ")
        buffer!.writeString(value)
        buffer!.writeStaticString("\r\n")
    }

    /// Appends lines encoded earlier (e.g. the policy's security headers, encoded once per loop).
    public mutating func append(_ lines: ResponseHeaderLines) {
        guard var other = lines.buffer else { return }
        names |= lines.names
        if buffer == nil {
            buffer = other
        } else {
            buffer!.writeBuffer(&other)
        }
    }

    /// Appends an integer-valued header without formatting through String.
    public mutating func add(_ name: StaticString, _ value: Int64) {
        if buffer == nil { buffer = ByteBufferAllocator().buffer(capacity: Self.initialCapacity) }
        names |= Self.nameBit(first: name.utf8CodeUnitCount > 0 ? name.utf8Start[0] : 0, count: name.utf8CodeUnitCount)
        // The value's digits are formatted on the stack, then ": <digits>\r\n" goes in one write.
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { d in
            var at = d.count
            d[at - 1] = HTTPBytes.lf
            d[at - 2] = HTTPBytes.cr
            at -= 2
            var rest = value.magnitude
            repeat {
                at -= 1
                d[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            if value < 0 {
                at -= 1
                d[at] = UInt8(ascii: "-")
            }
            d[at - 1] = HTTPBytes.sp
            d[at - 2] = HTTPBytes.colon
            buffer!.writeStaticString(name)
            buffer!.writeBytes(UnsafeRawBufferPointer(rebasing: d[(at - 2)...]))
        }
    }
}

/// How an exchange ended, for `exchangeCompleted`.
public enum ExchangeOutcome: Sendable, Equatable {
    /// The upstream answered with this status (the response may still have been cut short).
    case upstreamResponded(status: Int)
    /// The edge answered locally with this status; the upstream may never have been contacted.
    case answeredLocally(status: Int)
    /// The upstream failed before a response head (connect, TLS, reset, timeout).
    case upstreamFailed
    /// The client went away before the upstream's answer decided anything.
    case clientGone
}
