import NIOCore
import Policy

/// Drives the strict HTTP/1.1 codec — request and response head parsers, body decoder, chunked
/// encoder and the upstream request rewriter — from plain byte arrays.
///
/// Exists so fuzzers and differential tests can drive the codec without `@testable`. The proxy's
/// hot path never calls it: it copies bytes into arrays freely. It feeds input the way
/// `EdgeConnectionHandler` does (pieces appended to one buffer, the parser re-offered the buffer
/// after every piece), so splitting an input must never change a result.
public enum HTTP1Conformance {
    /// Byte limits; the defaults are `Limits.standard` of the policy.
    public struct Limits: Sendable, Equatable {
        public var maxHeaderBytes: Int
        public var maxHeaderCount: Int
        public var maxChunkLineBytes: Int
        public var maxTrailerBytes: Int

        public init(maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100, maxChunkLineBytes: Int = 1024, maxTrailerBytes: Int = 8192) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxChunkLineBytes = maxChunkLineBytes
            self.maxTrailerBytes = maxTrailerBytes
        }
    }

    /// Why the codec refused the input: the status and stable error code the client would get.
    public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var description: String { "\(status) \(code)" }
    }

    /// Body framing declared by a head.
    public enum Framing: Sendable, Equatable {
        case none
        case contentLength(Int64)
        case chunked
        /// Responses only: the body runs until the upstream closes.
        case untilClose
    }

    /// One header field, with the value's surrounding whitespace trimmed.
    public struct Field: Sendable, Equatable {
        public var name: [UInt8]
        public var value: [UInt8]
        /// A `Connection` header names this field (it is hop-by-hop for this message).
        public var listedInConnection: Bool
    }

    /// An accepted request head.
    public struct Request: Sendable, Equatable {
        public var method: [UInt8]
        /// The request target as received (path and query).
        public var target: [UInt8]
        /// The path part of the target (before `?`).
        public var path: [UInt8]
        public var isHTTP10: Bool
        public var fields: [Field]
        public var framing: Framing
        public var expectsContinue: Bool
        public var keepAlive: Bool
        /// The head's bytes, request line through the empty line (leading empty lines excluded).
        public var head: [UInt8]
        /// The head sent to an upstream that keeps the client's credentials (the app), path unmapped.
        /// Without a sane client `X-Request-Id` the id sent is 32 zeros, so results are reproducible.
        public var upstreamHead: [UInt8]
        /// The head sent to an upstream with its own credential (Recraft), path mapped to `/mapped`.
        public var upstreamHeadWithCredential: [UInt8]
    }

    /// Result of offering one request (head and body) to the codec.
    public struct RequestResult: Sendable, Equatable {
        /// The parsed head, when it was accepted.
        public var request: Request?
        /// Set when the head or the body was refused (`request` tells which: nil means the head).
        public var rejection: Rejection?
        /// Body bytes decoded so far (without chunk framing).
        public var body: [UInt8]
        /// The body (possibly empty) ended; bytes after `consumed` belong to the next message.
        public var complete: Bool
        /// Bytes of the input consumed: leading empty lines, the head and the body's framing.
        /// 0 after a rejection (the connection is closed there; what was read no longer matters).
        public var consumed: Int
    }

    /// An accepted response head.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var reason: [UInt8]
        public var isHTTP10: Bool
        public var fields: [Field]
        public var framing: Framing
        public var keepAlive: Bool
    }

    /// Result of offering one upstream response to the codec.
    public struct ResponseResult: Sendable, Equatable {
        public var response: Response?
        public var rejection: Rejection?
        public var body: [UInt8]
        /// The body ended (never true for a close-delimited body: only the upstream's close ends it).
        public var complete: Bool
        /// As for requests: 0 after a rejection.
        public var consumed: Int
    }

    /// Parses one request — head, then body — from `input`, delivered in pieces cut at `splitAt`
    /// (offsets into `input`; out-of-range ones are ignored). Stops after the first message.
    public static func decodeRequest(_ input: [UInt8], splitAt: [Int] = [], limits: Limits = Limits()) -> RequestResult {
        var parser = RequestHeadParser(maxHeaderBytes: limits.maxHeaderBytes, maxHeaderCount: limits.maxHeaderCount)
        var head = RequestHead()
        var decoder: BodyDecoder? = nil
        var result = RequestResult(request: nil, rejection: nil, body: [], complete: false, consumed: 0)
        var received = ByteBuffer()
        var fed = 0
        for piece in pieces(of: input, splitAt: splitAt) {
            received.writeBytes(piece)
            fed += piece.count
            do throws(HTTPHeadError) {
                if decoder == nil {
                    guard received.readableBytes > 0, try parser.parse(&received, into: &head) == .complete else { continue }
                    result.request = request(from: head)
                    decoder = BodyDecoder(framing: head.framing, maxChunkLineBytes: limits.maxChunkLineBytes, maxTrailerBytes: limits.maxTrailerBytes)
                }
                if try drain(&decoder!, &received, into: &result.body) {
                    result.complete = true
                    break
                }
            } catch {
                result.rejection = Rejection(error)
                break
            }
        }
        result.consumed = result.rejection == nil ? fed - received.readableBytes : 0
        return result
    }

    /// Parses one upstream response (head, then body) from `input` cut at `splitAt`.
    public static func decodeResponse(
        _ input: [UInt8], requestWasHEAD: Bool = false, splitAt: [Int] = [], limits: Limits = Limits()
    ) -> ResponseResult {
        var parser = ResponseHeadParser(maxHeaderBytes: limits.maxHeaderBytes, maxHeaderCount: limits.maxHeaderCount)
        var head = ResponseHead()
        var decoder: BodyDecoder? = nil
        var result = ResponseResult(response: nil, rejection: nil, body: [], complete: false, consumed: 0)
        var received = ByteBuffer()
        var fed = 0
        for piece in pieces(of: input, splitAt: splitAt) {
            received.writeBytes(piece)
            fed += piece.count
            do throws(HTTPHeadError) {
                if decoder == nil {
                    guard received.readableBytes > 0,
                          try parser.parse(&received, requestWasHEAD: requestWasHEAD, into: &head) == .complete else { continue }
                    result.response = head.bytes.withUnsafeReadableBytes { b in
                        Response(
                            status: head.status, reason: Array(b[head.reasonStart..<head.reasonEnd]), isHTTP10: head.isHTTP10,
                            fields: fields(head.fields, b), framing: Framing(head.framing), keepAlive: head.upstreamKeepAlive)
                    }
                    decoder = BodyDecoder(framing: head.framing, maxChunkLineBytes: limits.maxChunkLineBytes, maxTrailerBytes: limits.maxTrailerBytes)
                }
                if try drain(&decoder!, &received, into: &result.body) {
                    result.complete = true
                    break
                }
            } catch {
                result.rejection = Rejection(error)
                break
            }
        }
        result.consumed = result.rejection == nil ? fed - received.readableBytes : 0
        return result
    }

    /// `pieces` framed as one chunked body by the proxy's `ChunkedEncoder` (empty pieces skipped).
    public static func chunkedEncode(_ pieces: [[UInt8]]) -> [UInt8] {
        var encoder = ChunkedEncoder()
        let allocator = ByteBufferAllocator()
        var out: [UInt8] = []
        for piece in pieces where !piece.isEmpty {
            let framing = encoder.framing(beforeChunkOf: piece.count, allocator: allocator)
            out += framing.readableBytesView
            out += piece
        }
        out += encoder.finish(allocator: allocator).readableBytesView
        return out
    }

    // MARK: Internals

    /// Feeds the decoder until it needs more bytes (false) or the body ended (true).
    private static func drain(_ decoder: inout BodyDecoder, _ buffer: inout ByteBuffer, into body: inout [UInt8]) throws(HTTPHeadError) -> Bool {
        while true {
            switch try decoder.next(&buffer) {
            case .data(let slice): body += slice.readableBytesView
            case .needMore: return false
            case .end: return true
            }
        }
    }

    private static func pieces(of input: [UInt8], splitAt: [Int]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in Set(splitAt).sorted() where cut > start && cut < input.count {
            out.append(input[start..<cut])
            start = cut
        }
        out.append(input[start...])
        return out
    }

    private static func fields(_ fields: [HeaderField], _ b: UnsafeRawBufferPointer) -> [Field] {
        fields.map { f in
            Field(name: Array(b[Int(f.nameStart)..<Int(f.nameEnd)]), value: Array(b[Int(f.valueStart)..<Int(f.valueEnd)]),
                  listedInConnection: f.listedInConnection)
        }
    }

    private static func request(from head: RequestHead) -> Request {
        // The client's id when it is sane, else a fixed one (all zeros) so results are reproducible.
        var requestID = RequestID()
        if let client = head.summaryRequestIDSlice(), RequestID.isSane(client) {
            var generator = RequestIDGenerator()
            requestID = RequestID(clientValue: client, generator: &generator)
        }
        let allocator = ByteBufferAllocator()
        let toApp = HeadRewriter.upstreamRequestHead(
            head, upstreamPath: nil, endpoint: Endpoints.app, requestID: requestID,
            forwardedFor: Endpoints.forwardedFor, allocator: allocator)
        let toRecraft = HeadRewriter.upstreamRequestHead(
            head, upstreamPath: Endpoints.mappedPath, endpoint: Endpoints.recraft, requestID: requestID,
            forwardedFor: Endpoints.forwardedFor, allocator: allocator)
        return head.withBytes { b in
            Request(
                method: Array(b[0..<head.methodEnd]), target: Array(b[head.targetStart..<head.targetEnd]),
                path: Array(b[head.targetStart..<head.pathEnd]), isHTTP10: head.isHTTP10, fields: fields(head.fields, b),
                framing: Framing(head.framing), expectsContinue: head.expectsContinue, keepAlive: head.clientKeepAlive,
                head: Array(b), upstreamHead: Array(toApp.readableBytesView),
                upstreamHeadWithCredential: Array(toRecraft.readableBytesView))
        }
    }

    /// Two fixed plain-HTTP upstreams built from a minimal policy: `app` keeps client credentials,
    /// `recraft` replaces them with its own.
    private enum Endpoints {
        static let forwardedFor = Array("X-Forwarded-For: 192.0.2.1\r\n".utf8)
        static let mappedPath = Array("/mapped".utf8)
        static let app = endpoint("app")
        static let recraft = endpoint("recraft")

        private static let policy: EdgePolicy = {
            let yaml = """
                version: 1
                upstreams:
                  recraft: { url: "http://recraft.test:8080/base", credential: recraft_api_token }
                  app: { url: "http://app.test" }
                routes:
                  - { id: any, path_prefix: /, upstream: app }
                """
            do {
                return try PolicyLoader.parse(yaml: yaml, environment: EdgeEnvironment(values: [:]))
            } catch {
                fatalError("HTTP1Conformance: built-in policy is invalid: \(error)")
            }
        }()

        private static func endpoint(_ name: String) -> UpstreamEndpoint {
            let settings = policy.upstreams[name]!
            do {
                return try UpstreamEndpoint(
                    name: name, settings: settings, url: settings.url!, credentialToken: "fuzz-token",
                    caFile: nil, connectTimeout: .seconds(1))
            } catch {
                fatalError("HTTP1Conformance: cannot prepare upstream \(name): \(error)")
            }
        }
    }
}

extension HTTP1Conformance.Rejection {
    init(_ error: HTTPHeadError) {
        self.init(status: error.status, code: error.code.description)
    }
}

extension HTTP1Conformance.Framing {
    init(_ framing: BodyFraming) {
        switch framing {
        case .none: self = .none
        case .contentLength(let n): self = .contentLength(n)
        case .chunked: self = .chunked
        case .untilClose: self = .untilClose
        }
    }
}
