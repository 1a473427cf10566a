extension PolicyLoader {
    /// Turns a decoded document into the validated policy, or names the first key at fault.
    static func compile(_ doc: PolicyDocument, environment: EdgeEnvironment) throws(PolicyError) -> EdgePolicy {
        guard doc.version == 1 else { throw PolicyError(keyPath: "version", reason: "must be 1 (found \(doc.version))") }

        let server = ServerSettings(
            eventLoops: try nonNegative(doc.server?.eventLoops ?? 0, "server.event_loops", max: 256),
            shutdownGraceSeconds: try positive(doc.server?.shutdownGraceSeconds ?? 20, "server.shutdown_grace_seconds"))

        let l = doc.limits
        let d = Limits.standard
        let limits = Limits(
            maxHeaderBytes: try bounded(l?.maxHeaderBytes ?? d.maxHeaderBytes, "limits.max_header_bytes", 1024...1_048_576),
            maxHeaderCount: try bounded(l?.maxHeaderCount ?? d.maxHeaderCount, "limits.max_header_count", 8...1000),
            maxBodyBytes: try positive64(l?.maxBodyBytes ?? d.maxBodyBytes, "limits.max_body_bytes"),
            maxChunkLineBytes: try bounded(l?.maxChunkLineBytes ?? d.maxChunkLineBytes, "limits.max_chunk_line_bytes", 32...65_536),
            maxTrailerBytes: try bounded(l?.maxTrailerBytes ?? d.maxTrailerBytes, "limits.max_trailer_bytes", 0...1_048_576),
            maxPipelinedBytes: try bounded(l?.maxPipelinedBytes ?? d.maxPipelinedBytes, "limits.max_pipelined_bytes", 1024...16_777_216))

        let t = doc.timeouts
        let td = Timeouts.standard
        let timeouts = Timeouts(
            headerReadSeconds: try positive(t?.headerReadSeconds ?? td.headerReadSeconds, "timeouts.header_read_seconds"),
            clientIdleSeconds: try positive(t?.clientIdleSeconds ?? td.clientIdleSeconds, "timeouts.client_idle_seconds"),
            upstreamConnectSeconds: try positive(t?.upstreamConnectSeconds ?? td.upstreamConnectSeconds, "timeouts.upstream_connect_seconds"),
            upstreamResponseSeconds: try positive(t?.upstreamResponseSeconds ?? td.upstreamResponseSeconds, "timeouts.upstream_response_seconds"),
            upstreamIdleSeconds: try positive(t?.upstreamIdleSeconds ?? td.upstreamIdleSeconds, "timeouts.upstream_idle_seconds"))

        var upstreams: [String: UpstreamSettings] = [:]
        for (name, section) in doc.upstreams.sorted(by: { $0.key < $1.key }) {
            let key = "upstreams.\(name)"
            guard isIdentifier(name) else { throw PolicyError(keyPath: key, reason: "upstream names use letters, digits, '_' and '-'") }
            var url: UpstreamURL? = nil
            if let envName = section.urlEnv, let fromEnv = environment[envName] {
                guard let parsed = UpstreamURL(fromEnv) else {
                    throw PolicyError(keyPath: "\(key).url_env", reason: "\(envName)=\(fromEnv) is not an http(s) URL")
                }
                url = parsed
            } else if let text = section.url {
                guard let parsed = UpstreamURL(text) else { throw PolicyError(keyPath: "\(key).url", reason: "'\(text)' is not an http(s) URL") }
                url = parsed
            }
            var credential: UpstreamSettings.Credential? = nil
            if let c = section.credential {
                guard let known = UpstreamSettings.Credential(rawValue: c) else {
                    throw PolicyError(keyPath: "\(key).credential", reason: "unknown credential '\(c)' (known: \(knownCredentials.sorted().joined(separator: ", ")))")
                }
                credential = known
            }
            let maxIdle = try bounded(section.pool?.maxIdlePerLoop ?? 32, "\(key).pool.max_idle_per_loop", 0...65_536)
            let maxPer = try bounded(section.pool?.maxPerLoop ?? 256, "\(key).pool.max_per_loop", 1...65_536)
            guard maxIdle <= maxPer else { throw PolicyError(keyPath: "\(key).pool.max_idle_per_loop", reason: "must not exceed max_per_loop (\(maxPer))") }
            upstreams[name] = UpstreamSettings(name: name, url: url, credential: credential, maxIdlePerLoop: maxIdle, maxPerLoop: maxPer)
        }

        var prices: [String: Int64] = [:]
        for (name, price) in (doc.operations ?? [:]) {
            guard isIdentifier(name), name != generationOperation else {
                throw PolicyError(keyPath: "operations.\(name)", reason: "is not a valid operation name")
            }
            guard price > 0 else { throw PolicyError(keyPath: "operations.\(name)", reason: "price must be a positive number of tokens") }
            prices[name] = Int64(price)
        }

        let routes = try compileRoutes(doc.routes, upstreams: upstreams, prices: prices, limits: limits)
        let plans = try compilePlans(doc.plans)
        let ledger = LedgerSettings(
            mapSizeMiB: try bounded(doc.ledger?.mapSizeMiB ?? 1024, "ledger.map_size_mib", 1...1_048_576),
            durable: doc.ledger?.durable ?? true)

        let priceTable = try compilePricing(doc.pricing, prices: prices)
        var authentication = AuthenticationSettings.standard
        if let cookie = doc.authentication?.sessionCookie {
            guard !cookie.isEmpty, cookie.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: ";") }) else {
                throw PolicyError(keyPath: "authentication.session_cookie", reason: "must be a valid cookie name")
            }
            authentication.sessionCookie = cookie
        }
        let rateLimits = try compileRateLimits(doc.rateLimits)
        for (index, route) in routes.routes.enumerated() where route.filters.contains("rate_limit") {
            guard rateLimits.classes[route.rateLimitClass] != nil else {
                throw PolicyError(keyPath: "routes[\(index)].rate_limit_class", reason: "no rate limit class '\(route.rateLimitClass)' (known: \(rateLimits.classes.keys.sorted().joined(separator: ", ")))")
            }
        }
        return EdgePolicy(
            server: server, limits: limits, timeouts: timeouts, upstreams: upstreams, routes: routes,
            operationPrices: prices, plans: plans, ledger: ledger, prices: priceTable, authentication: authentication,
            cors: try compileCORS(doc.cors, environment: environment), rateLimits: rateLimits,
            app: try compileApp(doc.app), securityHeaders: try compileSecurityHeaders(doc.securityHeaders, environment: environment))
    }

    static func compileRoutes(
        _ sections: [PolicyDocument.RouteSection], upstreams: [String: UpstreamSettings],
        prices: [String: Int64], limits: Limits
    ) throws(PolicyError) -> RouteTable {
        guard !sections.isEmpty else { throw PolicyError(keyPath: "routes", reason: "at least one route is required") }
        var seen = Set<String>()
        var routes: [Route] = []
        for (index, section) in sections.enumerated() {
            let key = "routes[\(index)]"
            guard isIdentifier(section.id) else { throw PolicyError(keyPath: "\(key).id", reason: "route ids use letters, digits, '_' and '-'") }
            guard seen.insert(section.id).inserted else { throw PolicyError(keyPath: "\(key).id", reason: "duplicate route id '\(section.id)'") }

            let match: Route.PathMatch
            switch (section.path, section.pathPrefix) {
            case (let p?, nil):
                guard p.hasPrefix("/"), case .success = RequestTarget.validate(p) else {
                    throw PolicyError(keyPath: "\(key).path", reason: "must be a normalised absolute path")
                }
                match = .exact(p)
            case (nil, let p?):
                guard p.hasPrefix("/") else { throw PolicyError(keyPath: "\(key).path_prefix", reason: "must start with '/'") }
                match = .prefix(p)
            default:
                throw PolicyError(keyPath: key, reason: "set exactly one of 'path' and 'path_prefix'")
            }

            var methods: [String]? = nil
            if let list = section.methods {
                guard !list.isEmpty else { throw PolicyError(keyPath: "\(key).methods", reason: "must not be empty (omit it to accept any method)") }
                for (mi, m) in list.enumerated() {
                    guard !m.isEmpty, m.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
                        throw PolicyError(keyPath: "\(key).methods[\(mi)]", reason: "'\(m)' is not an upper-case HTTP method")
                    }
                }
                methods = list
            }

            let action: Route.Action
            switch (section.upstream, section.respond, section.handler) {
            case (let u?, nil, nil):
                guard upstreams[u] != nil else {
                    throw PolicyError(keyPath: "\(key).upstream", reason: "no upstream named '\(u)' (known: \(upstreams.keys.sorted().joined(separator: ", ")))")
                }
                if let up = section.upstreamPath {
                    guard up.hasPrefix("/"), case .success = RequestTarget.validate(up), !up.contains("?") else {
                        throw PolicyError(keyPath: "\(key).upstream_path", reason: "must be a normalised absolute path without a query")
                    }
                }
                action = .forward(upstream: u, upstreamPath: section.upstreamPath)
            case (nil, let r?, nil):
                guard (400...599).contains(r.status) else { throw PolicyError(keyPath: "\(key).respond.status", reason: "must be 400…599") }
                guard isIdentifier(r.code) else { throw PolicyError(keyPath: "\(key).respond.code", reason: "error codes use letters, digits and '_'") }
                if section.upstreamPath != nil { throw PolicyError(keyPath: "\(key).upstream_path", reason: "only forwarding routes have an upstream_path") }
                action = .respond(status: r.status, code: r.code, message: r.message ?? "Not found")
            case (nil, nil, let h?):
                guard isIdentifier(h) else { throw PolicyError(keyPath: "\(key).handler", reason: "'\(h)' is not a handler name") }
                if section.upstreamPath != nil { throw PolicyError(keyPath: "\(key).upstream_path", reason: "only forwarding routes have an upstream_path") }
                if section.operation != nil { throw PolicyError(keyPath: "\(key).operation", reason: "local handlers are not metered by route; remove 'operation'") }
                action = .local(handler: h)
            default:
                throw PolicyError(keyPath: key, reason: "set exactly one of 'upstream', 'respond' and 'handler'")
            }

            if let op = section.operation {
                guard op == generationOperation || prices[op] != nil else {
                    throw PolicyError(keyPath: "\(key).operation", reason: "unknown operation '\(op)' (add it under 'operations')")
                }
            }
            let bodyLimit = section.maxBodyBytes ?? limits.maxBodyBytes
            guard bodyLimit >= 0 else { throw PolicyError(keyPath: "\(key).max_body_bytes", reason: "must not be negative") }
            let filters = section.filters ?? []
            for (fi, name) in filters.enumerated() where !isIdentifier(name) {
                throw PolicyError(keyPath: "\(key).filters[\(fi)]", reason: "'\(name)' is not a filter name")
            }
            if let position = filters.firstIndex(of: "cors"), position != 0 {
                throw PolicyError(keyPath: "\(key).filters[\(position)]", reason: "'cors' must come first, so preflights are answered before anything authenticates or charges")
            }
            let rateLimitClass = section.rateLimitClass ?? RateLimitSettings.defaultClass
            guard isIdentifier(rateLimitClass) else { throw PolicyError(keyPath: "\(key).rate_limit_class", reason: "is not a class name") }
            if section.operation != nil && !filters.contains("meter") {
                throw PolicyError(keyPath: "\(key).filters", reason: "a priced route (operation set) must list the 'meter' filter, or it would forward unmetered")
            }
            routes.append(Route(id: section.id, methods: methods, path: match, action: action, operation: section.operation,
                                maxBodyBytes: bodyLimit, filters: filters, rateLimitClass: rateLimitClass))
        }
        return RouteTable(routes)
    }

    static func compilePricing(_ section: PolicyDocument.PricingSection?, prices: [String: Int64]) throws(PolicyError) -> PriceTable {
        let pricedBodyBytes = try bounded(section?.pricedBodyBytes ?? 65_536, "pricing.priced_body_bytes", 256...16_777_216)
        let maxImages = try bounded(section?.maxImages ?? 6, "pricing.max_images", 1...1000)
        var rules: [GenerationRule] = []
        for (index, rule) in (section?.generationRules ?? []).enumerated() {
            guard prices[rule.operation] != nil else {
                throw PolicyError(keyPath: "pricing.generation_rules[\(index)].operation", reason: "unknown operation '\(rule.operation)' (add it under 'operations')")
            }
            rules.append(GenerationRule(pathSuffix: rule.pathSuffix, modelSuffix: rule.modelSuffix, styles: rule.styles, operation: rule.operation))
        }
        if section != nil, rules.last.map({ $0.pathSuffix != nil || $0.modelSuffix != nil || $0.styles != nil }) ?? true {
            throw PolicyError(keyPath: "pricing.generation_rules", reason: "the last rule must have no conditions (the default operation)")
        }
        return PriceTable(prices: prices, generationRules: rules, maxImages: Int64(maxImages), pricedBodyBytes: pricedBodyBytes)
    }

    static func compilePlans(_ section: PolicyDocument.PlansSection?) throws(PolicyError) -> PlanCatalog {
        guard let section else { return .standard }
        guard !section.catalog.isEmpty else { throw PolicyError(keyPath: "plans.catalog", reason: "at least one plan is required") }
        var plans: [String: Plan] = [:]
        for (name, p) in section.catalog {
            let key = "plans.catalog.\(name)"
            guard isIdentifier(name) else { throw PolicyError(keyPath: key, reason: "plan names use letters, digits, '_' and '-'") }
            guard p.monthlyTokens >= 0 else { throw PolicyError(keyPath: "\(key).monthly_tokens", reason: "must not be negative") }
            if let cap = p.rolloverCap {
                guard p.rollover == true else { throw PolicyError(keyPath: "\(key).rollover_cap", reason: "only meaningful with 'rollover: true'") }
                guard cap >= p.monthlyTokens else { throw PolicyError(keyPath: "\(key).rollover_cap", reason: "must be at least monthly_tokens (\(p.monthlyTokens))") }
            }
            plans[name] = Plan(name: name, monthlyTokens: p.monthlyTokens, rollover: p.rollover ?? false, rolloverCap: p.rolloverCap)
        }
        guard plans[section.default] != nil else {
            throw PolicyError(keyPath: "plans.default", reason: "'\(section.default)' is not in plans.catalog")
        }
        return PlanCatalog(defaultPlan: section.default, plans: plans)
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    static func bounded(_ v: Int, _ key: String, _ range: ClosedRange<Int>) throws(PolicyError) -> Int {
        guard range.contains(v) else { throw PolicyError(keyPath: key, reason: "must be within \(range.lowerBound)…\(range.upperBound) (found \(v))") }
        return v
    }
    static func nonNegative(_ v: Int, _ key: String, max: Int) throws(PolicyError) -> Int { try bounded(v, key, 0...max) }
    static func positive(_ v: Double, _ key: String) throws(PolicyError) -> Double {
        guard v > 0, v.isFinite else { throw PolicyError(keyPath: key, reason: "must be a positive number of seconds (found \(v))") }
        return v
    }
    static func positive64(_ v: Int64, _ key: String) throws(PolicyError) -> Int64 {
        guard v > 0 else { throw PolicyError(keyPath: key, reason: "must be positive (found \(v))") }
        return v
    }
}
