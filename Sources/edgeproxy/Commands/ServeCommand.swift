import ArgumentParser
import EdgeProxy
import Logging
import Policy
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// `edgeproxy serve`: runs the TLS edge until SIGTERM/SIGINT, then drains and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the edge proxy (TLS listener, routing, streaming to upstreams).")

    @Option(name: .long, help: "Policy file (default: $EDGE_CONFIG or policies/default.yaml).")
    var config: String?

    func run() async throws {
        // A reader that closed stdout (the access log's pipe) must not kill the edge.
        signal(SIGPIPE, SIG_IGN)
        var environment = EdgeEnvironment.load()
        let logger = Logger(label: "edgeproxy")
        var services: [any Service] = []
        let metrics = EdgeMetrics()
        let accessLog: AccessLog
        do {
            accessLog = try AccessLog.fromEnvironment(environment["EDGE_ACCESS_LOG"])
        } catch {
            printError("EDGE_ACCESS_LOG: \(error)")
            throw ExitCode(2)
        }

        // Offline default: no Recraft credentials → a local stand-in plays Recraft (and the app).
        var standIn: RecraftStandIn? = nil
        if environment.recraftAPIToken == nil && environment.recraftAPIURL == nil {
            let started = try await RecraftStandIn.start(.init(host: "127.0.0.1", port: 0))
            environment.values["RECRAFT_API_URL"] = started.baseURL
            environment.values["RECRAFT_API_TOKEN"] = "offline-stand-in-token"
            if environment.appURL == nil { environment.values["NEXT_PUBLIC_APP_URL"] = started.baseURL }
            standIn = started
            print("""
            ┌──────────────────────────────────────────────────────────────────────────┐
            │ OFFLINE DEMO MODE: RECRAFT_API_TOKEN is not set.                         │
            │ Requests go to a local STAND-IN for Recraft at \(started.baseURL.padding(toLength: 26, withPad: " ", startingAt: 0))│
            │ Set RECRAFT_API_TOKEN (and optionally RECRAFT_API_URL) for the real API. │
            └──────────────────────────────────────────────────────────────────────────┘
            """)
        }

        let path = config ?? PolicyLoader.defaultPath(environment: environment)
        let policy: EdgePolicy
        do {
            policy = try PolicyLoader.load(path: path, environment: environment)
        } catch {
            printError("\(path): invalid policy: \(error)")
            throw ExitCode(2)
        }
        guard let listen = ListenAddress(environment.listen) else {
            printError("EDGE_LISTEN=\(environment.listen) is not host:port")
            throw ExitCode(2)
        }

        let certificatePath: String, keyPath: String
        switch (environment.tlsCertificatePath, environment.tlsKeyPath) {
        case (let cert?, let key?):
            (certificatePath, keyPath) = (cert, key)
        case (nil, nil):
            let files = try DevelopmentCertificate.ensure(in: environment.dataDirectory)
            (certificatePath, keyPath) = (files.certificatePath, files.keyPath)
            print("\(files.created ? "Created" : "Using") a self-signed development certificate: \(files.certificatePath)")
        default:
            printError("Set both EDGE_TLS_CERT and EDGE_TLS_KEY, or neither (a development certificate is then created).")
            throw ExitCode(2)
        }

        let ledger: Ledger
        do {
            ledger = try openLedger(directory: environment.dataDirectory, policy: policy, metrics: metrics)
        } catch {
            printError("Cannot open the ledger in \(environment.dataDirectory): \(error)")
            throw ExitCode(1)
        }
        if ledger.chargesReplayedAtOpen > 0 {
            print("Recovered from a power loss: the ledger reopened at its last checkpoint and \(ledger.chargesReplayedAtOpen) journaled charge(s) were applied again.")
        }
        if ledger.recoveredAtOpen.holds > 0 {
            print("Released \(ledger.recoveredAtOpen.holds) holds (\(ledger.recoveredAtOpen.tokens) tokens) left by \(ledger.recoveredAtOpen.processes) stopped process(es).")
        }
        let server: EdgeServer
        do {
            server = try await EdgeServer.start(EdgeServerConfiguration(
                policy: policy, environment: environment, host: listen.host, port: listen.port,
                certificatePath: certificatePath, keyPath: keyPath, logger: logger, ledger: ledger,
                metrics: metrics, accessLog: accessLog))
        } catch let error as PolicyError {
            printError("\(path): invalid policy: \(error)")
            throw ExitCode(2)
        } catch {
            printError("Cannot start the edge on \(environment.listen): \(error)")
            ledger.close()
            if let standIn { try? await standIn.shutdown() }
            throw ExitCode(1)
        }
        let shownHost = listen.host == "0.0.0.0" || listen.host == "::" ? "localhost" : listen.host
        print("Recraftor Edge listening on https://\(shownHost):\(server.port) (policy \(path))")
        let base = "https://\(shownHost):\(server.port)"
        print("Try: curl --cacert \(certificatePath) \(base)/healthz")
        if standIn != nil && !["0", "off", "false"].contains(environment.values["EDGE_DEMO"]?.lowercased() ?? "") {
            do {
                let demo = try prepareDemo(ledger)
                print("""

                Portal sign-in:  \(base)/auth/signin
                Demo user:       \(demo.email)   password: \(demo.password)
                Demo API key:    \(demo.apiKey)
                (a new password and key are issued on every offline start; set EDGE_DEMO=off to skip)
                A metered generation through the edge (4 tokens; then see /dashboard):
                  curl --cacert \(certificatePath) -H "Authorization: Bearer \(demo.apiKey)" \\
                       -H "Content-Type: application/json" -d '{"prompt":"a lighthouse at dusk"}' \\
                       \(base)/v1/images/generations
                """)
            } catch {
                printError("Could not prepare the demo account: \(error)")
            }
        }
        flushStandardOutput()
        services.append(EdgeService(server: server, grace: .milliseconds(Int64(policy.server.shutdownGraceSeconds * 1000))))

        // The operators' listener: /metrics, /healthz, /readyz (plain HTTP; keep it on loopback or a private network).
        var admin: (server: AdminServer, group: MultiThreadedEventLoopGroup)?
        if environment.adminListen.lowercased() != "off" {
            guard let address = ListenAddress(environment.adminListen) else {
                printError("EDGE_ADMIN_LISTEN=\(environment.adminListen) is not host:port (or off)")
                await server.close()
                throw ExitCode(2)
            }
            let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let policyPath = path
            do {
                let adminServer = try await AdminServer.start(
                    host: address.host, port: address.port, group: adminGroup, metrics: metrics,
                    readiness: { [server] in
                        ReadinessReport(checks: [
                            .ok("policy"),
                            !ledger.isOpen ? .failing("ledger", "closed")
                                : ledger.durabilityFault.map { .failing("ledger", "not durable: \($0.operation): \($0.message)") } ?? .ok("ledger"),
                            server.isDraining ? .failing("shutdown", "draining") : .ok("shutdown"),
                        ])
                    }).get()
                admin = (adminServer, adminGroup)
                print("Admin listener on http://\(address.host):\(adminServer.localPort) (/metrics, /healthz, /readyz; policy \(policyPath))")
            } catch {
                try? await adminGroup.shutdownGracefully()
                printError("Cannot listen on EDGE_ADMIN_LISTEN=\(environment.adminListen): \(error)")
                await server.close()
                throw ExitCode(1)
            }
        }

        var configured = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        configured.append(.init(service: LedgerMaintenanceService(ledger: ledger, interval: .seconds(600), logger: logger),
                                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        let group = ServiceGroup(configuration: .init(
            services: configured,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        if let admin {
            try? await admin.server.close().get()
            try? await admin.group.shutdownGracefully()
        }
        if let standIn { try? await standIn.shutdown() }
        ledger.close()
        print("Recraftor Edge stopped.")
    }
}

/// Creates or refreshes the offline demo account (blocking ledger calls, kept out of the async context).
private func prepareDemo(_ ledger: Ledger) throws -> DemoAccount {
    try DemoAccount.prepare(in: ledger)
}

/// Opens the ledger (a blocking call, kept out of the async context).
private func openLedger(directory: String, policy: EdgePolicy, metrics: EdgeMetrics) throws -> Ledger {
    // The same directory the `users`, `keys`, `tokens` and `ledger` commands use.
    try Ledger.open(directory: directory, settings: policy.ledger, plans: policy.plans,
                    options: LedgerOptions(onCommit: { mutations, nanoseconds in
                        metrics.ledgerBatchCommitted(size: mutations, commitNanoseconds: nanoseconds)
                    }, onJournalWrite: { metrics.ledgerJournalWritten(nanoseconds: $0) },
                    onCheckpoint: { metrics.ledgerCheckpointed(nanoseconds: $0) }))
}
