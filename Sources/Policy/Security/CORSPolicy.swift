/// The compiled `cors:` section: which browser origins may call the edge, and what preflights answer.
///
/// Origins are compared as bytes (ASCII case-insensitive) against the normalised list, so a request
/// pays for no `String` unless its origin is allowed (and then it gets the policy's own copy).
public struct CORSPolicy: Sendable {
    /// Allowed origins, normalised (`https://host[:port]`, lower case, default port omitted).
    public let allowedOrigins: [String]
    /// `Access-Control-Allow-Headers` for preflights.
    public let allowHeaders: String
    /// `Access-Control-Max-Age` for preflights.
    public let maxAgeSeconds: Int
    /// Whether responses carry `Access-Control-Allow-Credentials: true`.
    public let allowCredentials: Bool
    private let originBytes: [[UInt8]]

    public init(allowedOrigins: [String], allowHeaders: [String], maxAgeSeconds: Int, allowCredentials: Bool) {
        var unique: [String] = []
        for origin in allowedOrigins where !unique.contains(origin) { unique.append(origin) }
        self.allowedOrigins = unique
        self.allowHeaders = allowHeaders.joined(separator: ", ")
        self.maxAgeSeconds = maxAgeSeconds
        self.allowCredentials = allowCredentials
        self.originBytes = unique.map { Array($0.utf8) }
    }

    public static let standard = CORSPolicy(
        allowedOrigins: [], allowHeaders: ["Authorization", "Content-Type"], maxAgeSeconds: 600, allowCredentials: true)

    /// The normalised origin of an absolute http(s) URL (`https://a.example/x` → `https://a.example`), or nil.
    public static func origin(ofURL text: String) -> String? {
        guard let url = UpstreamURL(text) else { return nil }
        return "\(url.useTLS ? "https" : "http")://\(url.hostHeader)".lowercased()
    }

    /// The policy's spelling of `origin` (an `Origin` header value) when it is allowed, else nil.
    public func allowedOrigin(_ origin: UnsafeRawBufferPointer) -> String? {
        for (index, candidate) in originBytes.enumerated() where candidate.count == origin.count {
            var same = true
            for k in 0..<candidate.count where candidate[k] != Self.lower(origin[k]) {
                same = false
                break
            }
            if same { return allowedOrigins[index] }
        }
        return nil
    }

    /// The policy's spelling of the origin of a `Referer` value (scheme and authority) when allowed, else nil.
    public func allowedRefererOrigin(_ referer: UnsafeRawBufferPointer) -> String? {
        guard let end = Self.originEnd(ofURL: referer) else { return nil }
        return allowedOrigin(UnsafeRawBufferPointer(rebasing: referer[0..<end]))
    }

    /// Decides whether a state-changing, cookie-authenticated request comes from an allowed page
    /// (CSRF defence): its `Origin`, or when absent its `Referer`'s origin, must be allowed — or be
    /// the edge's own origin, `https://` + the request's `Host` (the portal's pages call its APIs).
    public func checkStateChange(origin: UnsafeRawBufferPointer?, referer: UnsafeRawBufferPointer?,
                                 host: UnsafeRawBufferPointer? = nil) -> OriginCheck {
        if let origin {
            if let host, Self.isOwnOrigin(origin, host: host) { return .allowed(String(decoding: origin, as: UTF8.self)) }
            return allowedOrigin(origin).map { .allowed($0) } ?? .notAllowed
        }
        if let referer {
            if let host, let end = Self.originEnd(ofURL: referer), Self.isOwnOrigin(UnsafeRawBufferPointer(rebasing: referer[0..<end]), host: host) {
                return .allowed(String(decoding: referer[0..<end], as: UTF8.self))
            }
            return allowedRefererOrigin(referer).map { .allowed($0) } ?? .notAllowed
        }
        return .missing
    }

    /// Whether `origin` is exactly `https://<host>` (letter case aside): the page is the edge's own.
    static func isOwnOrigin(_ origin: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer) -> Bool {
        let scheme = Array("https://".utf8)
        guard !host.isEmpty, origin.count == scheme.count + host.count else { return false }
        for i in 0..<scheme.count where lower(origin[i]) != scheme[i] { return false }
        for i in 0..<host.count where lower(origin[scheme.count + i]) != lower(host[i]) { return false }
        return true
    }

    /// Where the origin part of `scheme://authority/...` ends, or nil when it is not such a URL.
    static func originEnd(ofURL url: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i + 2 < url.count {
            if url[i] == UInt8(ascii: ":") {
                guard url[i + 1] == UInt8(ascii: "/"), url[i + 2] == UInt8(ascii: "/"), i > 0 else { return nil }
                var end = i + 3
                while end < url.count, url[end] != UInt8(ascii: "/"), url[end] != UInt8(ascii: "?"), url[end] != UInt8(ascii: "#") {
                    end += 1
                }
                return end > i + 3 ? end : nil
            }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }
}

/// The outcome of the origin (CSRF) check for a cookie-authenticated, state-changing request.
public enum OriginCheck: Sendable, Equatable {
    /// The page's origin is allowed (the policy's spelling).
    case allowed(String)
    /// Neither `Origin` nor `Referer` was sent.
    case missing
    /// The origin is not in the allowed list.
    case notAllowed
}

extension CORSPolicy {
    /// Convenience for tests and tools.
    public func allowedOrigin(_ origin: String) -> String? {
        var o = origin
        return o.withUTF8 { allowedOrigin(UnsafeRawBufferPointer($0)) }
    }

    /// Convenience for tests and tools.
    public func checkStateChange(origin: String?, referer: String?, host: String? = nil) -> OriginCheck {
        var o = origin ?? "", r = referer ?? "", h = host ?? ""
        return o.withUTF8 { ob in
            r.withUTF8 { rb in
                h.withUTF8 { hb in
                    checkStateChange(origin: origin == nil ? nil : UnsafeRawBufferPointer(ob), referer: referer == nil ? nil : UnsafeRawBufferPointer(rb),
                                     host: host == nil ? nil : UnsafeRawBufferPointer(hb))
                }
            }
        }
    }
}
