import EdgeProxy
import Foundation
import Logging
import NIOCore
import NIOSSL
import Policy

/// A real edge on loopback (TLS from a test CA) in front of a real stand-in Recraft/app upstream
/// (also TLS): the setup every end-to-end test starts from.
final class EdgeHarness: Sendable {
    let ca: TestCertificateAuthority
    let standIn: RecraftStandIn
    let edge: EdgeServer
    let policy: EdgePolicy
    static let recraftToken = "test-service-token-do-not-leak"

    var port: Int { edge.port }

    /// The repository's policies/default.yaml.
    static var defaultPolicyPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies/default.yaml").path
    }

    private init(ca: TestCertificateAuthority, standIn: RecraftStandIn, edge: EdgeServer, policy: EdgePolicy) {
        self.ca = ca
        self.standIn = standIn
        self.edge = edge
        self.policy = policy
    }

    /// Starts the stand-in and the edge. `adjust` may change the compiled default policy first.
    /// `recraftURL` overrides where the `recraft` upstream points (e.g. a closed port).
    static func start(
        recraftURL: String? = nil, adjust: (inout EdgePolicy) -> Void = { _ in }
    ) async throws -> EdgeHarness {
        let ca = try TestCertificateAuthority()
        let standIn = try await RecraftStandIn.start(.init(
            host: "127.0.0.1", port: 0, tlsCertificatePath: ca.leafCertificatePath, tlsKeyPath: ca.leafKeyPath))
        let upstreamURL = "https://localhost:\(standIn.port)"
        let environment = EdgeEnvironment(values: [
            "RECRAFT_API_URL": recraftURL ?? upstreamURL,
            "RECRAFT_API_TOKEN": recraftToken,
            "RECRAFT_CA_FILE": ca.caCertificatePath,
            "NEXT_PUBLIC_APP_URL": upstreamURL,
        ])
        var policy = try PolicyLoader.load(path: defaultPolicyPath, environment: environment)
        policy.server.eventLoops = 2
        adjust(&policy)
        var logger = Logger(label: "edge-test")
        logger.logLevel = .warning
        let edge = try await EdgeServer.start(EdgeServerConfiguration(
            policy: policy, environment: environment, host: "127.0.0.1", port: 0,
            certificatePath: ca.leafCertificatePath, keyPath: ca.leafKeyPath, logger: logger))
        return EdgeHarness(ca: ca, standIn: standIn, edge: edge, policy: policy)
    }

    /// A kept-alive HTTPS client to the edge.
    func client(receiveBufferBytes: Int? = nil) async throws -> TestHTTPSClient {
        try await TestHTTPSClient.connect(port: port, tls: ca.clientTLSConfiguration(), receiveBufferBytes: receiveBufferBytes)
    }

    /// A byte-level TLS client to the edge.
    func raw() async throws -> RawTLSClient {
        try await RawTLSClient.connect(port: port, tls: ca.clientTLSConfiguration())
    }

    func stop() async {
        await edge.close()
        try? await standIn.shutdown()
    }
}

/// Runs `body` with a started harness and always stops it.
func withEdge(
    recraftURL: String? = nil, adjust: (inout EdgePolicy) -> Void = { _ in },
    _ body: (EdgeHarness) async throws -> Void
) async throws {
    let harness = try await EdgeHarness.start(recraftURL: recraftURL, adjust: adjust)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}
