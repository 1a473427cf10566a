import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP response as a test client received it.
struct TestResponse: Sendable {
    /// The final status (1xx interim answers are not kept).
    var status: HTTPResponseStatus
    /// The response header fields as received.
    var headers: HTTPHeaders
    /// The body; empty when the request asked for hashing only.
    var body: ByteBuffer
    /// Body bytes received (counted even when not collected).
    var bodyByteCount: Int
    /// Lowercase hex SHA-256 of the body received.
    var bodySHA256: String

    /// The body as UTF-8 text.
    var bodyText: String { String(buffer: body) }

    /// The body parsed as a JSON object; throws if it is not one.
    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let object = value as? [String: Any] else {
            throw TestClientError("response body is JSON but not an object: \(bodyText)")
        }
        return object
    }
}

/// A test-support failure with a readable message.
struct TestClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
