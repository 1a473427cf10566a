/// The outcome of looking a request up in the route table.
public enum RouteDecision: Sendable {
    /// The route that takes the request.
    case matched(Route)
    /// A route names this path, but not this method; `allowed` lists the methods it takes.
    case methodNotAllowed(allowed: [String])
    /// `OPTIONS` on a path whose route does not take `OPTIONS` but answers CORS preflights (its
    /// chain starts with `cors`). When the request really is a preflight (`Origin` and
    /// `Access-Control-Request-Method`), the handler runs the chain, whose `cors` filter answers it;
    /// otherwise it is `methodNotAllowed(allowed:)`.
    case preflight(Route, allowed: [String])
    /// No route takes the path.
    case notFound
}

/// The compiled, ordered route table: exact paths first, then prefixes in file order.
public struct RouteTable: Sendable {
    public let routes: [Route]
    private let exactRoutes: [Route]
    private let prefixRoutes: [Route]

    public init(_ routes: [Route]) {
        self.routes = routes
        self.exactRoutes = routes.filter { if case .exact = $0.path { return true } else { return false } }
        self.prefixRoutes = routes.filter { if case .prefix = $0.path { return true } else { return false } }
    }

    /// Looks up a request by its method and path bytes (path without the query). Allocation-free on a match.
    public func decide(method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) -> RouteDecision {
        var pathMatchedWrongMethod: [String]? = nil
        var preflightRoute: Route? = nil
        // By index: `for route in` would copy every Route (and retain its fields) just to compare a path.
        for index in exactRoutes.indices {
            guard Self.bytes(exactRoutes[index].pathBytes, equal: path, count: path.count) else { continue }
            let route = exactRoutes[index]
            if route.accepts(method: method) { return .matched(route) }
            pathMatchedWrongMethod = (pathMatchedWrongMethod ?? []) + (route.methods ?? [])
            if preflightRoute == nil, route.preflight == .answeredByCORSFilter, Self.isOptions(method) { preflightRoute = route }
        }
        if let allowed = pathMatchedWrongMethod {
            if let preflightRoute { return .preflight(preflightRoute, allowed: allowed) }
            return .methodNotAllowed(allowed: allowed)
        }
        for index in prefixRoutes.indices {
            let prefixCount = prefixRoutes[index].pathBytes.count
            guard prefixCount <= path.count, Self.bytes(prefixRoutes[index].pathBytes, equal: path, count: prefixCount) else { continue }
            let route = prefixRoutes[index]
            if route.accepts(method: method) { return .matched(route) }
            if route.preflight == .answeredByCORSFilter, Self.isOptions(method) { return .preflight(route, allowed: route.methods ?? []) }
            return .methodNotAllowed(allowed: route.methods ?? [])
        }
        return .notFound
    }

    /// Whether `bytes` has exactly `count` bytes and they equal the first `count` of `other`.
    @inline(__always)
    static func bytes(_ bytes: [UInt8], equal other: UnsafeRawBufferPointer, count: Int) -> Bool {
        guard bytes.count == count, other.count >= count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i < count, b[i] == other[i] { i += 1 }
            return i == count
        }
    }

    static func isOptions(_ method: UnsafeRawBufferPointer) -> Bool {
        method.elementsEqual("OPTIONS".utf8)
    }

    /// Convenience for tests and tools.
    public func decide(method: String, path: String) -> RouteDecision {
        var m = method, p = path
        return m.withUTF8 { mb in p.withUTF8 { pb in decide(method: UnsafeRawBufferPointer(mb), path: UnsafeRawBufferPointer(pb)) } }
    }

    /// The route with this id, if any.
    public func route(id: String) -> Route? { routes.first { $0.id == id } }
}
