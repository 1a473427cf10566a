/// One request as the stand-in received it: the head exactly as parsed, and a digest of the body.
public struct StandInRecordedRequest: Sendable {
    /// The request method, e.g. `POST`.
    public var method: String
    /// The request target as received, query included.
    public var path: String
    /// The header fields in arrival order, names in the case they were sent.
    public var headers: [(name: String, value: String)]
    /// Body bytes received (after de-chunking).
    public var bodyByteCount: Int
    /// Lowercase hex SHA-256 of the body bytes received.
    public var bodySHA256: String
    /// False when the connection ended, or was reset on request, before the request's end arrived.
    public var isComplete: Bool

    /// Creates a record.
    public init(
        method: String, path: String, headers: [(name: String, value: String)],
        bodyByteCount: Int, bodySHA256: String, isComplete: Bool
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.bodyByteCount = bodyByteCount
        self.bodySHA256 = bodySHA256
        self.isComplete = isComplete
    }

    /// The first value of the header `name` (ASCII case-insensitive), if it was sent.
    public func header(_ name: String) -> String? {
        headers.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of the header `name` (ASCII case-insensitive), in arrival order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    private static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }
}
