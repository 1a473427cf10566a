import Foundation
/// A `host:port` listener address as written in EDGE_LISTEN / EDGE_ADMIN_LISTEN.
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    /// Parses `host:port`, `[v6]:port` or `:port` (all interfaces).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
