import Foundation

extension PolicyLoader {
    /// `cors:` plus the origins of `NEXT_PUBLIC_APP_URL` and `NEXTAUTH_URL`.
    static func compileCORS(_ section: PolicyDocument.CORSSection?, environment: EdgeEnvironment) throws(PolicyError) -> CORSPolicy {
        var origins: [String] = []
        for (index, text) in (section?.allowedOrigins ?? []).enumerated() {
            let key = "cors.allowed_origins[\(index)]"
            guard text != "*" else { throw PolicyError(keyPath: key, reason: "'*' is not allowed (credentials are sent): list exact origins") }
            guard let origin = CORSPolicy.origin(ofURL: text), UpstreamURL(text)?.basePath.isEmpty == true else {
                throw PolicyError(keyPath: key, reason: "'\(text)' is not an origin (scheme://host[:port], no path)")
            }
            origins.append(origin)
        }
        for name in ["NEXT_PUBLIC_APP_URL", "NEXTAUTH_URL"] {
            if let value = environment[name], let origin = CORSPolicy.origin(ofURL: value) { origins.append(origin) }
        }
        let standard = CORSPolicy.standard
        let headers = section?.allowHeaders ?? standard.allowHeaders.components(separatedBy: ", ")
        for (index, header) in headers.enumerated() where !isToken(header) {
            throw PolicyError(keyPath: "cors.allow_headers[\(index)]", reason: "'\(header)' is not a header name")
        }
        return CORSPolicy(
            allowedOrigins: origins, allowHeaders: headers,
            maxAgeSeconds: try bounded(section?.maxAgeSeconds ?? standard.maxAgeSeconds, "cors.max_age_seconds", 0...86_400),
            allowCredentials: section?.allowCredentials ?? standard.allowCredentials)
    }

    static func compileRateLimits(_ section: PolicyDocument.RateLimitsSection?) throws(PolicyError) -> RateLimitSettings {
        guard let section else { return .standard }
        var classes: [String: RateLimitSettings.RouteClass] = [:]
        for (name, c) in section.classes {
            let key = "rate_limits.classes.\(name)"
            guard isIdentifier(name) else { throw PolicyError(keyPath: key, reason: "class names use letters, digits, '_' and '-'") }
            func rule(_ r: PolicyDocument.RateLimitRuleSection?, _ sub: String) throws(PolicyError) -> RateLimitRule? {
                guard let r else { return nil }
                guard r.ratePerMinute > 0, r.ratePerMinute.isFinite else { throw PolicyError(keyPath: "\(key).\(sub).rate_per_minute", reason: "must be positive") }
                guard (1...1_000_000).contains(r.burst) else { throw PolicyError(keyPath: "\(key).\(sub).burst", reason: "must be within 1…1000000") }
                return RateLimitRule(ratePerMinute: r.ratePerMinute, burst: r.burst)
            }
            classes[name] = RateLimitSettings.RouteClass(perUser: try rule(c.perUser, "per_user"), perIP: try rule(c.perIP, "per_ip"))
        }
        guard classes[RateLimitSettings.defaultClass] != nil else {
            throw PolicyError(keyPath: "rate_limits.classes", reason: "a 'default' class is required (routes without rate_limit_class use it)")
        }
        let maxBuckets = try bounded(section.maxBucketsPerLoop ?? RateLimitSettings.standard.maxBucketsPerLoop, "rate_limits.max_buckets_per_loop", 16...10_000_000)
        return RateLimitSettings(classes: classes, maxBucketsPerLoop: maxBuckets)
    }

    static func compileApp(_ section: PolicyDocument.AppSection?) throws(PolicyError) -> AppRouteSettings {
        var settings = AppRouteSettings.standard
        for (index, prefix) in (section?.protectedPrefixes ?? []).enumerated() {
            guard prefix.hasPrefix("/"), prefix.count > 1, case .success = RequestTarget.validate(prefix), !prefix.contains("?") else {
                throw PolicyError(keyPath: "app.protected_prefixes[\(index)]", reason: "must be a normalised absolute path other than '/'")
            }
            settings.protectedPrefixes.append(prefix)
        }
        if let path = section?.signInPath {
            guard path.hasPrefix("/"), case .success = RequestTarget.validate(path), !path.contains("?") else {
                throw PolicyError(keyPath: "app.sign_in_path", reason: "must be a normalised absolute path without a query")
            }
            guard settings.protection(of: path) == .public else {
                throw PolicyError(keyPath: "app.sign_in_path", reason: "must not itself be protected (the redirect would loop)")
            }
            settings.signInPath = path
        }
        return settings
    }

    /// `security_headers:`; `{app_origin}` and `{portal_origin}` in values become the origins of
    /// `NEXT_PUBLIC_APP_URL` and `NEXTAUTH_URL` (or nothing when unset).
    static func compileSecurityHeaders(_ map: [String: String]?, environment: EdgeEnvironment) throws(PolicyError) -> SecurityHeaders {
        let appOrigin = environment.appURL.flatMap(CORSPolicy.origin(ofURL:)) ?? ""
        let portalOrigin = environment.publicURL.flatMap(CORSPolicy.origin(ofURL:)) ?? ""
        var headers: [(String, String)] = []
        for (name, value) in (map ?? [:]).sorted(by: { $0.key < $1.key }) {
            let key = "security_headers.\(name)"
            guard isToken(name) else { throw PolicyError(keyPath: key, reason: "is not a header name") }
            let resolved = value.replacingOccurrences(of: "{app_origin}", with: appOrigin)
                .replacingOccurrences(of: "{portal_origin}", with: portalOrigin)
                .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            guard resolved.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { throw PolicyError(keyPath: key, reason: "the value must be printable") }
            headers.append((name, resolved))
        }
        return SecurityHeaders(headers: headers)
    }

    /// An HTTP token (header name).
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            b > 0x20 && b < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(b)
        }
    }
}
