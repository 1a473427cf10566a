import ArgumentParser

/// The `edgeproxy` command line: thin wrappers over `EdgeProxy` and `Policy`.
@main
struct EdgeProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgeproxy",
        abstract: "Recraftor Edge: a metering, TLS-terminating reverse proxy for the Recraft image API.",
        subcommands: [ServeCommand.self, CheckCommand.self, StandInCommand.self] + ledgerSubcommands
    )
}
