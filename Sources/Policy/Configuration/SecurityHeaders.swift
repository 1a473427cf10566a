/// The compiled `security_headers:` section: response headers added by the `security_headers` filter.
public struct SecurityHeaders: Sendable {
    /// Name and value pairs, sorted by name (YAML maps are unordered), placeholders resolved.
    public var headers: [(String, String)]

    public init(headers: [(String, String)]) { self.headers = headers }

    public static let standard = SecurityHeaders(headers: [])
}
