/// One row of the policy's route table: which requests it takes and what happens to them.
public struct Route: Sendable {
    /// How the route's path is compared with the request's (query excluded).
    public enum PathMatch: Sendable, Equatable {
        case exact(String)
        case prefix(String)
    }

    /// What the edge does with a matched request.
    public enum Action: Sendable, Equatable {
        /// Forward to the named upstream; `upstreamPath` replaces the matched path when set.
        case forward(upstream: String, upstreamPath: String?)
        /// Answer locally with a JSON error; nothing is forwarded.
        case respond(status: Int, code: String, message: String)
        /// Answer at the edge with the named local handler (the portal's APIs and pages); never forwarded.
        case local(handler: String)
    }

    public var id: String
    /// Accepted methods, upper case; nil accepts any.
    public var methods: [String]?
    public var path: PathMatch
    public var action: Action
    /// The priced operation (`generation` means: classify from the body), or nil for unmetered routes.
    public var operation: String?
    /// Request body limit for this route → 413 beyond it.
    public var maxBodyBytes: Int64
    /// Names of the filters that run for this route, in order (see `FilterRegistry` in EdgeProxy).
    public var filters: [String]
    /// The `rate_limit` filter's bucket class for this route (`default` unless the policy names one).
    public var rateLimitClass: String

    /// Raw bytes of `methods` and the path, kept for byte-level matching on the hot path.
    let methodBytes: [[UInt8]]?
    let pathBytes: [UInt8]
    /// The forwarded path's bytes when the route rewrites it (so the hot path copies, never encodes).
    public let upstreamPathBytes: [UInt8]?

    public init(
        id: String, methods: [String]?, path: PathMatch, action: Action,
        operation: String?, maxBodyBytes: Int64, filters: [String] = [], rateLimitClass: String = "default"
    ) {
        self.rateLimitClass = rateLimitClass
        self.id = id
        self.methods = methods
        self.path = path
        self.action = action
        self.operation = operation
        self.maxBodyBytes = maxBodyBytes
        self.filters = filters
        self.methodBytes = methods.map { $0.map { Array($0.utf8) } }
        switch path {
        case .exact(let p), .prefix(let p): self.pathBytes = Array(p.utf8)
        }
        if case .forward(_, let upstreamPath?) = action {
            self.upstreamPathBytes = Array(upstreamPath.utf8)
        } else {
            self.upstreamPathBytes = nil
        }
    }

    /// How the route treats a CORS preflight (`OPTIONS`) when `methods` does not list `OPTIONS`.
    public var preflight: PreflightHandling {
        filters.first == "cors" ? .answeredByCORSFilter : .methodNotAllowed
    }

    func accepts(method: UnsafeRawBufferPointer) -> Bool {
        guard let methodBytes else { return true }
        for candidate in methodBytes where RouteTable.bytes(candidate, equal: method, count: method.count) { return true }
        return false
    }
}

/// Whether an `OPTIONS` preflight on a route's path reaches its filter chain.
public enum PreflightHandling: Sendable, Equatable {
    /// The chain starts with `cors`, which answers every preflight at the edge (never forwarded).
    case answeredByCORSFilter
    /// No `cors` filter: `OPTIONS` is just a method the route does not take (405).
    case methodNotAllowed
}
