import EdgeProxy
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Policy
import Testing

/// A real edge on loopback (TLS from a test CA) in front of a real stand-in Recraft/app upstream
/// (also TLS): the setup every end-to-end test starts from.
final class EdgeHarness: Sendable {
    let ca: TestCertificateAuthority
    let standIn: RecraftStandIn
    let edge: EdgeServer
    let policy: EdgePolicy
    /// The real LMDB ledger the edge meters against, in a temporary directory.
    let ledger: Ledger
    let ledgerDirectory: String
    /// An API key of a well-funded default user, for tests about routing and streaming.
    let apiKey: String
    static let recraftToken = "test-service-token-do-not-leak"

    var port: Int { edge.port }

    /// The repository's policies/default.yaml.
    static var defaultPolicyPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("policies/default.yaml").path
    }

    private init(ca: TestCertificateAuthority, standIn: RecraftStandIn, edge: EdgeServer, policy: EdgePolicy,
                 ledger: Ledger, ledgerDirectory: String) {
        self.ca = ca
        self.standIn = standIn
        self.edge = edge
        self.policy = policy
        self.ledger = ledger
        self.ledgerDirectory = ledgerDirectory
        self.apiKey = (try? Self.makeDefaultKey(ledger)) ?? ""
    }

    private static func makeDefaultKey(_ ledger: Ledger) throws -> String {
        let user = try ledger.createUser(email: "default-user@example.com", plan: emptyPlan.name)
        _ = try ledger.grant(userId: user.id, amount: 1_000_000_000, reason: "test", actor: "test")
        return try ledger.createAPIKey(userId: user.id, name: "default").key
    }

    /// `Authorization: Bearer <the default user's key>` plus `extra`.
    func authorized(_ extra: HTTPHeaders = [:]) -> HTTPHeaders {
        var headers = extra
        headers.replaceOrAdd(name: "Authorization", value: "Bearer \(apiKey)")
        return headers
    }

    /// The default key's header line, for raw requests.
    var authorizationLine: String { "Authorization: Bearer \(apiKey)\r\n" }

    /// A plan with no monthly allocation, so tests set balances exactly with grants.
    static let emptyPlan = Plan(name: "metered_test", monthlyTokens: 0, rollover: false, rolloverCap: nil)

    /// Starts the stand-in and the edge. `adjust` may change the compiled default policy first.
    /// `recraftURL` overrides where the `recraft` upstream points (e.g. a closed port); `ledgerMapSizeMiB`
    /// sizes the durable ledger's map (a small one fills up for map-full tests).
    static func start(
        recraftURL: String? = nil, filters: FilterRegistry = .builtIn, metrics: EdgeMetrics = EdgeMetrics(),
        accessLog: AccessLog = .disabled, ledgerMapSizeMiB: Int = 64, adjust: (inout EdgePolicy) -> Void = { _ in }
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
        policy.plans.plans[emptyPlan.name] = emptyPlan
        adjust(&policy)
        let ledgerDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("edge-ledger-\(UInt64.random(in: 0...UInt64.max))").path
        let ledger = try openLedger(directory: ledgerDirectory, mapSizeMiB: ledgerMapSizeMiB, policy: policy)
        var logger = Logger(label: "edge-test")
        logger.logLevel = .warning
        let edge: EdgeServer
        do {
            edge = try await EdgeServer.start(EdgeServerConfiguration(
            policy: policy, environment: environment, host: "127.0.0.1", port: 0,
            certificatePath: ca.leafCertificatePath, keyPath: ca.leafKeyPath, logger: logger, ledger: ledger, filters: filters,
            metrics: metrics, accessLog: accessLog))
        } catch {
            try? await standIn.shutdown()
            ledger.close()
            try? FileManager.default.removeItem(atPath: ledgerDirectory)
            throw error
        }
        return EdgeHarness(ca: ca, standIn: standIn, edge: edge, policy: policy, ledger: ledger, ledgerDirectory: ledgerDirectory)
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
        ledger.close()
        try? FileManager.default.removeItem(atPath: ledgerDirectory)
    }

    /// A user on the empty plan holding exactly `tokens`, and an API key of theirs.
    func makeUser(_ email: String, tokens: Int64) throws -> (user: UserAccount, key: String) {
        let user = try ledger.createUser(email: email, plan: Self.emptyPlan.name)
        if tokens > 0 { _ = try ledger.grant(userId: user.id, amount: tokens, reason: "test", actor: "test") }
        let key = try ledger.createAPIKey(userId: user.id, name: "test").key
        return (user, key)
    }

    /// Revokes every API key of the user with this e-mail.
    func revokeKeys(of email: String) throws {
        let user = try #require(try ledger.user(email: email))
        for key in try ledger.apiKeys(userId: user.id) { _ = try ledger.revokeAPIKey(keyId: key.keyId) }
    }

    /// Signs the user in; returns the session cookie's value.
    func signIn(_ user: UserAccount) throws -> String {
        try ledger.createSession(userId: user.id).token
    }

    /// The user's balance and held tokens once open holds settled. A release after an upstream
    /// failure commits right after the error response is written (about a millisecond), so this
    /// waits up to two seconds for `held` to reach 0 before reporting.
    func balance(_ user: UserAccount) throws -> (balance: Int64, held: Int64) {
        let deadline = Date().addingTimeInterval(2)
        while true {
            let found = try ledger.balance(userId: user.id)
            let b = try #require(found)
            if b.held == 0 || Date() > deadline { return (b.balance, b.held) }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}

/// Runs `body` with a started harness and always stops it.
func withEdge(
    recraftURL: String? = nil, filters: FilterRegistry = .builtIn, metrics: EdgeMetrics = EdgeMetrics(),
    accessLog: AccessLog = .disabled, ledgerMapSizeMiB: Int = 64, adjust: (inout EdgePolicy) -> Void = { _ in },
    _ body: (EdgeHarness) async throws -> Void
) async throws {
    let harness = try await EdgeHarness.start(recraftURL: recraftURL, filters: filters, metrics: metrics, accessLog: accessLog,
                                              ledgerMapSizeMiB: ledgerMapSizeMiB, adjust: adjust)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}

/// Opens a ledger (blocking; kept out of async contexts).
private func openLedger(directory: String, mapSizeMiB: Int, policy: EdgePolicy) throws -> Ledger {
    try Ledger.open(directory: directory, settings: LedgerSettings(mapSizeMiB: mapSizeMiB, durable: true), plans: policy.plans)
}
