public import Logging
public import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOSSL

/// A stand-in for the Recraft API and the Recraftor app, for tests, the offline demo and benchmarks.
///
/// A real HTTP/1.1 server (NIO + NIOHTTP1, plain or TLS, keep-alive) that answers like Recraft:
/// generations (`POST /v1/images/generations`, JSON, `n` images), the image operations (`vectorize`,
/// `removeBackground`, `crispUpscale`, `creativeUpscale`: any body, streamed and hashed), `POST /v1/styles`,
/// `GET /v1/users/me`; plus `/echo…` (describes exactly what arrived), `GET /download?bytes=N[&seed=S]
/// [&framing=length|chunked|close]` (deterministic bytes, see `StandInDownload`) and, for every other
/// path outside `/v1`, the app's HTML page. `X-StandIn-*` request headers inject failures and delays
/// (see `StandInControls`). Nothing is logged per request above `.debug`.
public final class RecraftStandIn: Sendable {
    /// Where and how the stand-in listens.
    public struct Configuration: Sendable {
        /// Address to bind.
        public var host: String
        /// Port to bind; 0 picks a free one (read it back from `port`).
        public var port: Int
        /// PEM certificate chain; with `tlsKeyPath`, the stand-in speaks TLS (ALPN `http/1.1`).
        public var tlsCertificatePath: String?
        /// PEM private key for `tlsCertificatePath`.
        public var tlsKeyPath: String?
        /// Event loops to serve on; nil starts (and on shutdown stops) a group of one thread.
        public var eventLoopGroup: (any EventLoopGroup)?
        /// How many of the latest requests `requests` keeps; 0 keeps none (benchmarks). `requestCount` counts all.
        public var recordingLimit: Int
        /// `SO_SNDBUF` for accepted connections; set it small to make back-pressure visible sooner.
        public var sendBufferBytes: Int?
        /// Logger for start, stop and connection errors (at `.debug`).
        public var logger: Logger

        /// Creates a configuration; every argument has a default suitable for a test.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            tlsCertificatePath: String? = nil,
            tlsKeyPath: String? = nil,
            eventLoopGroup: (any EventLoopGroup)? = nil,
            recordingLimit: Int = 10_000,
            sendBufferBytes: Int? = nil,
            logger: Logger = Logger(label: "recraft-standin")
        ) {
            self.host = host
            self.port = port
            self.tlsCertificatePath = tlsCertificatePath
            self.tlsKeyPath = tlsKeyPath
            self.eventLoopGroup = eventLoopGroup
            self.recordingLimit = recordingLimit
            self.sendBufferBytes = sendBufferBytes
            self.logger = logger
        }
    }

    /// A configuration the stand-in cannot start with.
    public struct ConfigurationError: Error, CustomStringConvertible {
        /// What is wrong.
        public var description: String
    }

    private let serverChannel: any Channel
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let recorder: StandInRecorder
    private let logger: Logger

    /// The address the stand-in is bound to.
    public let host: String
    /// The port the stand-in listens on.
    public let port: Int
    /// Whether connections speak TLS.
    public let isTLS: Bool

    /// `https://host:port` or `http://host:port`, without a trailing slash.
    public var baseURL: String { "\(isTLS ? "https" : "http")://\(host):\(port)" }

    /// The latest requests (up to `recordingLimit`), oldest first; recorded when each request's end
    /// arrives (or, marked incomplete, when the connection ends first or is reset on request).
    public var requests: [StandInRecordedRequest] { recorder.requests }

    /// Requests recorded since start or the last `resetRecordings()`.
    public var requestCount: Int { recorder.requestCount }

    /// Bytes of `/download` bodies the sockets have accepted so far (a write counts once it completed).
    public var downloadBytesAccepted: Int { recorder.downloadBytesAccepted }

    /// Lowercase hex SHA-256 of what `GET /download?bytes=\(bytes)&seed=\(seed)` serves.
    public static func downloadSHA256(bytes: Int, seed: UInt64 = 0) -> String {
        StandInDownload.sha256(bytes: bytes, seed: seed)
    }

    private init(
        serverChannel: any Channel, group: any EventLoopGroup, ownsGroup: Bool,
        recorder: StandInRecorder, host: String, port: Int, isTLS: Bool, logger: Logger
    ) {
        self.serverChannel = serverChannel
        self.group = group
        self.ownsGroup = ownsGroup
        self.recorder = recorder
        self.host = host
        self.port = port
        self.isTLS = isTLS
        self.logger = logger
    }

    /// Binds and starts serving.
    /// - Parameter configuration: Where to listen and whether to speak TLS.
    /// - Returns: The running stand-in; call `shutdown()` when done.
    /// - Throws: `ConfigurationError` for half a TLS configuration; TLS file and bind errors as they come.
    public static func start(_ configuration: Configuration) async throws -> RecraftStandIn {
        let tlsContext = try makeTLSContext(configuration)
        let recorder = StandInRecorder(recordingLimit: configuration.recordingLimit)
        let ownsGroup = configuration.eventLoopGroup == nil
        let group = configuration.eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = configuration.logger
        let encoder = {
            var encoder = HTTPResponseEncoder.Configuration()
            encoder.automaticallySetFramingHeaders = false  // every answer frames itself (close-delimited downloads)
            return encoder
        }()

        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
        if let sendBufferBytes = configuration.sendBufferBytes {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(sendBufferBytes))
        }
        bootstrap = bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                if let tlsContext {
                    try pipeline.addHandler(NIOSSLServerHandler(context: tlsContext))
                }
                try pipeline.configureHTTPServerPipeline(withEncoderConfiguration: encoder)
                try pipeline.addHandler(StandInHandler(recorder: recorder, logger: logger))
                recorder.register(channel)
            }
        }

        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
        let port = channel.localAddress?.port ?? configuration.port
        logger.debug("recraft stand-in listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return RecraftStandIn(
            serverChannel: channel, group: group, ownsGroup: ownsGroup, recorder: recorder,
            host: configuration.host, port: port, isTLS: tlsContext != nil, logger: logger)
    }

    /// Forgets the recorded requests and zeroes `requestCount` and `downloadBytesAccepted`.
    public func resetRecordings() {
        recorder.reset()
    }

    /// Stops listening, closes open connections, and stops the event loop group if the stand-in started it.
    /// Safe to call more than once.
    public func shutdown() async throws {
        guard let connections = recorder.beginShutdown() else { return }
        try? await serverChannel.close()
        for connection in connections {
            connection.close(promise: nil)
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        if ownsGroup {
            try await group.shutdownGracefully()
        }
        logger.debug("recraft stand-in stopped", metadata: ["port": "\(port)"])
    }

    private static func makeTLSContext(_ configuration: Configuration) throws -> NIOSSLContext? {
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (nil, nil):
            return nil
        case (let certificatePath?, let keyPath?):
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.applicationProtocols = ["http/1.1"]
            tls.shutdownTimeout = .seconds(1)  // don't hold shutdown for peers that never send close_notify
            return try NIOSSLContext(configuration: tls)
        default:
            throw ConfigurationError(description: "TLS needs both a certificate and a key")
        }
    }
}
