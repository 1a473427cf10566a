public import Policy

/// Maps the filter names routes use in the policy to filter instances: the built-ins plus any an
/// embedding program registers (Kong's plugins, as values).
public struct FilterRegistry: Sendable {
    private var filters: [String: any EdgeFilter]

    /// The built-in filters: `cors`, `authenticate`, `rate_limit`, `meter`, `protect`, `security_headers`.
    public static var builtIn: FilterRegistry {
        var registry = FilterRegistry(filters: [:])
        registry.register("cors", CORSFilter())
        registry.register("authenticate", AuthenticationFilter())
        registry.register("rate_limit", RateLimitFilter())
        registry.register("protect", ProtectFilter())
        registry.register("security_headers", SecurityHeadersFilter())
        registry.register("meter", MeteringFilter())
        return registry
    }

    private init(filters: [String: any EdgeFilter]) { self.filters = filters }

    /// Adds (or replaces) a filter under `name`, for routes to list in their `filters:`.
    public mutating func register(_ name: String, _ filter: any EdgeFilter) {
        filters[name] = filter
    }

    public func filter(named name: String) -> (any EdgeFilter)? { filters[name] }

    /// Every route's chain, resolved; names the first route that lists an unknown filter.
    public func chains(for routes: RouteTable) throws(PolicyError) -> [String: [any EdgeFilter]] {
        var chains: [String: [any EdgeFilter]] = [:]
        for (index, route) in routes.routes.enumerated() where !route.filters.isEmpty {
            var chain: [any EdgeFilter] = []
            for (position, name) in route.filters.enumerated() {
                guard let filter = filters[name] else {
                    throw PolicyError(keyPath: "routes[\(index)].filters[\(position)]",
                                      reason: "unknown filter '\(name)' (known: \(filters.keys.sorted().joined(separator: ", ")))")
                }
                chain.append(filter)
            }
            chains[route.id] = chain
        }
        return chains
    }
}
