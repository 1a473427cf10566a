public import NIOCore
public import Policy

/// An endpoint the edge answers itself — the portal's JSON APIs, its pages and assets. Routes name
/// one with `handler:` in the policy; it runs after the route's filters (cors, authenticate,
/// rate_limit …), so `exchange.principal` is set when the route lists `authenticate`.
///
/// `respond` runs on the exchange's event loop and must not block: reads of the ledger through
/// `exchange.services.reader` are inline (microseconds); writes go through the ledger's group-commit
/// writer and blocking work (scrypt) through `exchange.services.blockingPool`, answered `.later`.
public protocol LocalHandler: Sendable {
    /// The largest request body the handler reads whole (0: none is read; a body is dropped).
    /// Larger bodies are refused with 413 before the handler runs.
    var maxBodyBytes: Int { get }
    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer
}

/// A local handler's answer: now, or once a future (a ledger write, a password check) completes.
public enum LocalAnswer {
    case now(LocalResponse)
    case later(EventLoopFuture<LocalResponse>)
}

/// The request as a local handler sees it: the head, the parsed query and the whole (bounded) body.
public struct LocalRequest {
    public let head: EdgeRequest
    public let body: ByteBuffer
    /// The method, upper case.
    public let method: String
    /// The path without the query.
    public let path: String
    /// Query parameters, percent-decoded (`+` is a space); the first value wins.
    public let query: [String: String]

    init(head: EdgeRequest, body: ByteBuffer) {
        self.head = head
        self.body = body
        self.method = head.method
        self.path = head.path
        self.query = Self.parseQuery(head.query)
    }

    /// Parses `a=1&b=two%20words`; malformed escapes are kept literally.
    static func parseQuery(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(parts[0])
            guard result[name] == nil else { continue }
            result[name] = parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return result
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let high = hexValue(iterator[iterator.startIndex]), let low = hexValue(iterator[iterator.startIndex + 1]) {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Maps the handler names routes use in the policy to handlers: the portal's built-ins plus any an
/// embedding program registers.
public struct LocalHandlerRegistry: Sendable {
    private var handlers: [String: any LocalHandler]

    /// An empty registry (for embedding programs that bring all their own handlers).
    public static var empty: LocalHandlerRegistry { LocalHandlerRegistry(handlers: [:]) }

    init(handlers: [String: any LocalHandler]) { self.handlers = handlers }

    /// Adds (or replaces) a handler under `name`, for routes to name with `handler:`.
    public mutating func register(_ name: String, _ handler: any LocalHandler) {
        handlers[name] = handler
    }

    public func handler(named name: String) -> (any LocalHandler)? { handlers[name] }

    /// Every local route's handler, by route id; names the first route with an unknown handler.
    public func resolve(for routes: RouteTable) throws(PolicyError) -> [String: any LocalHandler] {
        var resolved: [String: any LocalHandler] = [:]
        for (index, route) in routes.routes.enumerated() {
            guard case .local(let name) = route.action else { continue }
            guard let handler = handlers[name] else {
                throw PolicyError(keyPath: "routes[\(index)].handler",
                                  reason: "unknown handler '\(name)' (known: \(handlers.keys.sorted().joined(separator: ", ")))")
            }
            resolved[route.id] = handler
        }
        return resolved
    }
}
