import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

extension Observability {
    @Suite("Observability: admin listener")
    struct AdminServerTests {
        @Test("/metrics, /healthz and /readyz answer on one kept-alive connection")
        func endpoints() async throws {
            try await withAdminServer { admin, group, metrics, readiness in
                try await group.next().submit {
                    let loop = metrics.makeLoopMetrics()
                    for _ in 0..<3 {
                        loop.requestFinished(route: "v1_generations", status: 402, edgeNanoseconds: 1_000_000, upstreamNanoseconds: nil)
                    }
                    loop.securityEvent(.originViolation)
                }.get()
                let client = try await TestHTTPSClient.connect(port: admin.localPort, tls: nil, group: group)

                let scrape = try await client.send(path: "/metrics")
                #expect(scrape.status == .ok)
                #expect(scrape.headers["Content-Type"] == ["text/plain; version=0.0.4; charset=utf-8"])
                #expect(scrape.headers["Cache-Control"] == ["no-store"])
                #expect(scrape.bodyText.contains(#"edge_requests_total{route="v1_generations",status="402"} 3"#))
                #expect(scrape.bodyText.contains(#"edge_security_events_total{kind="origin_violation"} 1"#))
                #expect(scrape.headers["Content-Length"] == [String(scrape.bodyByteCount)])

                let withQuery = try await client.send(path: "/metrics?name[]=edge_requests_total")
                #expect(withQuery.status == .ok)

                let health = try await client.send(path: "/healthz")
                #expect(health.status == .ok)
                #expect(health.headers["Content-Type"] == ["application/json"])
                #expect(health.bodyText == #"{"status":"ok"}"#)

                let ready = try await client.send(path: "/readyz")
                #expect(ready.status == .ok)
                #expect(ready.bodyText == #"{"status":"ready","checks":{"ledger":"ok","policy":"ok"}}"#)

                readiness.set(.init(checks: [.failing("ledger", "closed"), .ok("policy"), .failing("shutdown", "draining")]))
                let notReady = try await client.send(path: "/readyz")
                #expect(notReady.status == .serviceUnavailable)
                let json = try notReady.jsonObject()
                #expect(json["status"] as? String == "not_ready")
                let checks = try #require(json["checks"] as? [String: String])
                #expect(checks == ["ledger": "closed", "policy": "ok", "shutdown": "draining"])

                readiness.set(.init(checks: [.ok("ledger"), .ok("policy")]))
                #expect(try await client.send(path: "/readyz").status == .ok)
                await client.close()
            }
        }

        @Test("Unknown paths get a JSON 404, other methods a 405 with Allow; bodies are ignored")
        func errors() async throws {
            try await withAdminServer { admin, group, _, _ in
                let client = try await TestHTTPSClient.connect(port: admin.localPort, tls: nil, group: group)

                let missing = try await client.send(path: "/admin/secret")
                #expect(missing.status == .notFound)
                #expect(missing.headers["Content-Type"] == ["application/json"])
                let error = try #require(try missing.jsonObject()["error"] as? [String: Any])
                #expect(error["code"] as? String == "not_found")
                #expect(error["type"] as? String == "invalid_request_error")
                #expect((error["message"] as? String)?.isEmpty == false)

                let post = try await client.send(method: .POST, path: "/metrics", body: ByteBuffer(string: String(repeating: "x", count: 100_000)))
                #expect(post.status == .methodNotAllowed)
                #expect(post.headers["Allow"] == ["GET, HEAD"])
                let postError = try #require(try post.jsonObject()["error"] as? [String: Any])
                #expect(postError["code"] as? String == "method_not_allowed")

                let delete = try await client.send(method: .DELETE, path: "/readyz")
                #expect(delete.status == .methodNotAllowed)

                // The connection survived the ignored body and the errors.
                #expect(try await client.send(path: "/healthz").status == .ok)
                await client.close()
            }
        }

        @Test("HEAD sends the GET head (with its Content-Length) and no body bytes; Connection: close is honoured")
        func head() async throws {
            try await withAdminServer { admin, group, _, _ in
                let request = "HEAD /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n"
                let reply = try await rawExchange(request, port: admin.localPort, group: group)
                let responses = reply.components(separatedBy: "HTTP/1.1 200 OK\r\n").filter { !$0.isEmpty }
                try #require(responses.count == 2, "two responses expected, got: \(reply)")
                #expect(responses[0].lowercased().contains("content-length: 15\r\n"))
                #expect(responses[0].hasSuffix("\r\n\r\n"), "the HEAD answer has no body")
                #expect(responses[1].lowercased().contains("connection: close\r\n"))
                #expect(responses[1].hasSuffix("\r\n\r\n{\"status\":\"ok\"}"))
            }
        }

        @Test("close() also closes kept-alive connections, and the listener stops accepting")
        func closeClosesConnections() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let admin = try await AdminServer.start(
                host: "127.0.0.1", port: 0, group: group, metrics: EdgeMetrics(), readiness: { .init(checks: []) }
            ).get()
            let port = admin.localPort
            #expect(port > 0)
            let client = try await TestHTTPSClient.connect(port: port, tls: nil, group: group)
            #expect(try await client.send(path: "/readyz").status == .ok)
            try await admin.close().get()
            try await client.channel.closeFuture.get()
            await #expect(throws: (any Error).self) {
                _ = try await TestHTTPSClient.connect(port: port, tls: nil, group: group)
            }
            try await admin.close().get()
            try await group.shutdownGracefully()
        }
    }
}

/// The readiness the test server reports; the test flips it while the server runs.
private final class ReadinessSwitch: Sendable {
    private let report = Mutex(ReadinessReport(checks: [.ok("ledger"), .ok("policy")]))
    func set(_ value: ReadinessReport) { report.withLock { $0 = value } }
    func current() -> ReadinessReport { report.withLock { $0 } }
}

/// Runs `body` against an admin server on 127.0.0.1 (port 0), then closes the server and its group.
private func withAdminServer(
    _ body: (AdminServer, MultiThreadedEventLoopGroup, EdgeMetrics, ReadinessSwitch) async throws -> Void
) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let metrics = EdgeMetrics()
    let readiness = ReadinessSwitch()
    let admin: AdminServer
    do {
        admin = try await AdminServer.start(
            host: "127.0.0.1", port: 0, group: group, metrics: metrics, readiness: { readiness.current() }
        ).get()
    } catch {
        try await group.shutdownGracefully()
        throw error
    }
    var failure: (any Error)?
    do { try await body(admin, group, metrics, readiness) } catch { failure = error }
    try await admin.close().get()
    try await group.shutdownGracefully()
    if let failure { throw failure }
}

/// Writes `request` verbatim on a new TCP connection and returns every byte received until the server closes.
private func rawExchange(_ request: String, port: Int, group: any EventLoopGroup) async throws -> String {
    let received = group.next().makePromise(of: ByteBuffer.self)
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCollector(done: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    } catch {
        received.fail(error)
        throw error
    }
    let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
    try await channel.writeAndFlush(ByteBuffer(string: request)).get()
    let bytes = try await received.futureResult.get()
    deadline.cancel()
    return String(buffer: bytes)
}

/// Keeps every byte a raw test connection receives and hands them over when the connection closes.
private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let done: EventLoopPromise<ByteBuffer>
    private var received = ByteBuffer()

    init(done: EventLoopPromise<ByteBuffer>) {
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ByteCollector: Sendable {}
