/// A parsed `http(s)://host[:port][/base]` upstream address.
public struct UpstreamURL: Sendable, Equatable, CustomStringConvertible {
    public var useTLS: Bool
    public var host: String
    public var port: Int
    /// Path prefix prepended to every forwarded path ("" for none; never ends with "/").
    public var basePath: String

    /// The value for the `Host` header sent upstream.
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = useTLS ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    public var description: String { "\(useTLS ? "https" : "http")://\(hostHeader)\(basePath)" }

    /// Parses an absolute http or https URL; returns nil for anything else.
    public init?(_ text: String) {
        let lower = text.lowercased()
        var rest: Substring
        if lower.hasPrefix("https://") {
            useTLS = true
            rest = text.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            useTLS = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            var base = String(rest[slash...])
            while base.hasSuffix("/") { base.removeLast() }
            basePath = base
        } else {
            authority = rest
            basePath = ""
        }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var hostPart = authority
        var portValue = useTLS ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                portValue = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            portValue = p
        }
        guard !hostPart.isEmpty, (1...65535).contains(portValue) else { return nil }
        host = String(hostPart)
        port = portValue
    }
}
